"""Data lifecycle: `vendange forget` erases a person everywhere (a dump of
the database and every log holds them nowhere) while their sales still
count in product figures; retention erases old raw content."""
import http.client
import json
import os
import signal
import subprocess
import time
import unittest

from harness import SAMPLES, Postgres, Stack, StackCase, pg_bindir

# customers of samples/isavigne: C0005 has a rejected sales line (invalid
# date, ventes.csv:136); C0017's invalid email is a warning's raw value
EMAIL = "isabellelorentz75@gmail.com"
MOBILE = "0624678486"


class Lifecycle(StackCase):
    NAME = "lifecycle"

    def dump(self):
        return subprocess.run([os.path.join(pg_bindir(), "pg_dump"), "-h", self.pg.dir, "-p",
                               str(self.pg.port), "-U", "postgres", "vendange"],
                              capture_output=True, check=True).stdout.decode("utf-8")

    def product_figures(self):
        return self.pg.psql("SELECT product_key, count(*), sum(quantity_units), sum(price_total) "
                            "FROM canonical.sales_lines GROUP BY 1 ORDER BY 1")

    def test_1_forget(self):
        self.stack.add_isavigne("demo", os.path.join(SAMPLES, "isavigne"))
        status, run = self.stack.sync("demo")
        self.assertEqual(run["status"], "success")
        before = self.product_figures()
        dump = self.dump()
        for value in (EMAIL, "Lorentz", MOBILE, "jean.muller@@orange.fr"):
            self.assertIn(value, dump)
        _, out, _ = self.stack.cli("forget", EMAIL)
        self.assertIn("1 customer row(s) erased, 4 sales line(s) kept under forgotten-1", out)
        self.assertIn("1 reject(s)", out)
        _, out, _ = self.stack.cli("forget", "isavigne-C0017")
        self.assertIn("1 customer row(s) erased, 3 sales line(s) kept under forgotten-2", out)
        self.assertIn("1 warning(s) cleared", out)
        dump = self.dump()
        for value in (EMAIL, "Lorentz", MOBILE, "06 24 67 84 86",
                      "jean.muller@@orange.fr", "isavigne-C0005", "isavigne-C0017"):
            self.assertNotIn(value, dump)
        for log in self.stack.logs:
            with open(log, encoding="utf-8", errors="replace") as f:
                text = f.read()
            self.assertNotIn(EMAIL, text, log)
            self.assertNotIn("jean.muller@@orange.fr", text, log)
        # product-level figures unchanged; the sales under anonymous keys
        self.assertEqual(self.product_figures(), before)
        self.assertEqual(self.pg.psql("SELECT customer_key, count(*) FROM canonical.sales_lines "
                                      "WHERE customer_key LIKE 'forgotten-%' GROUP BY 1 ORDER BY 1"),
                         [["forgotten-1", "4"], ["forgotten-2", "3"]])
        # the log keeps counts, not values
        self.assertEqual(self.pg.psql("SELECT id, customers, sales_lines, rejects, warnings FROM "
                                      "ops.forget_log ORDER BY id"),
                         [["1", "1", "4", "1", "0"], ["2", "1", "3", "0", "1"]])
        # other customers untouched
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.customers"), "58")
        # a subject nobody matches is done, and says so with zeros
        _, out, _ = self.stack.cli("forget", "nobody@example.org")
        self.assertIn("0 customer row(s) erased", out)
        status, _, err = self.stack.cli("forget", "x", check=False)
        self.assertEqual(status, 1)
        self.assertIn("must be an email or a customer key", err)

    def test_2_a_command_the_loader_refuses(self):
        """A command the loader cannot run fails with its reason (in its
        own transaction: what it wrote is rolled back) and the queue goes
        on; the arguments are not kept."""
        before = self.pg.value("SELECT coalesce(max(id), 0) FROM ops.loader_commands")
        self.pg.psql("INSERT INTO ops.loader_commands (kind, args) VALUES"
                     " ('drop_everything', '{\"x\": 1}'), ('retain_payloads', '{\"days\": 0}'),"
                     " ('retain_payloads', '{\"days\": 30}')")
        sql = ("SELECT kind, status, coalesce(error, result::text), args::text"
               " FROM ops.loader_commands WHERE id > %s ORDER BY id" % before)
        want = [["drop_everything", "failed", 'unknown command "drop_everything"', "{}"],
                ["retain_payloads", "failed", 'retain_payloads: "days" must be > 0', "{}"],
                ["retain_payloads", "done", '{"rows": 0}', "{}"]]
        deadline = time.time() + 20
        while time.time() < deadline and self.pg.psql(sql) != want:
            time.sleep(0.2)
        self.assertEqual(self.pg.psql(sql), want)

    def test_3_what_followed_a_recommendation(self):
        """The recommender queues what followed its recommendations; the
        loader writes them as contact events, once per pair and response."""
        key = self.pg.value("SELECT customer_key FROM canonical.customers ORDER BY 1 LIMIT 1")
        email = self.pg.value("SELECT email FROM canonical.customers WHERE customer_key = '%s'"
                              % key)
        pairs = ('{"pairs": [{"customer": "%s", "product": "P1", "followed": "click",'
                 ' "at": "2026-11-02T10:00:00+00:00", "detail": "campaign c1"}]}' % key)
        for _ in range(2):
            self.pg.psql("INSERT INTO ops.loader_commands (kind, args) VALUES"
                         " ('reco_followed', '%s')" % pairs)
        sql = ("SELECT contact_key, source, customer_key, email, channel, response,"
               " response_details, date_contact = '2026-11-02T10:00:00+00:00'"
               " FROM canonical.contact_history WHERE source = 'vendange'")
        want = [["vendange:%s:P1:click" % key, "vendange", key, email, "email", "click",
                 "campaign c1", "t"]]
        done = "SELECT count(*) FROM ops.loader_commands WHERE kind = 'reco_followed' AND" \
               " status = 'done'"
        deadline = time.time() + 20
        while time.time() < deadline and self.pg.value(done) != "2":
            time.sleep(0.2)
        self.assertEqual(self.pg.psql(sql), want)


    def test_4_odoo_lines_without_a_product(self):
        """Odoo lines without a product (sections, notes) an older version
        loaded: the migration queues their removal, the loader runs it and
        brings their customer's aggregates back (schema step 13's
        canonical part, the loader's since only it writes canonical.*)."""
        key = self.pg.value("SELECT customer_key FROM canonical.customers ORDER BY 1 LIMIT 1")
        before = self.pg.value("SELECT purchase_count FROM canonical.customers"
                               " WHERE customer_key = '%s'" % key)
        self.pg.psql("INSERT INTO canonical.sales_lines (sale_line_key, source, customer_key,"
                     " order_id, document_type, date_sale, quantity_units, price_total)"
                     " VALUES ('odoo-note-1', 'odoo', '%s', 'SO-NOTE', 'facture', '2026-01-05',"
                     " 1, 999), ('odoo-note-2', 'odoo', '%s', 'SO-NOTE', 'facture',"
                     " '2026-01-05', 1, 1)" % (key, key))
        # what the migration step queues on a database that holds such lines
        self.pg.psql("INSERT INTO ops.loader_commands (kind) VALUES"
                     " ('drop_productless_odoo_lines')")
        sql = ("SELECT status, coalesce(error, result::text) FROM ops.loader_commands"
               " WHERE kind = 'drop_productless_odoo_lines'")
        deadline = time.time() + 20
        while time.time() < deadline and self.pg.psql(sql) != [["done", '{"lines": 2}']]:
            time.sleep(0.2)
        self.assertEqual(self.pg.psql(sql), [["done", '{"lines": 2}']])
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines"
                                       " WHERE order_id = 'SO-NOTE'"), "0")
        self.assertEqual(self.pg.value("SELECT purchase_count FROM canonical.customers"
                                       " WHERE customer_key = '%s'" % key), before)


