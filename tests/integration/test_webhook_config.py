"""A webhook connector is ready when `connector add` returns (issue 15,
point 6): the API answers once every live gateway has applied the new
configuration, so a sender posting right after never gets a 404 (Brevo
drops a webhook on a 404); a gateway that does not confirm within the
timeout is named."""
import http.client
import json
import signal
import time

from harness import StackCase

TOKEN = "cfg-token-1"


class WebhookConfig(StackCase):
    NAME = "webhook-config"
    GATEWAY = True
    RECOMMENDER = False
    # a stopped gateway must stay "alive" longer than the 5 s wait
    ENV = {"VENDANGE_DEAD_AFTER_S": "30"}

    def post(self, name, token=TOKEN):
        host, port = self.stack.env["VENDANGE_WEBHOOK_ADDR"].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        event = {"event": "delivered", "email": "a@example.fr", "ts_epoch": 1764000000000,
                 "message-id": "<m-%s@x>" % name, "ts_event": 1764000000, "ts": 1764000000}
        conn.request("POST", "/webhooks/brevo/" + name, body=json.dumps(event).encode(),
                     headers={"Authorization": "Bearer " + token,
                              "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        conn.close()
        return r.status

    def test_1_ready_when_add_returns(self):
        self.stack.env.update(VD_TEST_TOKEN=TOKEN, VD_TEST_TOKEN_2="cfg-token-2")
        for i in range(6):
            name = "hook%d" % i
            started = time.time()
            _, _, err = self.stack.cli("connector", "add", name, "--type", "brevo", "--set",
                                       "token=env:VD_TEST_TOKEN")
            self.assertNotIn("warning", err)
            self.assertLess(time.time() - started, 5)
            self.assertEqual(self.post(name), 200, name)
        # a new token is in force when `connector set` returns
        self.stack.cli("connector", "set", "hook0", "--set", "token=env:VD_TEST_TOKEN_2")
        self.assertEqual(self.post("hook0", "cfg-token-2"), 200)

    def test_2_a_lagging_gateway_is_named(self):
        gateway = self.stack.procs["extractor-webhook"]
        gateway.send_signal(signal.SIGSTOP)
        try:
            started = time.time()
            status, answer = self.stack.api_call(
                "POST", "/api/connectors",
                {"name": "late", "type": "brevo", "settings": {"token": TOKEN}})
            waited = time.time() - started
        finally:
            gateway.send_signal(signal.SIGCONT)
        self.assertEqual(status, 201, answer)
        self.assertGreaterEqual(waited, 4.5)
        self.assertEqual(len(answer["gateways_lagging"]), 1, answer)
        self.assertTrue(answer["gateways_lagging"][0].startswith("extractor-webhook:"), answer)
        self.assertIn("did not confirm", answer["warning"])
        # once it runs again it catches up
        deadline = time.time() + 10
        while time.time() < deadline and self.post("late") != 200:
            time.sleep(0.2)
        self.assertEqual(self.post("late"), 200)
