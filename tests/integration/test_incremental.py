"""Incremental loading at speed, without losing a guarantee: a queued run
starts at once (LISTEN/NOTIFY), unchanged rows are never rewritten (their
synced_at stays), a row changed by another writer is still rewritten when
the export changes it, aggregates and segments stay true."""
import os
import tempfile

from harness import StackCase
from test_backbone import VENTES, checksum, write_export

# every customer's aggregates and segment recomputed from scratch (the
# default rules), compared with what is stored: the rows that differ
WRONG_AGGREGATES = """
SELECT c.customer_key FROM canonical.customers c LEFT JOIN (
  SELECT customer_key,
    min(date_sale) FILTER (WHERE quantity_units > 0) AS f,
    max(date_sale) FILTER (WHERE quantity_units > 0) AS l,
    sum(price_total) AS t,
    count(DISTINCT coalesce(order_id, sale_line_key)) FILTER (WHERE quantity_units > 0) AS n
  FROM canonical.sales_lines GROUP BY customer_key) a USING (customer_key)
WHERE ROW(c.first_purchase_date, c.last_purchase_date, c.total_spent, c.purchase_count,
          c.segment)
  IS DISTINCT FROM ROW(a.f, a.l, coalesce(a.t, 0), coalesce(a.n, 0)::int,
    CASE WHEN coalesce(a.n, 0) = 0 THEN 'prospect'
         WHEN a.l < current_date - 730 THEN 'inactive'
         WHEN a.l < current_date - 365 THEN 'at_risk'
         WHEN a.t >= 1000 OR a.n >= 10 THEN 'vip' ELSE 'standard' END)
ORDER BY 1"""