class ForgetInFlight(unittest.TestCase):
    """Events of the person still in the webhook gateway's spool when they
    are forgotten reach the table without their email or payload; nothing
    in the database, the spool or a log keeps the address."""
    TOKEN = "forget-token-1"
    EMAIL = "anne.kieffer@example.fr"

    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()
        cls.stack = Stack(cls.pg, "forgetflight", gateway=True,
                          env={"VENDANGE_WEBHOOK_ACK_TIMEOUT_S": "2", "VENDANGE_COMMAND_WAIT_S": "2",
                               "VD_TEST_HOOK_TOKEN": cls.TOKEN})
        cls.stack.cli("connector", "add", "mails", "--type", "brevo",
                      "--set", "token=env:VD_TEST_HOOK_TOKEN")

    @classmethod
    def tearDownClass(cls):
        bad = cls.stack.close()
        reports = cls.stack.sanitizer_reports()
        cls.pg.close()
        assert not bad, bad
        assert not reports, reports

    def post(self, event):
        host, port = self.stack.env["VENDANGE_WEBHOOK_ADDR"].split(":")
        deadline = time.time() + 20
        while True:  # the gateway answers once the orchestrator sent it the connector
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("POST", "/webhooks/brevo/mails", body=json.dumps(event).encode(),
                         headers={"Authorization": "Bearer " + self.TOKEN})
            status = conn.getresponse().status
            conn.close()
            if status != 404 or time.time() > deadline:
                return status
            time.sleep(0.3)

    def event(self, n):
        return {"event": "opened", "email": self.EMAIL, "id": 1, "camp_id": 3,
                "ts_event": 1710495000 + n, "date_event": "2024-03-15 10:30:00"}

    def wait_value(self, sql, expected, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline and self.pg.value(sql) != expected:
            time.sleep(0.2)
        self.assertEqual(self.pg.value(sql), expected, sql)

    def test_forget_while_an_event_is_in_the_spool(self):
        self.assertEqual(self.post(self.event(1)), 200)
        self.wait_value("SELECT count(*) FROM canonical.contact_history", "1")
        loader = self.stack.procs["loader"]
        loader.send_signal(signal.SIGSTOP)  # the next event stays in the spool
        try:
            self.assertEqual(self.post(self.event(2)), 200)
            # the loader erases (the only writer of canonical.*): stopped,
            # it leaves the forget queued, and the call says so
            _, out, _ = self.stack.cli("forget", self.EMAIL)
            self.assertRegex(out, r"forget queued \(command \d+\): the loader erases the person")
        finally:
            loader.send_signal(signal.SIGCONT)
        self.wait_value("SELECT status FROM ops.loader_commands WHERE kind = 'forget'", "done")
        self.assertEqual(self.pg.value("SELECT args::text FROM ops.loader_commands"
                                       " WHERE kind = 'forget'"), "{}")  # the subject is gone
        self.wait_value("SELECT count(*) FROM canonical.contact_history", "2")
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.contact_history WHERE "
                                       "email IS NOT NULL OR payload IS NOT NULL"), "0")
        deadline = time.time() + 30  # the spool is trimmed once the loader confirmed
        while time.time() < deadline and self.spool_holds():
            time.sleep(0.3)
        self.assertFalse(self.spool_holds())
        dump = subprocess.run([os.path.join(pg_bindir(), "pg_dump"), "-h", self.pg.dir, "-p",
                               str(self.pg.port), "-U", "postgres", "vendange"],
                              capture_output=True, check=True).stdout.decode()
        self.assertNotIn(self.EMAIL, dump)
        for log in self.stack.logs:
            with open(log, encoding="utf-8", errors="replace") as f:
                self.assertNotIn(self.EMAIL, f.read(), log)

    def spool_holds(self):
        for folder, _, files in os.walk(self.stack.spool):
            for name in files:
                with open(os.path.join(folder, name), "rb") as f:
                    if self.EMAIL.encode() in f.read():
                        return True
        return False


