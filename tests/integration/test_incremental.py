"""Incremental loading at speed, without losing a guarantee: a queued run
starts at once (LISTEN/NOTIFY), unchanged rows are never rewritten (their
synced_at stays), a row changed by another writer is still rewritten when
the export changes it, aggregates and segments stay true."""
import os
import tempfile

from harness import StackCase
from test_backbone import checksum, write_export


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
