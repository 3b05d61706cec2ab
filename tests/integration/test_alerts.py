"""Alerts (issue 18): each rule opens once and resolves once, with one
e-mail (SMTP with STARTTLS and AUTH, a local sink) and one POST (a local
HTTP sink) each time, retried when the receiver fails, and nothing sent
again across an orchestrator restart. Channel secrets never show."""
import datetime
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import test_snapshot as snap
from harness import ARTIFACTS, SAMPLES, StackCase, copy_tree, free_port
from sinks import HttpSink, SmtpSink

SMTP_PASSWORD = "pw-Sm7p-s3cret"
HOOK_TOKEN = "tok-Hk-98765"


def self_signed(folder):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", "key.pem", "-out", "cert.pem", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   cwd=folder, check=True, capture_output=True)
    return os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")


class Alerts(StackCase):
    NAME = "alerts"
    RECOMMENDER = False
    GATEWAY = True  # the webhook side of connector_silent
    ENV = {"VENDANGE_ALERT_INTERVAL_S": "1", "VENDANGE_OUTBOX_RETRY_S": "1",
           "VD_TEST_SMTP_PASSWORD": SMTP_PASSWORD, "VD_TEST_FLOW_TOKEN": "flow-token",
           # the orchestrator reads the gateway's /health there (spool_full)
           "VENDANGE_WEBHOOK_ADDR": "127.0.0.1:%d" % free_port()}

    @classmethod
    def setUpClass(cls):
        cls.tls = tempfile.mkdtemp(prefix="vd-alert-tls-")
        cert, key = self_signed(cls.tls)
        cls.cert = cert
        cls.smtp = SmtpSink(cert=cert, key=key, user="vendange", password=SMTP_PASSWORD)
        cls.http = HttpSink()
        cls.ENV = dict(cls.ENV, VD_TEST_HOOK_URL="http://127.0.0.1:%d/hook?token=%s" % (
            cls.http.port, HOOK_TOKEN), VD_TEST_DIGEST_URL="http://127.0.0.1:%d/digest" % (
            cls.http.port))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.smtp.close()
        cls.http.close()
        shutil.rmtree(cls.tls, ignore_errors=True)

    # ---- helpers
    def line(self, event, rule, subject):
        return "[vendange] %s %s: %s" % ("ALERT" if event == "opened" else "resolved", rule,
                                          subject)

    def counts(self, event, rule, subject):
        line = self.line(event, rule, subject)
        return self.smtp.subjects().count(line), self.http.texts().count(line)

    def expect(self, event, rule, subject, timeout=40):
        """Waits for the notification, then a few more evaluations: exactly
        one e-mail and one POST."""
        deadline = time.time() + timeout
        while time.time() < deadline and self.counts(event, rule, subject) < (1, 1):
            time.sleep(0.2)
        time.sleep(3)
        self.assertEqual(self.counts(event, rule, subject), (1, 1),
                         "%s %s %s: mails %s posts %s" % (event, rule, subject,
                                                          self.smtp.subjects(), self.http.texts()))

    def open_subjects(self, rule):
        return [r[0] for r in self.pg.psql(
            "SELECT subject FROM ops.alerts WHERE rule = '%s' AND resolved_at IS NULL" % rule)]

    def cli(self, *args, check=True):
        return self.stack.cli(*args, check=check)

    # ---- tests
    def test_1_channels_and_test_button(self):
        status, _, err = self.cli("alerts", "channel", "add", "hook", "--type", "http", "--set",
                                  "url=http://127.0.0.1:1/x?token=literal", check=False)
        self.assertEqual(status, 1)
        self.assertIn("never given on the command line", err)
        self.cli("alerts", "channel", "add", "mail", "--type", "smtp",
                 "--set", "url=smtp://127.0.0.1:%d" % self.smtp.port, "--set", "user=vendange",
                 "--set", "password=env:VD_TEST_SMTP_PASSWORD", "--set", "from=vendange@domaine.fr",
                 "--set", "to=ops@domaine.fr, cave@domaine.fr", "--set", "ca_file=" + self.cert)
        self.cli("alerts", "channel", "add", "hook", "--type", "http",
                 "--set", "url=env:VD_TEST_HOOK_URL", "--set", "format=json")
        _, out, _ = self.cli("alerts", "test")
        self.assertIn("mail: delivered", out)
        self.assertIn("hook: delivered", out)
        # a digest channel gets one summary a day (00:00: due at once), no alert one by one
        self.cli("alerts", "channel", "add", "daily", "--type", "http",
                 "--set", "url=env:VD_TEST_DIGEST_URL", "--set", "digest=00:00")
        self.assertEqual(self.smtp.subjects(), ["[vendange] test notification"])
        deadline = time.time() + 20
        while time.time() < deadline and "/digest" not in self.http.paths:
            time.sleep(0.2)
        self.assertIn("[vendange] daily digest ", self.http.texts()[-1])
        sender, rcpts, msg = self.smtp.messages[0]
        self.assertEqual(sender, "<vendange@domaine.fr>")
        self.assertEqual(rcpts, ["<ops@domaine.fr>", "<cave@domaine.fr>"])
        self.assertEqual(self.http.paths[0], "/hook?token=" + HOOK_TOKEN)
        self.assertEqual(self.http.posts[0]["alert"]["kind"], "test")
        # secrets: names only in the API, sealed in the database
        channels = self.stack.get("/api/alerts/channels")
        text = json.dumps(channels)
        self.assertNotIn(SMTP_PASSWORD, text)
        self.assertNotIn(HOOK_TOKEN, text)
        self.assertEqual({c["name"]: c["secrets"] for c in channels},
                         {"daily": ["url"], "hook": ["url"], "mail": ["password"]})
        raw = self.pg.value("SELECT string_agg(encode(secrets, 'escape'), '') "
                            "FROM ops.alert_channels")
        self.assertNotIn(SMTP_PASSWORD, raw)
        self.assertNotIn(HOOK_TOKEN, raw)
        # a refused password is a dead delivery, said by the test command
        self.stack.env["VD_TEST_BAD"] = "wrong"
        self.cli("alerts", "channel", "add", "badmail", "--type", "smtp",
                 "--set", "url=smtp://127.0.0.1:%d" % self.smtp.port, "--set", "user=vendange",
                 "--set", "password=env:VD_TEST_BAD", "--set", "from=v@domaine.fr",
                 "--set", "to=ops@domaine.fr", "--set", "ca_file=" + self.cert)
        status, _, err = self.cli("alerts", "test", "badmail", check=False)
        self.assertEqual(status, 1, err)
        self.assertIn("badmail: delivery failed", err)
        self.cli("alerts", "channel", "remove", "badmail")
        self.assertGreaterEqual(self.smtp.auth_failures, 1)

    def test_2_failed_run_silent_connector_restart(self):
        folder = copy_tree(os.path.join(SAMPLES, "isavigne"))
        gone = folder + ".gone"
        os.rename(folder, gone)  # every run of it fails until it is back
        try:
            self.cli("connector", "add", "nightly", "--type", "isavigne",
                     "--set", "export_path=" + folder, "--set", "schedule=every 2s")
        except AssertionError:  # the folder must exist when the connector is added
            os.rename(gone, folder)
            self.stack.add_isavigne("nightly", folder, "schedule=every 2s")
            os.rename(folder, gone)
        self.expect("opened", "run_failed", "nightly")
        self.expect("opened", "connector_silent", "nightly")
        # history past VENDANGE_RETENTION_RUNS_DAYS (400) goes at the next start
        self.pg.psql("INSERT INTO ops.alerts (rule, subject, detail, opened_at, resolved_at)"
                     " VALUES ('run_failed', 'old', 'x', now() - interval '500 days',"
                     " now() - interval '499 days');"
                     "INSERT INTO ops.outbox (origin, target, idempotency_key, payload, status,"
                     " created_at) VALUES ('alert', 'mail', 'old:1', '{}', 'sent',"
                     " now() - interval '499 days')")
        # the orchestrator restarts with both open: nothing is sent again
        self.stack.kill("orchestrator", signal.SIGTERM)
        self.stack.start("orchestrator")
        self.stack.wait_ready(1)
        time.sleep(4)
        self.assertEqual(self.counts("opened", "run_failed", "nightly"), (1, 1))
        self.assertEqual(self.counts("opened", "connector_silent", "nightly"), (1, 1))
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.alerts WHERE subject = 'old'"),
                         "0")
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.outbox WHERE"
                                       " idempotency_key = 'old:1'"), "0")
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.alerts WHERE subject = 'nightly'"
                                       " AND resolved_at IS NULL"), "2")
        # the receiver fails once: the resolved POST is retried, sent once
        self.http.fail(1)
        os.rename(gone, folder)
        self.expect("resolved", "run_failed", "nightly")
        self.expect("resolved", "connector_silent", "nightly")
        self.assertGreaterEqual(self.http.refused, 1)
        self.assertEqual(self.pg.value(
            "SELECT count(*) FROM ops.outbox WHERE target = 'hook' AND origin = 'alert'"
            " AND status = 'sent' AND attempts = 2"), "1")
        self.cli("connector", "set", "nightly", "--set", "schedule=off")
        alerts = json.loads(self.cli("alerts", "list", "--all", "--json")[1])["alerts"]
        mine = [a for a in alerts if a["subject"] == "nightly"]
        self.assertEqual(sorted(a["rule"] for a in mine), ["connector_silent", "run_failed"])
        for a in mine:
            self.assertIsNotNone(a["resolved_at"])
            self.assertEqual(sorted((d["channel"], d["event"], d["status"])
                                    for d in a["deliveries"]),
                             [("hook", "opened", "sent"), ("hook", "resolved", "sent"),
                              ("mail", "opened", "sent"), ("mail", "resolved", "sent")])

    def test_3_reject_jump(self):
        folder = tempfile.mkdtemp(prefix="vd-alert-rj-")
        snap.write(folder, snap.CLIENTS, snap.SALES)
        self.stack.add_isavigne("rj", folder)
        self.cli("alerts", "set", "reject_jump", "--connector", "rj", "min_runs=1")
        self.assertEqual(self.stack.sync("rj")[1]["status"], "success")
        bad = ["S2;31/02/2026;Facture;FS9;1;PN-S;1;BT;20,00;20,00\r\n",
               "S2;30/02/2026;Facture;FS9;2;PN-S;1;BT;20,00;20,00\r\n"]
        snap.write(folder, snap.CLIENTS, snap.SALES + bad)
        status, run = self.stack.sync("rj")
        self.assertEqual(run["tables"]["sales_lines"]["rejected"], 2, run)
        self.expect("opened", "reject_jump", "rj")
        snap.write(folder, snap.CLIENTS, snap.SALES + [
            "S2;05/03/2026;Facture;FS10;1;PN-S;1;BT;20,00;20,00\r\n"])
        self.assertEqual(self.stack.sync("rj")[1]["status"], "success")
        self.expect("resolved", "reject_jump", "rj")
        shutil.rmtree(folder, ignore_errors=True)

    def test_4_snapshot_drop(self):
        folder = tempfile.mkdtemp(prefix="vd-alert-snap-")
        snap.write(folder, snap.CLIENTS, snap.SALES)
        self.stack.add_isavigne("snapdrop", folder, "full_snapshot=true")
        self.assertEqual(self.stack.sync("snapdrop")[1]["status"], "success")
        snap.write(folder, snap.CLIENTS, snap.SALES[:1])  # 3 of 4 sales lines gone
        status, run = self.stack.sync("snapdrop")
        self.assertEqual(run["tables"]["sales_lines"]["deleted"], 3, run)
        self.expect("opened", "snapshot_drop", "snapdrop/sales_lines")
        snap.write(folder, snap.CLIENTS, snap.SALES)
        self.assertEqual(self.stack.sync("snapdrop")[1]["status"], "success")
        self.expect("resolved", "snapshot_drop", "snapdrop/sales_lines")
        shutil.rmtree(folder, ignore_errors=True)

    def test_5_service_dead(self):
        self.cli("alerts", "set", "service_dead", "grace_s=1")
        instance = self.pg.value("SELECT instance FROM ops.services WHERE alive AND role = "
                                 "'extractor-isavigne'")
        self.stack.kill("extractor-isavigne-0")
        self.expect("opened", "service_dead", instance)
        self.stack.start("extractor-isavigne", "extractor-isavigne-0")  # restarted on its host
        self.expect("resolved", "service_dead", instance)

    def test_6_disk_odoo_key_spool(self):
        self.cli("alerts", "set", "disk_full", "percent=0")
        self.expect("opened", "disk_full", "disk")
        self.cli("alerts", "set", "disk_full", "percent=100")
        self.expect("resolved", "disk_full", "disk")
        self.stack.env["VD_TEST_ODOO_KEY"] = "k"
        self.cli("connector", "add", "erp", "--type", "odoo",
                 "--set", "url=http://127.0.0.1:1", "--set", "allow_insecure=true",
                 "--set", "database=d", "--set", "user=u", "--set", "api_key=env:VD_TEST_ODOO_KEY",
                 "--set", "api_key_created=2000-01-01")
        self.expect("opened", "odoo_key", "erp")
        today = datetime.date.today().isoformat()
        self.cli("connector", "set", "erp", "--set", "api_key_created=" + today)
        self.expect("resolved", "odoo_key", "erp")
        # the gateway's spool against its ceiling: 0 % is always reached
        self.cli("alerts", "set", "spool_full", "percent=0")
        self.expect("opened", "spool_full", "spool")
        self.cli("alerts", "set", "spool_full", "percent=100")
        self.expect("resolved", "spool_full", "spool")

    def test_7_webhook_silent(self):
        """A webhook connector without an event for webhook_hours (here
        0.003 h, 10.8 s) opens connector_silent; an event resolves it."""
        self.cli("alerts", "set", "connector_silent", "--connector", "flow",
                 "webhook_hours=0.003")
        self.cli("connector", "add", "flow", "--type", "powerautomate",
                 "--set", "token=env:VD_TEST_FLOW_TOKEN")
        self.expect("opened", "connector_silent", "flow")
        event = {"event_id": "alert-e1", "action": "click", "email": "a@domaine.fr",
                 "timestamp": "2026-03-15T10:30:00Z"}
        deadline = time.time() + 30
        while True:  # the gateway takes the connector once the orchestrator sent it
            req = urllib.request.Request(
                self.stack.webhook_url + "/webhooks/powerautomate/flow",
                data=json.dumps(event).encode(), method="POST",
                headers={"Authorization": "Bearer flow-token",
                         "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    if r.status // 100 == 2:
                        break
            except urllib.error.HTTPError as e:
                if time.time() > deadline:
                    raise AssertionError("the gateway refused the event: %d" % e.code)
            time.sleep(0.5)
        self.expect("resolved", "connector_silent", "flow")
        self.cli("alerts", "set", "connector_silent", "--connector", "flow", "webhook_hours=")

    def test_8_rules_metrics_and_logs(self):
        status, _, err = self.cli("alerts", "set", "reject_jump", "factor=abc", check=False)
        self.assertEqual(status, 1)
        self.assertIn("invalid value for reject_jump.factor", err)
        _, out, _ = self.cli("alerts", "rules")
        self.assertIn("reject_jump", out)
        self.assertIn("set for rj: {\"min_runs\":\"1\"}", out)
        with urllib.request.urlopen(self.stack.api + "/metrics", timeout=10) as r:
            metrics = r.read().decode()
        self.assertIn('vendange_alerts_opened_total{rule="run_failed"} 1', metrics)
        self.assertIn('vendange_alerts_open{rule="run_failed"} 0', metrics)
        self.assertIn('vendange_notifications{status="dead"}', metrics)
        # the digest channel: one summary a day, nothing else
        digests = [p for p, path in zip(self.http.posts, self.http.paths) if path == "/digest"]
        self.assertEqual(len(digests), len({d["alert"]["day"] for d in digests}), digests)
        self.assertTrue(all(d["alert"]["kind"] == "digest" for d in digests))
        # no secret in any log
        for path in glob.glob(os.path.join(ARTIFACTS, "alerts-*.log")):
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            self.assertNotIn(SMTP_PASSWORD, text, path)
            self.assertNotIn(HOOK_TOKEN, text, path)

    def test_9_layout_changed(self):
        """A sales export whose column mt_ht is renamed montant_ht is not
        loaded: the run is partial, the other files load, the alert names
        the column; accept-layout and the next sync load it."""
        folder = copy_tree(os.path.join(SAMPLES, "isavigne"))
        self.stack.add_isavigne("lay", folder)
        self.cli("alerts", "set", "run_failed", "--connector", "lay", "--off")
        status, run = self.stack.sync("lay")  # the first layout seen is accepted
        self.assertEqual(run["status"], "success", run)
        sales = self.pg.value("SELECT count(*) FROM canonical.sales_lines WHERE connector = 'lay'")
        path = os.path.join(folder, "ventes.csv")
        with open(path, "rb") as f:
            head, rest = f.read().split(b"\n", 1)
        self.assertIn(b";mt_ht;", head)
        last = rest.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
        new_line = last.replace(last.split(b";")[3], b"FA-LAYOUT-1", 1)
        with open(path, "wb") as f:
            f.write(head.replace(b";mt_ht;", b";Montant HT;") + b"\n" + rest.rstrip(b"\r\n")
                    + b"\r\n" + new_line + b"\r\n")
        with open(os.path.join(folder, "clients.csv"), "ab") as f:  # another file changes too
            f.write(b"\r\n")
        status, run = self.stack.sync("lay")
        self.assertEqual(run["status"], "partial", run)
        files = {f["file"]: f for f in self.stack.get("/api/runs/%d" % run["id"])["files"]}
        self.assertEqual(files["ventes.csv"]["status"], "layout_changed", files)
        self.assertEqual(files["ventes.csv"]["columns_missing"], ["mt_ht"])
        self.assertEqual(files["ventes.csv"]["columns_added"], ["montant_ht"])
        self.assertEqual(files["clients.csv"]["status"], "loaded", files)
        self.assertIn("mt_ht", json.dumps(run.get("errors")))
        self.assertEqual(self.pg.value(
            "SELECT count(*) FROM canonical.sales_lines WHERE connector = 'lay'"), sales)
        self.expect("opened", "layout_changed", "lay/ventes.csv")
        detail = self.pg.value("SELECT detail FROM ops.alerts WHERE rule = 'layout_changed'"
                               " AND subject = 'lay/ventes.csv'")
        self.assertIn("missing mt_ht", detail)
        self.assertIn("added montant_ht", detail)
        post = [p for p in self.http.posts if p["alert"].get("rule") == "layout_changed"]
        self.assertIn("mt_ht", post[0]["alert"]["detail"])
        # a sync again leaves it blocked, one alert still
        self.assertEqual(self.stack.sync("lay")[1]["status"], "partial")
        status, _, err = self.cli("connector", "accept-layout", "lay", "nope.csv", check=False)
        self.assertEqual(status, 1)
        self.assertIn("no column change", err)
        _, out, _ = self.cli("connector", "accept-layout", "lay", "ventes.csv")
        self.assertIn("added: montant_ht", out)
        self.assertIn("missing: mt_ht", out)
        self.expect("resolved", "layout_changed", "lay/ventes.csv")
        status, run = self.stack.sync("lay")
        self.assertEqual(run["status"], "success", run)
        files = {f["file"]: f for f in self.stack.get("/api/runs/%d" % run["id"])["files"]}
        self.assertEqual(files["ventes.csv"]["status"], "loaded", files)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines WHERE"
                                       " connector = 'lay' AND order_id = 'FA-LAYOUT-1'"), "1")
        # the price total, its column gone, is derived: never silently emptied
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines WHERE"
                                       " connector = 'lay' AND order_id = 'FA-LAYOUT-1'"
                                       " AND price_total IS NULL"), "0")
        self.assertEqual(self.counts("opened", "layout_changed", "lay/ventes.csv"), (1, 1))
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    import unittest
    unittest.main()
