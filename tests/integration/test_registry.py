"""The connector registry through the CLI and the API: add, list, show,
set, test, remove (--purge); secrets sealed and never shown; /metrics in
the Prometheus text format, matching ops.sync_runs."""
import json
import os
import re
import secrets
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

from harness import FIXTURES, SAMPLES, StackCase, pg_bindir

SAMPLE_NAME = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_prometheus(text):
    """A strict reader of the text exposition format 0.0.4: returns
    {family: type} and [(name, {label: value}, float)]. Raises on any line
    that does not follow the format."""
    types, samples = {}, []
    for line in text.split("\n"):
        if line == "":
            continue
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, "family declared twice: " + name
            types[name] = kind
            continue
        m = SAMPLE_NAME.match(line)
        assert m, "not a sample line: %r" % line
        name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
        base = re.sub(r'_(bucket|sum|count)$', '', name)
        assert name in types or (base in types and types[base] == "histogram"), \
            "sample before its TYPE: " + name
        labels, pos = {}, 0
        while pos < len(labels_text):
            lm = LABEL.match(labels_text, pos)
            assert lm, "bad labels in %r" % line
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        samples.append((name, labels, float(value)))
    return types, samples


class Registry(StackCase):
    NAME = "registry"
    SECRET = "sk-" + secrets.token_hex(16)
    ENV = {"VENDANGE_DISPATCH_TIMEOUT_S": "2", "VD_TEST_API_KEY": SECRET}

    def api(self, method, path, body=None):
        """(status, JSON answer) of an API call."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.stack.api + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode())

    def test_1_add_show_set_test_remove(self):
        folder = tempfile.mkdtemp(prefix="vd-reg-")
        for name in os.listdir(os.path.join(SAMPLES, "isavigne")):
            with open(os.path.join(SAMPLES, "isavigne", name), "rb") as src, \
                    open(os.path.join(folder, name), "wb") as dst:
                dst.write(src.read())
        self.stack.add_isavigne("shop", folder)
        _, out, _ = self.stack.cli("connector", "list")
        self.assertIn("shop", out)
        self.assertIn("export_path=" + folder, out)
        _, out, _ = self.stack.cli("connector", "show", "shop")
        self.assertIn("type       isavigne", out)
        self.assertIn("last run   none", out)
        # test: the extractor lists the folder
        status, out, _ = self.stack.cli("connector", "test", "shop", check=False)
        self.assertEqual(status, 0, out)
        self.assertIn("connector shop: ok: export folder %s: 4 export file(s)" % folder, out)
        self.assertIn("ok     file ventes.csv: sales_lines", out)
        # set: a setting changed, another removed, an unknown one refused
        _, out, _ = self.stack.cli("connector", "set", "shop", "--set", "encoding=windows-1252")
        self.assertIn("encoding=windows-1252", out)
        status, _, err = self.stack.cli("connector", "set", "shop", "--set", "colour=red",
                                        check=False)
        self.assertEqual(status, 1)
        self.assertIn('unknown setting "colour" for a isavigne connector', err)
        self.stack.cli("connector", "set", "shop", "--unset", "encoding")
        code, c = self.api("GET", "/api/connectors/shop")
        self.assertEqual((code, c["settings"]), (200, {"export_path": folder}))
        status, _, err = self.stack.cli("connector", "set", "shop", "--unset", "export_path",
                                        check=False)
        self.assertIn('setting "export_path" is required', err)
        # a folder that does not exist: test fails and says why
        self.stack.cli("connector", "set", "shop", "--set", "export_path=/nonexistent/exports")
        status, out, _ = self.stack.cli("connector", "test", "shop", check=False)
        self.assertEqual(status, 1, out)
        self.assertIn('export folder not found "/nonexistent/exports"', out)
        self.assertIn("hint: check the connector's export_path", out)
        # a folder holding no export file (a parent folder, say): the sync
        # fails and says so, with the file names the mapping takes
        parent = tempfile.mkdtemp(prefix="vd-noexport-")
        os.makedirs(os.path.join(parent, "export"))
        with open(os.path.join(parent, "notes.txt"), "w") as f:
            f.write("not an export\n")
        self.stack.cli("connector", "set", "shop", "--set", "export_path=" + parent)
        status, out, _ = self.stack.cli("sync", "shop", "--wait", check=False)
        self.assertEqual(status, 1, out)
        self.assertIn('no export file in "%s"' % parent, out)
        self.assertIn("hint: check export_path; file names the mapping takes: *produit* *client*"
                      " *stock* *vente*", out)
        # remove; a second remove is a clear 404
        self.stack.cli("connector", "remove", "shop")
        status, _, err = self.stack.cli("connector", "remove", "shop", check=False)
        self.assertEqual(status, 1)
        self.assertIn('no connector "shop"', err)

    def test_2_api_validation(self):
        code, answer = self.api("POST", "/api/connectors", {
            "name": "bad", "type": "isavigne", "settings": {"export_path": "/x", "nope": "1"}})
        self.assertEqual(code, 400)
        self.assertIn('unknown setting "nope"', answer["error"])
        code, answer = self.api("POST", "/api/connectors", {"name": "bad", "type": "isavigne",
                                                            "settings": {}})
        self.assertEqual(code, 400)
        self.assertIn('"export_path" is required', answer["error"])
        code, answer = self.api("POST", "/api/connectors", {"name": "b c", "type": "isavigne"})
        self.assertEqual((code, answer["error"]), (400, "invalid connector name"))
        code, answer = self.api("PATCH", "/api/connectors/ghost", {"settings": {}})
        self.assertEqual(code, 404)
        code, answer = self.api("POST", "/api/connectors/ghost/test")
        self.assertEqual(code, 404)
        code, answer = self.api("GET", "/api/tests/999999")
        self.assertEqual(code, 404)

    def test_3_secrets_never_shown(self):
        self.stack.cli("connector", "add", "erp", "--type", "odoo",
                       "--set", "url=https://odoo.example.fr", "--set", "database=cave",
                       "--set", "user=sync@cave.fr", "--set", "api_key=env:VD_TEST_API_KEY")
        outputs = [self.stack.cli("connector", "list")[1],
                   self.stack.cli("connector", "list", "--json")[1],
                   self.stack.cli("connector", "show", "erp")[1],
                   self.stack.cli("connector", "show", "erp", "--json")[1],
                   self.stack.cli("status", "--json")[1]]
        self.assertIn("api_key=***", outputs[0])
        code, c = self.api("GET", "/api/connectors/erp")
        self.assertEqual(c["secrets"], ["api_key"])
        outputs.append(json.dumps(c))
        # no Odoo extractor here: the test fails with the reason, no secret
        status, out, err = self.stack.cli("connector", "test", "erp", check=False)
        self.assertEqual(status, 1, out)
        self.assertIn("no extractor of type odoo is connected", out)
        outputs += [out, err]
        # the secret can be changed; the new value is sealed too
        self.stack.cli("connector", "set", "erp", "--set", "api_key=env:VD_TEST_API_KEY",
                       "--set", "page_size=500")
        _, out, _ = self.stack.cli("connector", "show", "erp")
        self.assertIn("page_size=500", out)
        outputs.append(out)
        for path in ("/api/connectors", "/api/status", "/metrics"):
            with urllib.request.urlopen(self.stack.api + path, timeout=10) as r:
                outputs.append(r.read().decode())
        for text in outputs:
            self.assertNotIn(self.SECRET, text)
        for log in self.stack.logs:
            with open(log, encoding="utf-8", errors="replace") as f:
                self.assertNotIn(self.SECRET, f.read(), log)
        dump = subprocess.run([os.path.join(pg_bindir(), "pg_dump"), "-h", self.pg.dir, "-p",
                               str(self.pg.port), "-U", "postgres", "vendange"],
                              capture_output=True, check=True).stdout
        self.assertIn(b"ops.connectors", dump)
        self.assertNotIn(self.SECRET.encode(), dump)
        self.assertNotIn(self.SECRET.encode().hex().encode(), dump)
        self.stack.cli("connector", "remove", "erp")

    def test_3b_webhook_connector(self):
        self.stack.cli("connector", "add", "mails", "--type", "brevo",
                       "--set", "token=env:VD_TEST_API_KEY")
        status, _, err = self.stack.cli("sync", "mails", check=False)
        self.assertEqual(status, 1)
        self.assertIn("a webhook connector has nothing to sync", err)
        # no gateway in this stack: the test says so
        status, out, _ = self.stack.cli("connector", "test", "mails", check=False)
        self.assertEqual(status, 1, out)
        self.assertIn("no webhook gateway (extractor-webhook) is connected", out)
        self.assertNotIn(self.SECRET, out)
        self.stack.cli("connector", "remove", "mails")

    def test_4_remove_purge(self):
        self.stack.add_isavigne("alpha", os.path.join(SAMPLES, "isavigne"))
        self.stack.add_isavigne("beta", os.path.join(FIXTURES, "dialect_b"))
        self.assertEqual(self.stack.sync("alpha")[1]["status"], "success")
        self.assertEqual(self.stack.sync("beta")[1]["status"], "success")
        counts = dict(self.pg.psql("SELECT connector, count(*) FROM canonical.sales_lines "
                                   "GROUP BY 1"))
        self.assertEqual(counts, {"alpha": "299", "beta": "10"})
        _, out, _ = self.stack.cli("connector", "remove", "beta", "--purge")
        self.assertIn("sales_lines 10", out)
        self.assertEqual(self.pg.psql("SELECT connector, count(*) FROM canonical.sales_lines "
                                      "GROUP BY 1"), [["alpha", "299"]])
        for table in ("customers", "product_catalog", "stock_levels"):
            self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.%s WHERE connector "
                                           "<> 'alpha'" % table), "0", table)
        # aggregates agree with the sales left, for every customer
        self.assertEqual(self.pg.value(
            "SELECT count(*) FROM canonical.customers c LEFT JOIN (SELECT customer_key, "
            "sum(price_total) s FROM canonical.sales_lines GROUP BY 1) x USING (customer_key) "
            "WHERE c.total_spent IS DISTINCT FROM coalesce(x.s, 0)"), "0")
        # remove without --purge keeps the rows
        self.stack.cli("connector", "remove", "alpha")
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines"), "299")

    def test_5_metrics(self):
        self.stack.add_isavigne("gamma", os.path.join(SAMPLES, "isavigne"))
        self.stack.sync("gamma")
        with urllib.request.urlopen(self.stack.api + "/metrics", timeout=10) as r:
            self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            types, samples = parse_prometheus(r.read().decode())
        self.assertEqual(types["vendange_run_duration_seconds"], "histogram")
        runs = {(l["connector"], l["status"]): v for n, l, v in samples if n == "vendange_runs"}
        expected = {(c, s): float(n) for c, s, n in self.pg.psql(
            "SELECT connector, status, count(*) FROM ops.sync_runs GROUP BY 1, 2")}
        self.assertEqual(runs, expected)
        records = {(l["table"], l["outcome"]): v for n, l, v in samples
                   if n == "vendange_records_total"}
        for table, inserted, rejected in self.pg.psql(
                "SELECT table_name, sum(inserted), sum(rejected) FROM ops.run_tables GROUP BY 1"):
            self.assertEqual(records[(table, "inserted")], float(inserted))
            self.assertEqual(records[(table, "rejected")], float(rejected))
        count = {l["connector"]: v for n, l, v in samples
                 if n == "vendange_run_duration_seconds_count"}
        finished = dict(self.pg.psql("SELECT connector, count(*) FROM ops.sync_runs WHERE "
                                     "finished_at IS NOT NULL AND started_at IS NOT NULL "
                                     "GROUP BY 1"))
        self.assertEqual(count, {c: float(n) for c, n in finished.items()})
        inf = {l["connector"]: v for n, l, v in samples
               if n == "vendange_run_duration_seconds_bucket" and l["le"] == "+Inf"}
        self.assertEqual(inf, count)
        alive = {l["role"]: v for n, l, v in samples if n == "vendange_services_alive"}
        self.assertEqual(alive.get("loader"), 1.0)
        self.assertEqual(alive.get("extractor-isavigne"), 1.0)
        queue = {l["queue"]: v for n, l, v in samples if n == "vendange_queue_depth"}
        self.assertEqual(queue["runs_running"], 0.0)
        # a malformed exposition is refused by the parser (it is strict)
        with self.assertRaises(AssertionError):
            parse_prometheus("vendange_runs{connector=\"x} 1\n")


if __name__ == "__main__":
    unittest.main()
