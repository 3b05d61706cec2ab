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

from harness import ROOT, StackCase

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
    fresh connector (no cursor) reads the same export."""
    NAME = "lossfree"
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
