"""Loss-free guarantee: any process SIGKILLed mid-run turns the run failed
(the cursor does not move) and the next run ends with every record present
exactly once, contents identical to a clean load (aggregates included).
Also: several extractors share the runs of several connectors, runs of
different connectors proceed concurrently, one run at a time per connector.
"""
import json
import os
import subprocess
import tempfile
import time
import unittest

from harness import ROOT, StackCase, pg_bindir

SALES = 120000
TABLES = {
    "sales_lines": "sale_line_key", "customers": "customer_key",
    "product_catalog": "product_key", "stock_levels": "stock_key",
}


def generate(folder, sales, customers, products, stock):
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "gen_isavigne.py"), folder,
                    "--sales", str(sales), "--customers", str(customers),
                    "--products", str(products), "--stock", str(stock)],
                   check=True, capture_output=True)


def checksums(pg):
    """Row count and md5 of every canonical table's content (synced_at and the
    connector that wrote the row left out: each kill test uses its own; so
    is content_hash, the loader's hash of that content, connector included)."""
    out = {}
    for table, key in TABLES.items():
        out[table] = pg.psql(
            "SELECT count(*), md5(coalesce(string_agg((to_jsonb(t) - 'synced_at' - 'connector'"
            " - 'content_hash')"
            "::text, '|' ORDER BY %s), '')) FROM canonical.%s t" % (key, table))[0]
    return out


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