class Incremental(StackCase):
    NAME = "incremental"
    # the periodic look for queued runs is made very rare: a run that
    # starts at all started because the queue woke the orchestrator
    ENV = {"VENDANGE_DISPATCH_POLL_MS": "600000"}

    def run_of(self, name):
        status, run = self.stack.sync(name)
        self.assertEqual((status, run["status"]), (0, "success"), run)
        return run

    def test_1_queued_run_starts_at_once(self):
        folder = tempfile.mkdtemp(prefix="vd-incr-")
        write_export(folder)
        type(self).folder = folder
        self.stack.add_isavigne("incr", folder)
        run = self.run_of("incr")
        waited = float(self.pg.value("SELECT extract(epoch FROM started_at - queued_at) "
                                     "FROM ops.sync_runs WHERE id = %d" % run["id"]))
        # without the notification it would wait for the 600 s poll
        self.assertLess(waited, 60)
        self.assertEqual(self.pg.value("SELECT count(*) FROM pg_trigger WHERE tgname IN "
                                       "('sync_runs_queued', 'connector_tests_queued')"), "2")

    def write_sales(self, text):
        with open(os.path.join(self.folder, "ventes.csv"), "wb") as f:
            f.write(text.encode("cp1252"))

    def test_2_line_moved_to_another_customer(self):
        """The customer a sales line leaves is recomputed too."""
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])
        before = self.pg.value("SELECT total_spent FROM canonical.customers "
                               "WHERE customer_key = 'isavigne-C0001'")
        self.assertEqual(before, "1354.50")
        self.write_sales(VENTES.replace("C0001;15/03/2024 10:30;Facture;FA-1;2",
                                        "C0002;15/03/2024 10:30;Facture;FA-1;2"))
        run = self.run_of("incr")
        self.assertEqual(run["tables"]["sales_lines"]["updated"], 1)
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])
        self.assertEqual(self.pg.psql("SELECT customer_key, total_spent, purchase_count FROM "
                                      "canonical.customers ORDER BY 1"),
                         [["isavigne-C0001", "120.00", "1"], ["isavigne-C0002", "1224.50", "1"]])
        # only the customers whose sales changed were rewritten
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.dirty_customers"), "0")

    def test_3_segments_follow_the_date(self):
        """A segment that only the passing of time changes is fixed by the
        first update of a later day, for the customers whose last purchase
        crossed an age limit since the previous pass."""
        self.assertEqual(self.pg.value("SELECT day = current_date FROM ops.segment_pass"), "t")
        # as if the previous pass were 1000 days ago, when C0001 was standard
        self.pg.psql("UPDATE ops.segment_pass SET day = current_date - 1000;"
                     "UPDATE canonical.customers SET segment = 'standard' "
                     "WHERE customer_key = 'isavigne-C0001'")
        synced = self.pg.value("SELECT synced_at FROM canonical.customers "
                               "WHERE customer_key = 'isavigne-C0002'")
        run = self.run_of("incr")  # nothing changed in the export
        self.assertEqual({f["status"] for f in run["files"]}, {"unchanged"})
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])
        self.assertEqual(self.pg.value("SELECT segment FROM canonical.customers "
                                       "WHERE customer_key = 'isavigne-C0001'"), "inactive")
        self.assertEqual(self.pg.value("SELECT day = current_date FROM ops.segment_pass"), "t")
        # a customer whose segment did not change keeps its synced_at
        self.assertEqual(synced, self.pg.value("SELECT synced_at FROM canonical.customers "
                                               "WHERE customer_key = 'isavigne-C0002'"))

    def test_4_rules_changed_recompute_every_segment(self):
        self.pg.psql("UPDATE ops.segment_pass SET rules = 'other rules';"
                     "UPDATE canonical.customers SET segment = 'vip'")
        self.run_of("incr")
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])

    def row(self, key, cols="quantity_units, price_total, channel, synced_at, xmin::text"):
        return self.pg.psql("SELECT %s FROM canonical.sales_lines WHERE sale_line_key = '%s'"
                            % (cols, key))[0]

    def test_5_unchanged_rows_never_reach_the_server(self):
        """A changed file: only its changed rows are staged; the others keep
        their synced_at and their row version, and are not even checked
        again (a skipped row gets no 'unknown customer' warning)."""
        self.write_sales(VENTES)  # back to the original export
        self.run_of("incr")
        hashes = self.pg.value("SELECT count(*) FROM canonical.sales_lines "
                               "WHERE content_hash IS NOT NULL")
        self.assertEqual(hashes, "4")
        before = {k: self.row(k) for k in ("isavigne-FA-1-2", "isavigne-AV-1-1", "isavigne-FA-4-1")}
        self.write_sales(VENTES.replace("FA-1;1;ries-res-2022;Riesling;3;MAG150;40,00;120,00",
                                        "FA-1;1;ries-res-2022;Riesling;4;MAG150;40,00;160,00"))
        run = self.run_of("incr")
        self.assertEqual(run["tables"]["sales_lines"], {"extracted": 6, "inserted": 0,
                                                        "updated": 1, "unchanged": 3,
                                                        "rejected": 2})
        self.assertEqual({k: self.row(k) for k in before}, before)
        self.assertEqual(self.row("isavigne-FA-1-1", "quantity_units, price_total"),
                         ["4", "160.00"])
        reasons = {w[0] for w in self.pg.psql("SELECT reason FROM ops.run_warnings "
                                             "WHERE run_id = %d" % run["id"])}
        self.assertNotIn("unknown customer", reasons)  # FA-4-1 was not staged
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])

    def test_6_row_changed_by_another_writer(self):
        """A row another writer changed is rewritten when the export changes
        it; a writer that clears content_hash gets it compared in full."""
        self.pg.psql("UPDATE canonical.sales_lines SET channel = 'edited' "
                     "WHERE sale_line_key IN ('isavigne-FA-1-1', 'isavigne-FA-1-2')")
        self.pg.psql("UPDATE canonical.sales_lines SET channel = 'edited', content_hash = NULL "
                     "WHERE sale_line_key = 'isavigne-AV-1-1'")
        self.write_sales(VENTES.replace("FA-1;1;ries-res-2022;Riesling;3;MAG150;40,00;120,00",
                                        "FA-1;1;ries-res-2022;Riesling;5;MAG150;40,00;200,00"))
        run = self.run_of("incr")
        self.assertEqual(run["tables"]["sales_lines"]["updated"], 2)
        # changed in the export: the export's content wins, the edit is gone
        self.assertEqual(self.row("isavigne-FA-1-1", "quantity_units, price_total, channel"),
                         ["5", "200.00", None])
        # hash cleared: compared in full, so rewritten
        self.assertEqual(self.row("isavigne-AV-1-1", "channel"), [None])
        # unchanged in the export and hash kept: the edit stays until the
        # export changes that line (or sync --full)
        self.assertEqual(self.row("isavigne-FA-1-2", "channel"), ["edited"])
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])

    def test_7_full_sync_compares_every_row(self):
        synced = self.row("isavigne-FA-4-1", "synced_at")
        status, run = self.stack.sync("incr", "--full")
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertEqual(run["tables"]["sales_lines"]["updated"], 1)
        self.assertEqual(self.row("isavigne-FA-1-2", "channel"), [None])
        self.assertEqual(self.row("isavigne-FA-4-1", "synced_at"), synced)
        self.assertEqual(self.pg.psql(WRONG_AGGREGATES), [])
