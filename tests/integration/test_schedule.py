"""Schedules: persisted per connector, run by the orchestrator; missed
occurrences during a downtime give one run at start, not one each."""
import json
import os
import signal
import time
import unittest

from harness import SAMPLES, StackCase


class Schedules(StackCase):
    NAME = "schedule"

    def scheduled_runs(self, name):
        return [r for r in json.loads(self.stack.cli("runs", name, "--json")[1])
                if r["trigger"] == "schedule"]

    def wait_runs(self, name, count, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            runs = self.scheduled_runs(name)
            if len(runs) >= count and all(r["status"] not in ("queued", "running")
                                          for r in runs):
                return runs
            time.sleep(0.2)
        raise AssertionError("fewer than %d scheduled runs of %s: %s" % (
            count, name, self.scheduled_runs(name)))

    def test_1_bad_schedule_refused(self):
        status, _, err = self.stack.cli("connector", "add", "bad", "--type", "isavigne",
                                        "--set", "export_path=/srv/x",
                                        "--set", "schedule=daily 25:00", check=False)
        self.assertEqual(status, 1)
        self.assertIn('invalid schedule "daily 25:00"', err)
        self.assertIn("weekly DAY HH:MM", err)

    def test_2_interval_and_downtime(self):
        self.stack.add_isavigne("ticker", os.path.join(SAMPLES, "isavigne"), "schedule=every 3s")
        runs = self.wait_runs("ticker", 2, 30)
        self.assertEqual({r["status"] for r in runs}, {"success"}, runs)
        # the orchestrator is down for more than three occurrences
        self.stack.kill("orchestrator", signal.SIGTERM)
        down_since = time.time()
        before = len(self.scheduled_runs_db("ticker"))
        time.sleep(10)
        self.stack.start("orchestrator")
        self.stack.wait_ready(1)
        deadline = time.time() + 20
        while time.time() < deadline and len(self.scheduled_runs_db("ticker")) == before:
            time.sleep(0.1)
        first = time.time()
        self.assertGreater(first - down_since, 9)
        time.sleep(1.5)
        self.assertEqual(len(self.scheduled_runs_db("ticker")), before + 1,
                         "missed occurrences must give one run, not one each")
        # and the schedule goes on at its pace
        self.wait_runs("ticker", before + 2, 30)
        # off stops it
        self.stack.cli("connector", "set", "ticker", "--set", "schedule=off")
        time.sleep(0.5)
        count = len(self.scheduled_runs_db("ticker"))
        time.sleep(4)
        self.assertEqual(len(self.scheduled_runs_db("ticker")), count)

    def scheduled_runs_db(self, name):
        return self.pg.psql("SELECT id FROM ops.sync_runs WHERE connector = '%s' AND trigger = "
                            "'schedule'" % name)


if __name__ == "__main__":
    unittest.main()