class KillMidRun(StackCase):
    """One stack; before each kill the canonical tables are emptied and a
    fresh connector (no cursor) reads the same export. No recommender: its
    job after each sync reads the tables the next test truncates (a
    deadlock of the test's TRUNCATE, not of the pipeline; the recommender
    has its own kill test)."""
    NAME = "lossfree"
    RECOMMENDER = False
    ENV = {"VENDANGE_BATCH_ROWS": "2000"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = tempfile.mkdtemp(prefix="vd-lossfree-")
        generate(cls.folder, SALES, 6000, 400, 800)
        cls.stack.add_isavigne("clean", cls.folder)
        status, run = cls.stack.sync("clean")
        assert (status, run["status"]) == (0, "success"), run
        cls.reference = checksums(cls.pg)
        assert cls.reference["sales_lines"][0] == str(SALES), cls.reference

    def empty_tables(self):
        self.pg.psql("TRUNCATE " + ", ".join("canonical." + t for t in TABLES)
                     + ", ops.key_map, ops.dirty_customers")

    def run_json(self, run_id):
        return self.stack.get("/api/runs/%d" % run_id)

    def kill_mid_run(self, victim, role, name, committed_first):
        """Starts a run of a fresh connector, SIGKILLs victim once the run
        is under way, and returns the run as it ended."""
        self.empty_tables()
        self.stack.add_isavigne(name, self.folder)
        out = self.stack.cli("sync", name)[1]
        run_id = int(out.split()[1])

        def under_way():
            run = self.run_json(run_id)
            if run["status"] != "running":
                self.assertEqual(run["status"], "queued", run)
                return False
            return run["records_done"] > 0 if committed_first else True
        wait_for(under_way, 60, "run %d under way" % run_id)
        # still mid-run: not every record is committed yet
        self.assertLess(self.run_json(run_id)["records_done"], SALES)
        self.stack.kill(victim)
        killed_at = time.time()
        if role == "orchestrator":
            time.sleep(0.5)
            self.stack.start(role, victim)
        run = wait_for(lambda: (lambda r: r if r["status"] not in ("queued", "running") else None)(
            self.safe_run(run_id)), 60, "run %d to end" % run_id)
        elapsed = time.time() - killed_at
        self.assertEqual(run["status"], "failed", run)
        self.assertLess(elapsed, 30, "a dead %s must fail the run within the heartbeat timeout"
                        % role)
        self.assertIsNone(self.pg.value("SELECT cursor FROM ops.connectors WHERE name = '%s'"
                                        % name), "a failed run must not move the cursor")
        self.assertTrue(run["errors"], run)
        if role != "orchestrator":
            self.stack.start(role, victim)
        self.stack.wait_ready(1)
        status, again = self.stack.sync(name)
        self.assertEqual((status, again["status"]), (0, "success"), again)
        for table, c in again["tables"].items():
            self.assertEqual(c["extracted"], c["inserted"] + c["updated"] + c["unchanged"]
                             + c["rejected"], (table, c))
        self.assertEqual(checksums(self.pg), self.reference)
        return run

    def safe_run(self, run_id):
        try:
            return self.run_json(run_id)
        except OSError:
            return {"status": "running"}  # the orchestrator is restarting

    def test_kill_extractor(self):
        run = self.kill_mid_run("extractor-isavigne-0", "extractor-isavigne", "k_extractor", False)
        self.assertIn("stopped sending heartbeats", json.dumps(run["errors"]))

    def test_kill_normalizer(self):
        run = self.kill_mid_run("normalizer", "normalizer", "k_normalizer", False)
        self.assertIn("normalizer", json.dumps(run["errors"]))

    def test_kill_loader(self):
        run = self.kill_mid_run("loader", "loader", "k_loader", True)
        self.assertIn("loader", json.dumps(run["errors"]))

    def test_kill_orchestrator(self):
        run = self.kill_mid_run("orchestrator", "orchestrator", "k_orchestrator", True)
        self.assertIn("orchestrator restarted", json.dumps(run["errors"]))


class ScaleOut(StackCase):
    """Three extractor processes share six connectors' runs."""
    NAME = "scale"
    EXTRACTORS = 3

    @staticmethod
    def small_export(n):
        """An export of its own (keys prefixed by n), 40 customers, 200 sales."""
        folder = tempfile.mkdtemp(prefix="vd-scale-%d-" % n)
        with open(os.path.join(folder, "clients.csv"), "w", encoding="utf-8") as f:
            f.write("client_code;nom;prenom;email\n")
            for c in range(40):
                f.write("S%d-C%03d;Weber;Paul;paul.%d.%d@example.fr\n" % (n, c, n, c))
        with open(os.path.join(folder, "produits.csv"), "w", encoding="utf-8") as f:
            f.write("article;produit;prix_ttc\n")
            for p in range(10):
                f.write("S%d-P%02d;Riesling %d;%d,00\n" % (n, p, p, 10 + p))
        with open(os.path.join(folder, "ventes.csv"), "w", encoding="utf-8") as f:
            f.write("client_code;date;document_type;document_no;num_ligne;article;quantite;unite;"
                    "prix_unitaire;mt_ht\n")
            for s in range(200):
                f.write("S%d-C%03d;0%d/03/2025;Facture;F%d-%d;%d;S%d-P%02d;2;BT;10,00;20,00\n"
                        % (n, s // 4 % 40, 1 + s // 4 % 9, n, s // 4, s % 4, n, s % 10))
        return folder

    def test_three_extractors_six_connectors(self):
        names = ["shop%d" % n for n in range(6)]
        for n, name in enumerate(names):
            self.stack.add_isavigne(name, self.small_export(n))
        ids = [int(self.stack.cli("sync", name)[1].split()[1]) for name in names]
        # a second sync of a connector with a run in progress is refused
        status, _, err = self.stack.cli("sync", names[0], check=False)
        if status != 0:  # the first run may already be over on a fast machine
            self.assertIn("already has a run in progress", err)
        runs = {}
        for run_id in ids:
            runs[run_id] = wait_for(
                lambda: (lambda r: r if r["status"] not in ("queued", "running") else None)(
                    self.stack.get("/api/runs/%d" % run_id)), 120, "run %d" % run_id)
        self.assertEqual([r["status"] for r in runs.values()], ["success"] * 6, runs)
        extractors = {r["extractor"] for r in runs.values()}
        self.assertEqual(len(extractors), 3, extractors)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines"), str(6 * 200))
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.customers"), str(6 * 40))
        self.assertEqual(self.pg.value("SELECT sum(purchase_count) FROM canonical.customers"),
                         str(6 * 50))


class Concurrent(StackCase):
    """Runs of two connectors at once, one run at a time per connector."""
    NAME = "concurrent"
    EXTRACTORS = 2

    def test_two_connectors_at_once(self):
        big = tempfile.mkdtemp(prefix="vd-conc-a-")
        generate(big, 60000, 3000, 200, 100)
        self.stack.add_isavigne("big_a", big)
        self.stack.add_isavigne("small_b", ScaleOut.small_export(9))
        first = int(self.stack.cli("sync", "big_a")[1].split()[1])
        wait_for(lambda: self.stack.get("/api/runs/%d" % first)["status"] == "running", 60,
                 "run of big_a to start")
        status, _, err = self.stack.cli("sync", "big_a", check=False)
        self.assertEqual(status, 1)
        self.assertIn("already has a run in progress", err)
        # small_b is neither queued behind big_a nor refused
        status, run_b = self.stack.sync("small_b")
        self.assertEqual((status, run_b["status"]), (0, "success"), run_b)
        wait_for(lambda: self.stack.get("/api/runs/%d" % first)["status"] != "running", 120,
                 "run of big_a to end")
        runs = json.loads(self.stack.cli("runs", "big_a", "--json")[1])
        self.assertEqual([r["status"] for r in runs], ["success"], runs)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.sales_lines"),
                         str(60000 + 200))
        # small_b ran while big_a was running (timestamps to the microsecond)
        self.assertEqual(self.pg.value(
            "SELECT b.started_at < a.finished_at AND b.finished_at > a.started_at FROM "
            "ops.sync_runs a, ops.sync_runs b WHERE a.id = %d AND b.id = %d"
            % (first, run_b["id"])), "t")


if __name__ == "__main__":
    unittest.main()


def loaded_records(log_path):
    """Records the loader sent to the server in the last run it finished."""
    with open(log_path, encoding="utf-8") as f:
        found = [line for line in f if "run loaded:" in line]
    return int(json.loads(found[-1])["msg"].split()[2])


class LineHashes(StackCase):
    """Per-line hashes: a changed file sends only its changed lines; after
    a failed run (killed while the hashes are written, or between the
    data's commit and the cursor's), a forget or a TRUNCATE, every line is
    compared again. After each, `sync --full` finds nothing to write: the
    tables are what a clean load of the export gives."""
    NAME = "linehashes"
    RECOMMENDER = False
    ENV = {"VENDANGE_BATCH_ROWS": "2000"}
    LINES = 20000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = tempfile.mkdtemp(prefix="vd-lines-")
        generate(cls.folder, cls.LINES, 2000, 200, 300)
        cls.changed = tempfile.mkdtemp(prefix="vd-lines-changed-")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "gen_isavigne.py"),
                        cls.changed, "--sales", str(cls.LINES), "--customers", "2000",
                        "--products", "200", "--stock", "300", "--change-percent", "2"],
                       check=True, capture_output=True)
        cls.stack.add_isavigne("lh", cls.folder)
        status, run = cls.stack.sync("lh")
        assert (status, run["status"]) == (0, "success"), run
        cls.loader_log = os.path.join(os.path.dirname(cls.stack.logs[0]), "linehashes-loader.log")

    def use_sales(self, which):
        """ventes.csv of the original (0) or the changed (1) export; returns
        how many lines differ from the other one."""
        src = os.path.join(self.changed if which else self.folder + "-orig", "ventes.csv")
        dst = os.path.join(self.folder, "ventes.csv")
        if not os.path.exists(self.folder + "-orig"):
            os.makedirs(self.folder + "-orig")
            os.link(dst, os.path.join(self.folder + "-orig", "ventes.csv"))
        os.unlink(dst)
        os.link(src, dst)
        with open(os.path.join(self.changed, "ventes.csv"), "rb") as a, \
                open(os.path.join(self.folder + "-orig", "ventes.csv"), "rb") as b:
            return sum(x != y for x, y in zip(a, b))

    def sync(self, *flags):
        status, run = self.stack.sync("lh", *flags)
        self.assertEqual((status, run["status"]), (0, "success"), run)
        for table, c in run["tables"].items():
            self.assertEqual(c["extracted"], c["inserted"] + c["updated"] + c["unchanged"]
                             + c["rejected"], (table, c))
        return run

    def assert_clean(self):
        """A full comparison of every row writes nothing."""
        run = self.sync("--full")
        for table, c in run["tables"].items():
            self.assertEqual((c["inserted"], c["updated"]), (0, 0), (table, c))

    def held_lock(self, sql):
        """A psql session holding sql's lock until its stdin is closed."""
        pg = self.pg
        proc = subprocess.Popen(
            ["runuser", "-u", "postgres", "--", os.path.join(pg_bindir(), "psql"), "-X", "-q",
             "-h", pg.dir, "-p", str(pg.port), "-U", "postgres", "-d", "vendange"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc.stdin.write(("BEGIN; %s;\n" % sql).encode())
        proc.stdin.flush()
        self.addCleanup(proc.kill)  # never left holding the lock
        return proc

    def blocked(self, service):
        return self.pg.value("SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'"
                             " AND wait_event_type = 'Lock'" % service) != "0"

    def test_1_only_changed_lines_are_sent(self):
        changed = self.use_sales(1)
        run = self.sync()
        s = run["tables"]["sales_lines"]
        self.assertEqual((s["extracted"], s["updated"], s["unchanged"]),
                         (self.LINES, changed, self.LINES - changed))
        self.assertEqual(loaded_records(self.loader_log), changed)
        self.assertEqual(self.pg.value("SELECT lines FROM ops.line_hashes WHERE connector = 'lh'"
                                       " AND file = 'ventes.csv'"), str(self.LINES))
        self.assert_clean()

    def test_2_killed_while_the_hashes_are_written(self):
        self.use_sales(0)
        # writers wait, readers (the orchestrator's look-up) do not
        lock = self.held_lock("LOCK TABLE ops.line_hashes IN SHARE MODE")
        run_id = int(self.stack.cli("sync", "lh")[1].split()[1])
        wait_for(lambda: self.blocked("loader"), 60, "the loader writing per-line hashes")
        self.stack.kill("loader")
        lock.stdin.close()
        lock.wait(timeout=20)
        run = wait_for(lambda: (lambda r: r if r["status"] not in ("queued", "running") else None)(
            self.stack.get("/api/runs/%d" % run_id)), 60, "run %d to end" % run_id)
        self.assertEqual(run["status"], "failed", run)
        self.stack.start("loader")
        self.stack.wait_ready(1)
        # the failed run may have loaded lines: every line is compared
        self.sync()
        self.assertEqual(loaded_records(self.loader_log), self.LINES)
        self.assert_clean()

    def test_3_killed_between_the_data_and_the_cursor(self):
        self.use_sales(1)
        # the cursor's update waits; a run's insert (a key share) does not
        lock = self.held_lock("SELECT 1 FROM ops.connectors WHERE name = 'lh' FOR NO KEY UPDATE")
        run_id = int(self.stack.cli("sync", "lh")[1].split()[1])
        wait_for(lambda: self.blocked("vendange-orchestrator"), 60,
                 "the orchestrator moving the cursor")
        written = self.pg.value("SELECT run_id FROM ops.line_hashes WHERE connector = 'lh'"
                                " AND file = 'ventes.csv'")
        self.assertEqual(written, str(run_id))  # the loader committed the run's data
        self.stack.kill("orchestrator")
        lock.stdin.close()
        lock.wait(timeout=20)
        self.stack.start("orchestrator")
        self.stack.wait_ready(1)
        run = wait_for(lambda: (lambda r: r if r["status"] not in ("queued", "running") else None)(
            self.stack.get("/api/runs/%d" % run_id)), 60, "run %d to end" % run_id)
        self.assertEqual(run["status"], "failed", run)
        # the cursor names the older set, the table the newer: none trusted
        self.sync()
        self.assertEqual(loaded_records(self.loader_log), self.LINES)
        self.assert_clean()

    def test_4_forgotten_person_compared_again(self):
        key, email = self.pg.psql("SELECT customer_key, email FROM canonical.customers c WHERE "
                                  "email IS NOT NULL AND EXISTS (SELECT 1 FROM "
                                  "canonical.sales_lines s WHERE s.customer_key = c.customer_key)"
                                  " ORDER BY 1 LIMIT 1")[0]
        sales_of = "SELECT count(*) FROM canonical.sales_lines WHERE customer_key = '%s'" % key
        self.stack.cli("forget", email)
        self.assertEqual(self.pg.value(sales_of), "0")
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.line_hashes"), "0")
        self.use_sales(0)  # a change elsewhere in the file: it is read again
        self.sync()
        # every line compared: the person's lines are theirs again (the
        # source still holds them), not left under the anonymous key
        self.assertEqual(loaded_records(self.loader_log), self.LINES)
        self.assertNotEqual(self.pg.value(sales_of), "0")

    def test_5_truncate_drops_every_set(self):
        self.sync()  # sets for the current export
        self.assertNotEqual(self.pg.value("SELECT count(*) FROM ops.line_hashes"), "0")
        self.pg.psql("TRUNCATE canonical.stock_levels")
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.line_hashes"), "0")
