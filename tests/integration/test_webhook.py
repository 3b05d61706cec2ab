"""Webhook gateway: Brevo and Power Automate events through the real
gateway, normalizer and loader into PostgreSQL, exactly once, with the
loader, the database and the gateway itself failing on the way."""
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import tempfile
import time
import unittest

from harness import Postgres, Stack


def tok(email):
    """An email as event identities hold it: never in clear."""
    return "e-" + hashlib.blake2b(email.lower().encode(), digest_size=8).hexdigest()

TOKEN = "s3cret-token"
BASIC = "Basic " + base64.b64encode(b"flow:pw").decode()
CLIENTS = ("client_code;nom;prenom;email\r\n"
           "C0001;Muller;Jean;jean@example.fr\r\n"
           "C0002;Schmitt;Anne;anne@example.fr\r\n"
           "C0003;Weber;Paul;paul@example.fr\r\n"
           "C0004;Meyer;Marie;marie@example.fr\r\n"
           "C0005;Klein;Luc;luc@example.fr\r\n")
T0 = 1710495000  # 2024-03-15 09:30:00 UTC

ENV = {
    "VD_TEST_HOOK_TOKEN": TOKEN,
    "VD_TEST_HOOK_PASSWORD": "pw",
    "VENDANGE_WEBHOOK_IDLE_TIMEOUT_S": "2",
    "VENDANGE_WEBHOOK_REQUEST_TIMEOUT_S": "3",
    "VENDANGE_WEBHOOK_ACK_TIMEOUT_S": "2",
    "VENDANGE_WEBHOOK_RETRY_AFTER_S": "7",
    "VENDANGE_WEBHOOK_RUN_S": "6",
    "VENDANGE_WEBHOOK_MAX_BODY_KB": "64",
    "VENDANGE_BATCH_ROWS": "200",
}


def tx(event, email, n, **extra):
    """A Brevo transactional event (no camp_id)."""
    e = {"event": event, "email": email, "id": 4242, "date": "2024-03-15 10:30:00",
         "ts": T0 + 3600, "message-id": "<m%d@smtp-relay.mailin.fr>" % n, "ts_event": T0,
         "subject": "Vos vins de printemps", "ts_epoch": (T0 + n) * 1000 + 123,
         "sending_ip": "185.41.28.109", "tags": ["spring"]}
    e.update(extra)
    return e


def tx_key(e):
    status = {"request": "sent", "complaint": "spam"}.get(e["event"], e["event"])
    return "brevo-%s:%s:%d" % (status, e["message-id"], e["ts_epoch"])


def mk(event, email, ts, **extra):
    """A Brevo marketing event (camp_id)."""
    e = {"id": 4242, "camp_id": 12, "email": email, "campaign name": "Printemps 2024",
         "date_sent": "2024-03-15 10:00:00", "date_event": "2024-03-15 10:30:00",
         "event": event, "tag": "", "ts_sent": T0 - 1800, "ts_event": ts, "ts": ts + 3600}
    e.update(extra)
    return e


def pa(event_id, action, ts, **extra):
    e = {"event_id": event_id, "action": action, "timestamp": ts, "metadata": {"flow": "crm"}}
    e.update(extra)
    return e