class Retention(StackCase):
    NAME = "retention"
    ENV = {"VENDANGE_RETENTION_RAW_DAYS": "30", "VENDANGE_RETENTION_RUNS_DAYS": "60"}

    def wait_rows(self, sql, expected, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline and self.pg.psql(sql) != expected:
            time.sleep(0.2)
        self.assertEqual(self.pg.psql(sql), expected, sql)

    def test_old_raw_content_erased(self):
        self.stack.add_isavigne("demo", os.path.join(SAMPLES, "isavigne"))
        first = self.stack.sync("demo")[1]
        second = self.stack.sync("demo", "--full")[1]
        # age the first run: raw content 40 days old, the run 70 days old
        self.pg.psql("UPDATE ops.rejects SET created_at = now() - interval '40 days' "
                     "WHERE run_id = %d" % first["id"])
        self.pg.psql("UPDATE ops.warning_summaries SET created_at = now() - interval '40 days' "
                     "WHERE run_id = %d" % first["id"])
        self.pg.psql("UPDATE ops.sync_runs SET finished_at = now() - interval '70 days' "
                     "WHERE id = %d" % first["id"])
        # two contact events with a payload, one 40 days old (written here
        # as an administrator would; vendange's own writer is the loader)
        self.pg.psql("INSERT INTO canonical.contact_history (contact_key, source, source_id,"
                     " connector, date_contact, payload) VALUES ('brevo-old', 'brevo', 'old',"
                     " 'hooks', now() - interval '40 days', '{\"x\": 1}'), ('brevo-new', 'brevo',"
                     " 'new', 'hooks', now(), '{\"x\": 2}')")
        # the pass runs at start and hourly: restart the orchestrator
        self.stack.kill("orchestrator", 15)
        self.stack.start("orchestrator")
        self.stack.wait_ready(1)
        self.wait_rows("SELECT count(*) FROM ops.sync_runs WHERE id = %d" % first["id"], [["0"]])
        # the old payload is erased by the loader (a command the pass queued)
        self.wait_rows("SELECT contact_key FROM canonical.contact_history WHERE payload IS NULL",
                       [["brevo-old"]])
        self.assertEqual(self.pg.psql("SELECT status, result::text, count(*) FROM"
                                      " ops.loader_commands WHERE kind = 'retain_payloads' AND"
                                      " result <> '{\"rows\": 0}' GROUP BY 1, 2"),
                         [["done", '{"rows": 1}', "1"]])
        self.assertEqual(self.pg.psql("SELECT count(*), count(raw) FROM ops.rejects WHERE "
                                      "run_id = %d" % second["id"]), [["1", "1"]])
        warnings = self.pg.psql("SELECT count(*), sum(count), sum(cardinality(example_values)) "
                                "FROM ops.warning_summaries")
        self.assertNotEqual(warnings[0][0], "0")
        examples = "SELECT count(v) FROM ops.warning_summaries, unnest(example_values) v"
        self.assertEqual(self.pg.value(examples), warnings[0][2])
        # run 2's raw content is recent: kept; make it old, it goes (the
        # warnings keep their counts and example lines, not their values)
        self.pg.psql("UPDATE ops.rejects SET created_at = now() - interval '40 days'")
        self.pg.psql("UPDATE ops.warning_summaries SET created_at = now() - interval '40 days'")
        self.stack.kill("orchestrator", 15)
        self.stack.start("orchestrator")
        self.stack.wait_ready(1)
        self.wait_rows("SELECT count(*), count(raw) FROM ops.rejects", [["1", "0"]])
        self.wait_rows(examples, [["0"]])
        self.assertEqual(self.pg.psql("SELECT count(*), sum(count), sum(cardinality("
                                      "example_values)) FROM ops.warning_summaries"), warnings)
        # the latest run of a connector is never deleted
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.sync_runs"), "1")


if __name__ == "__main__":
    unittest.main()
