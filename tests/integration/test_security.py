"""Security of the HTTP API (issue 16): cross-site requests, foreign Host
names, slow clients, what /health tells a stranger, the browser headers."""
import http.client
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from harness import ARTIFACTS, BIN, StackCase


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


class Secrets(StackCase):
    """Secrets go only where they were given; file settings stay under
    their roots; export files are read only as themselves."""
    NAME = "security-secrets"
    EXTRACTORS = 1
    RECOMMENDER = False
    KEY = "k-" + "7f" * 16
    ROOT = tempfile.mkdtemp(prefix="vd-files-")
    ENV = {"VD_TEST_KEY": KEY, "VENDANGE_FILES_ROOT": ROOT}

    def api(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.stack.api + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def settings(self, name):
        return json.loads(self.pg.value("SELECT settings::text || '|' || "
                                        "array_to_string(secret_names, ',') FROM "
                                        "ops.connectors WHERE name = '%s'" % name)
                          .split("|")[0])

    def secret_names(self, name):
        return self.pg.value("SELECT array_to_string(secret_names, ',') FROM ops.connectors "
                             "WHERE name = '%s'" % name)

    def test_1_changing_where_secrets_go_drops_them(self):
        self.stack.cli("connector", "add", "erp", "--type", "odoo", "--set",
                       "url=https://odoo.example.fr", "--set", "database=cave", "--set",
                       "user=sync@cave.fr", "--set", "api_key=env:VD_TEST_KEY")
        for change in ({"url": "https://evil.example"}, {"database": "other"},
                       {"user": "someone@else.fr"}):
            status, body = self.api("PATCH", "/api/connectors/erp", {"settings": change})
            self.assertEqual(status, 400, body)
            self.assertIn("drops the connector's stored secrets", body)
            self.assertIn("api_key", body)
            self.assertNotIn(self.KEY, body)
        self.assertEqual(self.settings("erp")["url"], "https://odoo.example.fr")
        self.assertEqual(self.secret_names("erp"), "api_key")
        # another setting keeps the secret; the new url with the key again is taken
        status, body = self.api("PATCH", "/api/connectors/erp",
                                {"settings": {"page_size": 200}})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.secret_names("erp"), "api_key")
        status, body = self.api("PATCH", "/api/connectors/erp",
                                {"settings": {"url": "https://new.example", "api_key": "k2"}})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.settings("erp")["url"], "https://new.example")
        # a webhook connector's user takes its password with it
        self.stack.cli("connector", "add", "flows", "--type", "powerautomate", "--set",
                       "user=flow", "--set", "password=env:VD_TEST_KEY")
        status, body = self.api("PATCH", "/api/connectors/flows",
                                {"settings": {"user": "other"}})
        self.assertEqual(status, 400, body)
        self.assertIn("password", body)

    def test_2_plain_http_odoo_only_when_asked(self):
        base = ["connector", "add", "plain", "--type", "odoo", "--set",
                "url=http://odoo.lan:8069", "--set", "database=d", "--set", "user=u",
                "--set", "api_key=env:VD_TEST_KEY"]
        status, out, err = self.stack.cli(*base, check=False)
        self.assertNotEqual(status, 0)
        self.assertIn("in clear", out + err)
        self.assertIn("allow_insecure=true", out + err)
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.connectors WHERE "
                                       "name = 'plain'"), "0")
        self.stack.cli(*(base + ["--set", "allow_insecure=true"]))

    def test_3_no_literal_secret_on_the_command_line(self):
        for arg in ("token=" + self.KEY, "password=x"):
            status, out, err = self.stack.cli("connector", "add", "lit", "--type", "brevo",
                                              "--set", arg, check=False)
            self.assertNotEqual(status, 0)
            self.assertIn("never given on the command line", err)
            self.assertIn("=@FILE", err)
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.connectors WHERE "
                                       "name = 'lit'"), "0")

    def test_4_file_settings_stay_under_their_roots(self):
        key_file = os.path.join(self.stack.home, "secret.key")
        with open(key_file, "w") as f:
            f.write("0123456789abcdef" * 4 + "\n")
        os.chmod(key_file, 0o600)
        export = tempfile.mkdtemp(prefix="vd-export-")
        for args in (["connector", "add", "leak", "--type", "isavigne", "--set",
                      "export_path=" + export, "--set", "unit_table=" + key_file],
                     ["connector", "add", "leak", "--type", "isavigne", "--set",
                      "export_path=" + export, "--set",
                      "mapping=" + export + "/../" + os.path.basename(self.stack.home)
                      + "/secret.key"]):
            status, out, err = self.stack.cli(*args, check=False)
            self.assertNotEqual(status, 0)
            self.assertRegex(out + err, "(unit_table|mapping).*must name a file")
            self.assertNotIn("0123456789abcdef", out + err)
        # under the export folder or VENDANGE_FILES_ROOT: taken
        units = os.path.join(self.ROOT, "units.txt")
        with open(units, "w") as f:
            f.write("magnum = 2\n")
        self.stack.cli("connector", "add", "files", "--type", "isavigne", "--set",
                       "export_path=" + export, "--set", "unit_table=" + units)
        status, body = self.api("PATCH", "/api/connectors/files",
                                {"settings": {"unit_table": key_file}})
        self.assertEqual(status, 400, body)
        self.assertNotIn("0123456789abcdef", body)
        # a mapping stored before the rule is not read by GET /api/mapping
        self.pg.psql("UPDATE ops.connectors SET settings = settings || jsonb_build_object("
                     "'mapping', '%s') WHERE name = 'files'" % key_file)
        status, body = self.api("GET", "/api/mapping?connector=files")
        self.assertEqual(status, 403, body)
        self.assertNotIn("0123456789abcdef", body)

    def test_5_export_files_read_only_as_themselves(self):
        outside = tempfile.mkdtemp(prefix="vd-outside-")
        with open(os.path.join(outside, "clients.csv"), "w") as f:
            f.write("code_client;nom;prenom;email\nC1;Muller;Jean;jean@example.fr\n")
        export = tempfile.mkdtemp(prefix="vd-export-")
        os.symlink(os.path.join(outside, "clients.csv"), os.path.join(export, "clients.csv"))
        os.mkfifo(os.path.join(export, "ventes.csv"))
        with open(os.path.join(export, "produits.xlsx.csv"), "w") as f:  # a regular file
            f.write("article;produit;millesime;couleur;prix_ttc;contenance\n"
                    "SYL-2023;Sylvaner 2023;2023;Blanc;8,90;75 cl\n")
        self.stack.add_isavigne("linked", export)
        status, run = self.stack.sync("linked", timeout=120)
        files = {f["file"]: f for f in run["files"]}
        self.assertEqual(files["clients.csv"]["status"], "failed", run)
        self.assertIn("symbolic link", files["clients.csv"]["error"])
        self.assertEqual(files["ventes.csv"]["status"], "failed", run)
        self.assertIn("not a regular file", files["ventes.csv"]["error"])
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.customers"), "0")
        self.assertEqual(files["produits.xlsx.csv"]["status"], "loaded", run)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.product_catalog"), "1")
        _, out, _ = self.stack.cli("connector", "test", "linked", check=False)
        self.assertIn("symbolic link", out)

    def test_6_loose_secret_key_file_refused(self):
        path = os.path.join(self.stack.home, "loose.key")
        with open(path, "w") as f:
            f.write("ab" * 32 + "\n")
        os.chmod(path, 0o644)
        env = dict(self.stack.env, VENDANGE_SECRET_KEY="", VENDANGE_SECRET_KEY_FILE=path,
                   VENDANGE_HTTP_ADDR="127.0.0.1:1")
        out = subprocess.run([os.path.join(BIN, "orchestrator")], env=env, capture_output=True,
                             text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("readable by others", out.stderr)
        self.assertNotIn("ab" * 32, out.stderr)


class CanonicalWriter(StackCase):
    """Only the loader writes canonical.*, enforced by PostgreSQL: every
    other service works as the role vendange_service, which may read the
    canonical tables and write ops.* and reco.*, and nothing else."""
    NAME = "security-roles"
    EXTRACTORS = 0
    RECOMMENDER = True

    def as_service(self, sql):
        return self.pg.psql("BEGIN; SET LOCAL ROLE vendange_service; %s; ROLLBACK" % sql)

    def test_1_services_take_the_role_and_it_may_not_write_canonical_tables(self):
        self.stack.wait_ready(0)
        for name in ("orchestrator", "recommender"):
            with open(os.path.join(ARTIFACTS, "security-roles-%s.log" % name)) as f:
                self.assertNotIn("cannot take the database role", f.read(), name)
        self.assertEqual(self.pg.value("SELECT rolcanlogin FROM pg_roles"
                                       " WHERE rolname = 'vendange_service'"), "f")
        for sql in ("INSERT INTO canonical.customers (customer_key) VALUES ('isavigne-X')",
                    "UPDATE canonical.sales_lines SET customer_key = 'x'",
                    "DELETE FROM canonical.contact_history",
                    "TRUNCATE canonical.stock_levels"):
            with self.assertRaisesRegex(RuntimeError, "permission denied for table"):
                self.as_service(sql)
        # what the services do need stays allowed
        self.as_service("SELECT count(*) FROM canonical.sales_lines")
        self.as_service("INSERT INTO ops.loader_commands (kind) VALUES ('x')")
        self.as_service("DELETE FROM reco.recommendations")
        # the loader keeps the login role, which owns the tables
        self.assertEqual(self.pg.value("SELECT tableowner FROM pg_tables WHERE schemaname ="
                                       " 'canonical' AND tablename = 'customers'"), "postgres")