class Webhook(unittest.TestCase):
    acked = 0       # events answered 2xx (each counted as extracted once)
    acked_keys = set()

    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()
        cls.stack = Stack(cls.pg, "webhook", env=ENV, gateway=True)
        s = cls.stack
        s.cli("connector", "add", "brevo_main", "--type", "brevo", "--set",
              "token=env:VD_TEST_HOOK_TOKEN")
        s.cli("connector", "add", "brevo_ip", "--type", "brevo", "--set",
              "token=env:VD_TEST_HOOK_TOKEN",
              "--set", "allow_ips=10.9.9.0/24")
        s.cli("connector", "add", "flows", "--type", "powerautomate", "--set", "user=flow",
              "--set", "password=env:VD_TEST_HOOK_PASSWORD")
        cls.export = tempfile.mkdtemp(prefix="vd-hook-export-")
        with open(os.path.join(cls.export, "clients.csv"), "w") as f:
            f.write(CLIENTS)
        s.add_isavigne("crm", cls.export)
        status, run = s.sync("crm")
        assert status == 0, run
        # the gateway answers once the orchestrator sent it the connectors
        deadline = time.time() + 20
        while time.time() < deadline and cls.health().get("connectors", -1) < 3:
            time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        bad = cls.stack.close()
        reports = cls.stack.sanitizer_reports()
        cls.pg.close()
        shutil.rmtree(cls.export, ignore_errors=True)
        assert not bad, bad
        assert not reports, reports

    # ---- helpers ----------------------------------------------------------

    @classmethod
    def request(cls, method, path, body=None, headers=None, timeout=30):
        host, port = cls.stack.env["VENDANGE_WEBHOOK_ADDR"].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        conn.request(method, path, body=data, headers=headers or {})
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        try:
            doc = json.loads(text)
        except ValueError:
            doc = {}
        return r.status, dict(r.getheaders()), doc

    @classmethod
    def health(cls):
        try:
            return cls.request("GET", "/health", timeout=5)[2]
        except OSError:
            return {}

    def post(self, path, events, auth="Bearer " + TOKEN, keys=()):
        """Posts events; counts them as acknowledged on a 2xx."""
        status, headers, doc = self.request("POST", path, events, {
            "Authorization": auth, "Content-Type": "application/json"})
        self.assertNotIn(status // 100, (3, 5), (status, doc))
        self.assertNotEqual(status, 202, doc)
        if status // 100 == 2:
            n = len(events) if isinstance(events, list) else 1
            type(self).acked += n
            type(self).acked_keys.update(keys)
        return status, headers, doc

    def wait(self, sql, want, timeout=40):
        deadline = time.time() + timeout
        got = None
        while time.time() < deadline:
            try:
                got = self.pg.value(sql)
            except RuntimeError:
                got = None  # the database is restarting
            if got == want:
                return
            time.sleep(0.2)
        self.fail("%s: want %r, got %r" % (sql, want, got))

    def row(self, key, cols="status, email, customer_key, channel, campaign, subject, "
                             "response_details, (date_contact AT TIME ZONE 'UTC')::text"):
        rows = self.pg.psql("SELECT %s FROM canonical.contact_history WHERE contact_key = '%s'"
                            % (cols, key.replace("'", "''")))
        self.assertEqual(len(rows), 1, key)
        return rows[0]

    def runs(self, name):
        # the API's own connection notices a database restart on its first query
        for _ in range(3):
            status, out, _ = self.stack.cli("runs", name, "--json", "--limit", "500", check=False)
            if status == 0:
                return json.loads(out)
            time.sleep(0.5)
        self.fail("vendange runs %s keeps failing" % name)

    def flags(self, code):
        return self.pg.psql("SELECT email_opt_out, email_invalid FROM canonical.customers "
                            "WHERE customer_key = 'isavigne-%s'" % code)[0]

    # ---- tests ------------------------------------------------------------

    def test_0_connector_test_names_the_gateway(self):
        status, out, _ = self.stack.cli("connector", "test", "brevo_main", check=False)
        self.assertEqual(status, 0, out)
        self.assertIn("events are received at /webhooks/brevo/brevo_main by extractor-webhook:",
                      out)
        self.assertNotIn(TOKEN, out)

    def test_1_every_event_type(self):
        n = 0
        batch = []
        for event in ("request", "delivered", "opened", "unique_opened", "proxy_open",
                      "unique_proxy_open", "click", "soft_bounce", "deferred", "blocked", "error"):
            n += 1
            batch.append(tx(event, "paul@example.fr", n, link="https://vins.example/p"))
        batch.append(tx("hard_bounce", "anne@example.fr", 20, reason="550 unknown user"))
        batch.append(tx("invalid_email", "ghost@nowhere.fr", 21))
        batch.append(tx("complaint", "marie@example.fr", 22))
        batch.append(tx("unsubscribed", "luc@example.fr", 23))
        batch.append(tx("teleported", "paul@example.fr", 24))
        keys = {tx_key(e) for e in batch}
        status, _, doc = self.post("/webhooks/brevo/brevo_main", batch, keys=keys)
        self.assertEqual((status, doc), (200, {"status": "stored", "events": 16}))
        market = [mk(ev, "paul@example.fr", T0 + 100 + i) for i, ev in enumerate(
            ("delivered", "opened", "click", "soft_bounced"))]
        market.append(mk("hard_bounced", "paul@example.fr", T0 + 200))
        market.append(mk("spam", "nobody@example.fr", T0 + 201))
        market.append({"id": 4242, "email": "paul@example.fr", "key": "k", "list_id": [3, 7],
                       "date": "2024-03-15 10:31:00", "event": "list_addition", "ts": T0 + 300})
        market.append({"id": 4242, "email": "paul@example.fr", "key": "k", "event":
                       "contact_updated", "content": [{"FIRSTNAME": "Paul"}],
                       "date": "2024-03-15 10:32:00", "ts": T0 + 301})
        market.append({"id": 4242, "email": "gone@example.fr", "key": "k",
                       "event": "contact_deleted", "date": "2024-03-15 10:33:00", "ts": T0 + 302})
        status, _, _ = self.post("/webhooks/brevo/brevo_main", market)
        self.assertEqual(status, 200)
        # jean: a resubscribe (later event time) arrives before the unsubscribe
        status, _, doc = self.post("/webhooks/powerautomate/flows", [pa(
            "pa-resub-1", "resubscribe", "2024-03-15T11:00:00.1234567Z", client_code="C0001")],
            auth=BASIC)
        self.assertEqual(status, 200, doc)
        status, _, _ = self.post("/webhooks/brevo/brevo_main",
                                 mk("unsubscribe", "Jean@Example.fr ", T0 + 400))
        self.assertEqual(status, 200)
        status, _, _ = self.post("/webhooks/powerautomate/flows", pa(
            "pa-click-1", "click", "2024-03-15T11:05:00.1234567+01:00", email="marie@example.fr",
            channel="web", campaign="Salon 2024", product_code="ries-res-2022"), auth=BASIC)
        self.assertEqual(status, 200)
        self.wait("SELECT count(*) FROM canonical.contact_history", "28")

        self.assertEqual(self.row("brevo-hard_bounce:<m20@smtp-relay.mailin.fr>:%d" % (
            (T0 + 20) * 1000 + 123)), ["hard_bounce", "anne@example.fr", "isavigne-C0002", "email",
                                      None, "Vos vins de printemps", "550 unknown user",
                                      "2024-03-15 09:30:20.123"])
        self.assertEqual(self.row("brevo-click:<m7@smtp-relay.mailin.fr>:%d" % (
            (T0 + 7) * 1000 + 123))[:7], ["click", "paul@example.fr", "isavigne-C0003", "email",
                                         None, "Vos vins de printemps", "https://vins.example/p"])
        self.assertEqual(self.row("brevo-sent:<m1@smtp-relay.mailin.fr>:%d" % (
            (T0 + 1) * 1000 + 123))[0], "sent")
        self.assertEqual(self.row("brevo-invalid_email:<m21@smtp-relay.mailin.fr>:%d" % (
            (T0 + 21) * 1000 + 123))[2], None)  # not a customer (yet)
        self.assertEqual(self.row("brevo-hard_bounce:12:%s:%d" % (tok("paul@example.fr"), T0 + 200)),
                         ["hard_bounce", "paul@example.fr", "isavigne-C0003", "email",
                          "Printemps 2024", None, None, "2024-03-15 09:33:20"])
        self.assertEqual(self.row("brevo-list_addition:%s:3,7:%d" % (tok("paul@example.fr"), T0 + 300))[:5],
                         ["list_addition", "paul@example.fr", "isavigne-C0003", "email", None])
        # a local Brevo date is read in VENDANGE_TIMEZONE (Paris, UTC+1 in March)
        self.assertEqual(self.row("brevo-contact_deleted:%s::%d" % (tok("gone@example.fr"), T0 + 302))[7],
                         "2024-03-15 09:33:00")
        self.assertEqual(self.row("powerautomate-pa-click-1"),
                         ["click", "marie@example.fr", "isavigne-C0004", "website", "Salon 2024",
                          None, None, "2024-03-15 10:05:00.123457"])
        self.assertEqual(self.row("powerautomate-pa-click-1", "product_key_suggested, "
                                  "payload->'metadata'->>'flow', source"),
                         ["RIES-RES-2022", "crm", "powerautomate"])
        self.assertEqual(self.row("powerautomate-pa-resub-1", "status, customer_key, email"),
                         ["resubscribe", "isavigne-C0001", None])
        # the payload is the event as received
        payload = json.loads(self.row("brevo-spam:12:%s:%d" % (tok("nobody@example.fr"), T0 + 201),
                                      "payload::text")[0])
        self.assertEqual(payload, mk("spam", "nobody@example.fr", T0 + 201))
        # an unknown type is stored as such, with a warning
        self.assertEqual(self.row("brevo-teleported:<m24@smtp-relay.mailin.fr>:%d" % (
            (T0 + 24) * 1000 + 123))[0], "teleported")
        self.assertEqual(self.pg.psql("SELECT count, example_values FROM ops.warning_summaries "
                                      "WHERE reason LIKE 'unknown Brevo event type%'"),
                         [["1", "{teleported}"]])
        # effects: in event-time order (jean's resubscribe is later than his unsubscribe)
        self.assertEqual(self.flags("C0001"), ["f", "f"])
        self.assertEqual(self.flags("C0002"), ["f", "t"])   # hard bounce
        self.assertEqual(self.flags("C0003"), ["f", "t"])   # marketing hard_bounced
        self.assertEqual(self.flags("C0004"), ["t", "f"])   # complaint
        self.assertEqual(self.flags("C0005"), ["t", "f"])   # unsubscribed

    def test_2_matched_when_the_customer_arrives(self):
        status, _, _ = self.post("/webhooks/brevo/brevo_main",
                                 mk("unsubscribe", "late@example.fr", T0 + 500))
        self.assertEqual(status, 200)
        key = "brevo-unsubscribed:12:%s:%d" % (tok("late@example.fr"), T0 + 500)
        self.wait("SELECT count(*) FROM canonical.contact_history WHERE contact_key = '%s'" % key,
                  "1")
        self.assertIsNone(self.row(key)[2])
        with open(os.path.join(self.export, "clients.csv"), "a") as f:
            f.write("C0009;Late;Lea;late@example.fr\r\n")
        status, run = self.stack.sync("crm")
        self.assertEqual(status, 0, run)
        self.assertEqual(self.row(key)[2], "isavigne-C0009")
        self.assertEqual(self.flags("C0009"), ["t", "f"])

    def test_3_redelivered_three_times_is_stored_once(self):
        event = tx("delivered", "paul@example.fr", 99)
        key = "brevo-delivered:<m99@smtp-relay.mailin.fr>:%d" % ((T0 + 99) * 1000 + 123)
        for _ in range(3):
            self.assertEqual(self.post("/webhooks/brevo/brevo_main", event, keys=[key])[0], 200)
        self.assertEqual(self.post("/webhooks/brevo/brevo_main", [event, event])[0], 200)
        time.sleep(3)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.contact_history "
                                       "WHERE contact_key = '%s'" % key), "1")

    def test_4_bad_requests_are_refused(self):
        base = "/webhooks/brevo/brevo_main"
        auth = {"Authorization": "Bearer " + TOKEN}
        st, hd, doc = self.request("POST", base, b"{\"event\": ", auth)
        self.assertEqual(st, 400)
        self.assertIn("invalid JSON", doc["error"])
        self.assertEqual(self.request("POST", base, b"[" * 200 + b"]" * 200, auth)[0], 400)
        self.assertEqual(self.request("POST", base, b"x" * (65 * 1024), auth)[0], 413)
        st, hd, doc = self.request("POST", base, tx("delivered", "a@b.fr", 1))
        self.assertEqual(st, 401)
        self.assertIn("WWW-Authenticate", hd)
        self.assertEqual(self.request("POST", base, tx("delivered", "a@b.fr", 1),
                                      {"Authorization": "Bearer wrong"})[0], 401)
        self.assertEqual(self.request("POST", "/webhooks/brevo/brevo_ip", tx("delivered", "a@b.fr", 1),
                                      auth)[0], 403)
        self.assertEqual(self.request("POST", "/webhooks/brevo/nope", {}, auth)[0], 404)
        self.assertEqual(self.request("POST", "/webhooks/brevo", {}, auth)[0], 404)  # two of them
        self.assertEqual(self.request("GET", base)[0], 405)
        st, hd, doc = self.request("POST", "/webhooks/powerautomate/flows",
                                   [pa("ok-1", "click", "2024-03-15T10:00:00Z", email="a@b.fr"),
                                    pa("bad-1", "click", "15/03/2024", email="a@b.fr")],
                                   {"Authorization": BASIC})
        self.assertEqual((st, doc.get("field"), doc.get("index")), (400, "timestamp", 1))
        st, hd, doc = self.request("POST", "/webhooks/powerautomate/flows",
                                   {"action": "click", "email": "a@b.fr"}, {"Authorization": BASIC})
        self.assertEqual((st, doc.get("field")), (400, "event_id"))
        # slow loris: headers never finished -> closed after the idle timeout
        host, port = self.stack.env["VENDANGE_WEBHOOK_ADDR"].split(":")
        loris = socket.create_connection((host, int(port)))
        loris.sendall(b"POST /webhooks/brevo/brevo_main HTTP/1.1\r\nHost: x\r\n")
        # a body trickled slower than the request timeout -> 408
        slow = socket.create_connection((host, int(port)))
        slow.sendall(("POST /webhooks/brevo/brevo_main HTTP/1.1\r\nHost: x\r\nAuthorization: "
                      "Bearer %s\r\nContent-Length: 50\r\n\r\n" % TOKEN).encode())
        start = time.time()
        answer = b""
        slow.settimeout(1.0)
        while time.time() - start < 15 and b"\r\n\r\n" not in answer:
            try:
                slow.sendall(b" ")
                answer += slow.recv(4096)
            except socket.timeout:
                pass
            except OSError:
                break
        self.assertIn(b" 408 ", answer.split(b"\r\n")[0] + b" ")
        # meanwhile the gateway keeps serving
        self.assertEqual(self.health()["status"], "ok")
        loris.settimeout(10)
        self.assertEqual(loris.recv(4096), b"")  # closed by the gateway
        loris.close()
        slow.close()
        self.assertEqual(self.post(base, tx("delivered", "paul@example.fr", 98))[0], 200)

    def test_5_loader_killed_then_database_stopped(self):
        base = "/webhooks/brevo/brevo_main"
        self.stack.kill("loader")
        keys = set()
        for i in range(20):
            evs = [mk("opened", "loader%d@example.net" % k, T0 + 1000) for k in (2 * i, 2 * i + 1)]
            keys |= {"brevo-opened:12:%s:%d" % (tok(e["email"]), T0 + 1000) for e in evs}
            self.assertEqual(self.post(base, evs, keys=keys)[0], 200)
        self.stack.start("loader")
        self.wait("SELECT count(*) FROM canonical.contact_history WHERE email LIKE 'loader%@example.net'",
                  "40")
        self.pg.stop()
        for i in range(20):
            evs = [mk("clicked", "db%d@example.net" % k, T0 + 2000) for k in (2 * i, 2 * i + 1)]
            self.assertEqual(self.post(base, evs, keys={
                "brevo-click:12:%s:%d" % (tok(e["email"]), T0 + 2000) for e in evs})[0], 200)
        time.sleep(2)
        self.pg.start()
        self.wait("SELECT count(*) FROM canonical.contact_history WHERE email LIKE 'db%@example.net'",
                  "40", timeout=60)

    def test_6_unwritable_spool_gets_429(self):
        incoming = os.path.join(self.stack.spool, "incoming")
        os.rename(incoming, incoming + ".off")
        with open(incoming, "w") as f:
            f.write("not a folder")
        try:
            for i in range(3):
                st, hd, doc = self.post("/webhooks/brevo/brevo_main",
                                        tx("delivered", "refused@example.fr", 300 + i))
                self.assertEqual(st, 429, doc)
                self.assertEqual(hd.get("Retry-After"), "7")
        finally:
            os.unlink(incoming)
            os.rename(incoming + ".off", incoming)
        self.assertEqual(self.post("/webhooks/brevo/brevo_main",
                                   tx("delivered", "accepted@example.fr", 310))[0], 200)
        self.wait("SELECT count(*) FROM canonical.contact_history WHERE email = "
                  "'accepted@example.fr'", "1")
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.contact_history WHERE "
                                       "email = 'refused@example.fr'"), "0")

    def test_7_gateway_killed_between_spool_and_commit(self):
        loader = self.stack.procs["loader"]
        loader.send_signal(signal.SIGSTOP)  # batches reach it but are not committed
        try:
            for i in range(10):
                evs = [mk("delivered", "kill%d@example.net" % k, T0 + 3000) for k in (2 * i, 2 * i + 1)]
                self.assertEqual(self.post("/webhooks/brevo/brevo_main", evs)[0], 200)
            time.sleep(1)
            self.stack.kill("extractor-webhook")
        finally:
            loader.send_signal(signal.SIGCONT)
        self.stack.start("extractor-webhook")
        self.wait("SELECT count(*) FROM canonical.contact_history WHERE email LIKE 'kill%@example.net'",
                  "20", timeout=60)

    def test_8_every_acknowledged_event_once_and_runs_balance(self):
        time.sleep(1)
        keys = self.pg.psql("SELECT contact_key FROM canonical.contact_history")
        stored = {k[0] for k in keys}
        self.assertEqual(len(stored), len(keys))
        self.assertFalse(self.acked_keys - stored, "acknowledged but not stored")
        # the webhook runs close one period after their last batch
        self.wait("SELECT count(*) FROM ops.sync_runs WHERE trigger = 'webhook' AND "
                  "status = 'running'", "0", timeout=40)
        runs = self.runs("brevo_main") + self.runs("flows")
        self.assertTrue(runs)
        extracted = inserted = 0
        for run in runs:
            self.assertEqual(run["status"], "success", run)
            for table, c in run["tables"].items():
                self.assertEqual(c["extracted"], c["inserted"] + c["updated"] + c["unchanged"]
                                 + c["rejected"], (run["id"], table, c))
                extracted += c["extracted"]
                inserted += c["inserted"]
        # each acknowledged event counted once, however often its batch was sent
        self.assertEqual(extracted, self.acked)
        self.assertEqual(inserted, len(stored))


if __name__ == "__main__":
    unittest.main()
