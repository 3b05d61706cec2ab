"""Security of the HTTP API (issue 16): cross-site requests, foreign Host
names, slow clients, what /health tells a stranger, the browser headers."""
import http.client
import json
import socket
import time
import urllib.error
import urllib.request

from harness import StackCase


class HttpApi(StackCase):
    NAME = "security-http"
    EXTRACTORS = 0
    RECOMMENDER = False
    TOKEN = "tok-" + "s3" * 16
    ENV = {"VENDANGE_API_TOKEN": TOKEN, "VENDANGE_HTTP_REQUEST_TIMEOUT_S": "2",
           "VENDANGE_HTTP_CLIENT_CONNECTIONS": "4",
           "VENDANGE_ALLOWED_HOSTS": "vendange.example.org"}

    def request(self, method, path, body=None, headers=None, auth=True):
        """(status, headers, body text) of one request on a new connection."""
        host, port = self.stack.env["VENDANGE_HTTP_ADDR"].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        hdrs = dict(headers or {})
        if auth:
            hdrs.setdefault("Authorization", "Bearer " + self.TOKEN)
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        out = (r.status, dict(r.getheaders()), r.read().decode())
        conn.close()
        return out

    def runs(self):
        return int(self.pg.value("SELECT count(*) FROM ops.sync_runs"))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack.cli("connector", "add", "shop", "--type", "isavigne", "--set",
                      "export_path=/nonexistent")

    def test_1_cross_site_requests_change_nothing(self):
        before = self.runs()
        # a form or a "simple" fetch from another site: text/plain, credentials resent
        status, _, body = self.request("POST", "/api/connectors/shop/sync", body="{}",
                                       headers={"Content-Type": "text/plain",
                                                "Origin": "http://evil.example"})
        self.assertEqual(status, 403, body)
        self.assertIn("cross-origin", body)
        # the same without an Origin (an old browser, a form): the type alone refuses it
        status, _, body = self.request("POST", "/api/connectors/shop/sync", body="{}",
                                       headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 415, body)
        status, _, body = self.request("POST", "/api/forget", body='{"subject":"a@b.fr"}',
                                       headers={"Content-Type": "application/x-www-form-"
                                                                "urlencoded"})
        self.assertEqual(status, 415, body)
        status, _, _ = self.request("DELETE", "/api/connectors/shop")
        self.assertEqual(status, 415)
        self.assertEqual(self.runs(), before)
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.connectors"), "1")
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.forget_log"), "0")
        # the page's own requests pass: same origin, JSON
        status, _, body = self.request("POST", "/api/connectors/shop/sync", body="{}",
                                       headers={"Content-Type": "application/json",
                                                "Origin": "http://" +
                                                self.stack.env["VENDANGE_HTTP_ADDR"]})
        self.assertEqual(status, 202, body)
        self.assertEqual(self.runs(), before + 1)

    def test_2_foreign_host_refused(self):
        # DNS rebinding: evil.example resolved to this address
        status, _, body = self.request("GET", "/api/customers", headers={"Host": "evil.example"})
        self.assertEqual(status, 403, body)
        self.assertIn("host not allowed", body)
        self.assertNotIn("customers", body)
        status, _, _ = self.request("GET", "/api/status",
                                    headers={"Host": "vendange.example.org"})
        self.assertEqual(status, 200)
        status, _, _ = self.request("GET", "/api/status", headers={"Host": "localhost:1"})
        self.assertEqual(status, 200)

    def test_3_health_tells_a_stranger_only_ok(self):
        status, _, body = self.request("GET", "/health", auth=False)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "ok"})
        status, _, body = self.request("GET", "/health")
        self.assertEqual(status, 200)
        self.assertIn("schema_version", json.loads(body))

    def test_4_browser_headers(self):
        for path, auth in (("/", False), ("/api/status", True), ("/nope", True)):
            _, headers, _ = self.request("GET", path, auth=auth)
            self.assertIn("frame-ancestors 'none'", headers.get("Content-Security-Policy", ""),
                          path)
            self.assertIn("script-src 'self'", headers["Content-Security-Policy"])
            self.assertEqual(headers.get("X-Content-Type-Options"), "nosniff", path)
        _, headers, _ = self.request("GET", "/api/status", auth=False)  # a 401 too
        self.assertEqual(headers.get("X-Content-Type-Options"), "nosniff")

    def slow(self, source, head):
        """A connection from source that sends head and then nothing."""
        host, port = self.stack.env["VENDANGE_HTTP_ADDR"].split(":")
        s = socket.create_connection((host, int(port)), timeout=10, source_address=(source, 0))
        s.sendall(head)
        return s

    def test_5_authentication_before_the_body(self):
        s = self.slow("127.0.0.1", b"POST /api/connectors HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   b"Content-Type: application/json\r\n"
                                   b"Content-Length: 500000\r\n\r\n{")
        s.settimeout(1.5)  # well before the 2 s request deadline
        answer = s.recv(4096)
        s.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 401"), answer[:80])

    def test_6_slow_clients_do_not_hold_the_server(self):
        # more slow connections than the server has slots (64 before),
        # from another address than ours: headers never finished
        slow = []
        for _ in range(70):
            try:
                slow.append(self.slow("127.0.0.2", b"GET /api/status HTTP/1.1\r\nHost: x\r\n"))
            except OSError:
                pass
        trickle = self.slow("127.0.0.3", b"POST /api/forget HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                         b"Authorization: Bearer " + self.TOKEN.encode() +
                                         b"\r\nContent-Type: application/json\r\n"
                                         b"Content-Length: 100\r\n\r\n")
        time.sleep(0.3)
        started = time.time()
        status, _, _ = self.request("GET", "/api/status")  # another client is served
        self.assertEqual(status, 200)
        # the slow body is cut at its deadline (2 s), though it keeps sending
        closed = None
        trickle.settimeout(0.4)
        while time.time() - started < 8 and closed is None:
            try:
                trickle.sendall(b" ")
                if trickle.recv(4096) == b"":
                    closed = time.time() - started
            except socket.timeout:
                continue
            except OSError:
                closed = time.time() - started
        self.assertIsNotNone(closed, "a slow body held its connection for 8 s")
        self.assertLess(closed, 6)
        for s in slow:
            s.close()
        trickle.close()
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.forget_log"), "0")
