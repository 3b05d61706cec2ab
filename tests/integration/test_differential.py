"""Differential test: random realistic iSaVigne exports (tests/reference/
exportgen.py) loaded by vendange, compared row by row and value by value
with the reference model (tests/reference/model.py), with the run's
counts, rejects, warnings and what each file derived.

VD_DIFF_SEEDS picks the seeds: "1-200" (the default, in make check),
"17", "1-50,90". Every seed is its own connector in one stack; seeds go
in chunks of VD_DIFF_CHUNK (40): all the chunk's connectors are synced
(two extractors), then compared, then their rows are deleted so the tables
stay small. A failure prints the seed and the differences; replay one
with

    VD_DIFF_SEEDS=17 VD_BIN=build/check/bin /usr/bin/python3 tests/integration/run.py test_differential
    /usr/bin/python3 tests/reference/exportgen.py 17 /tmp/x/export    # the export itself

`make check-deep SEEDS=a-b` runs a large range (not in CI); it appends
each finished chunk to tests/artifacts/check-deep.log, so an interrupted
range resumes from the seed after the last line there.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
from decimal import Decimal

from harness import ARTIFACTS, ROOT, StackCase

sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import compare  # noqa: E402
import exportgen  # noqa: E402
import model  # noqa: E402

TABLES = ["product_catalog", "customers", "stock_levels", "sales_lines"]


def seed_list(text):
    out = []
    for part in text.split(","):
        a, _, b = part.strip().partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


class Differential(StackCase):
    NAME = "differential"
    EXTRACTORS = 2
    RECOMMENDER = False
    # the mapping files are written beside the exports, in the temp folder
    ENV = {"VENDANGE_LOG_LEVEL": "info", "VENDANGE_FILES_ROOT": tempfile.gettempdir()}

    def api(self, method, path, body=None):
        return self.stack.api_call(method, path, body)

    def run_chunk(self, seeds, work):
        exports = {}
        for seed in seeds:
            folder = os.path.join(work, str(seed), "export")
            desc = exportgen.generate(seed, folder)
            settings = dict(desc["settings"], export_path=folder)
            status, answer = self.api("POST", "/api/connectors",
                                      {"name": "d%d" % seed, "type": "isavigne",
                                       "settings": settings})
            self.assertEqual(status, 201, answer)
            exports[seed] = (folder, desc)
        done, loaded, rejects, warnings = self.sync_all(seeds)
        failures = []
        expected = {}
        for seed in seeds:
            folder, desc = exports[seed]
            expected[seed] = model.expect(folder, self.mapping_of(desc))
            failures += self.check(seed, desc, expected[seed], done[seed], loaded, rejects,
                                   warnings)
        # full snapshots: a later export without some rows
        later = [s for s in seeds if exports[s][1]["settings"].get("full_snapshot")]
        if later:
            for seed in later:
                exportgen.generate(seed, exports[seed][0], version=2)
            done, loaded, rejects, warnings = self.sync_all(later)
            for seed in later:
                folder, desc = exports[seed]
                want = model.expect_snapshot(expected[seed], folder, self.mapping_of(desc))
                failures += self.check(seed, desc, want, done[seed], loaded, rejects, warnings,
                                       later=True)
        names = ",".join("'d%d'" % s for s in seeds)
        for table in TABLES:
            self.pg.psql("DELETE FROM canonical.%s WHERE connector IN (%s)" % (table, names))
        for seed in seeds:
            self.api("DELETE", "/api/connectors/d%d" % seed)
        return failures

    @staticmethod
    def mapping_of(desc):
        if not desc["settings"].get("mapping"):
            return None
        with open(desc["settings"]["mapping"]) as f:
            return f.read()

    def sync_all(self, seeds):
        """Syncs the seeds' connectors; (runs, rows, rejects, warnings)."""
        runs = {}
        for seed in seeds:
            status, answer = self.api("POST", "/api/connectors/d%d/sync" % seed, {})
            self.assertIn(status, (200, 201, 202), answer)
            runs[seed] = answer["run_id"]
        done = {}
        deadline = time.time() + 60 + 5 * len(seeds)
        while len(done) < len(runs) and time.time() < deadline:
            for seed, run_id in runs.items():
                if seed in done:
                    continue
                _, run = self.api("GET", "/api/runs/%d" % run_id)
                if run["status"] not in ("queued", "running"):
                    done[seed] = run
            time.sleep(0.2)
        self.assertEqual(len(done), len(runs), "runs still going: %s"
                         % sorted(set(runs) - set(done)))
        loaded = self.read_rows(["d%d" % s for s in seeds])
        run_ids = ",".join(str(r["id"]) for r in done.values())
        rejects, warnings = {}, {}
        for rid, f, line, reason in self.pg.psql(
                "SELECT run_id, file, line, reason FROM ops.rejects WHERE run_id IN (%s)" % run_ids):
            rejects.setdefault(int(rid), []).append((f, int(line), reason))
        for rid, f, line, field, reason in self.pg.psql(
                "SELECT run_id, file, line, field, reason FROM ops.run_warnings "
                "WHERE run_id IN (%s)" % run_ids):
            warnings.setdefault(int(rid), []).append((f, int(line or 0), field, reason))
        return done, loaded, rejects, warnings

    def check(self, seed, desc, expected, run, loaded, rejects, warnings, later=False):
        facts = {"counts": run.get("tables", {}), "rejects": rejects.get(run["id"], []),
                 "warnings": warnings.get(run["id"], []), "files": run.get("files", [])}
        diff = compare.differences(expected, loaded.get("d%d" % seed, {}), facts, later=later)
        if run["status"] != "success":
            diff.insert(0, "run %d status %s: %s" % (run["id"], run["status"], run.get("errors")))
        if not diff:
            return []
        return ["seed %d%s (dialect %s, formats %s):\n    %s" % (
            seed, " (second, full snapshot)" if later else "", desc["dialect"], desc["formats"],
            "\n    ".join(diff))]

    def read_rows(self, connectors):
        names = ",".join("'%s'" % c for c in connectors)
        out = {}
        for table in TABLES:
            key = {"product_catalog": "product_key", "customers": "customer_key",
                   "stock_levels": "stock_key", "sales_lines": "sale_line_key"}[table]
            for (text,) in self.pg.psql("SELECT row_to_json(t) FROM canonical.%s t "
                                        "WHERE connector IN (%s)" % (table, names)):
                row = json.loads(text, parse_float=Decimal)
                out.setdefault(row["connector"], {}).setdefault(table, {})[row[key]] = row
        return out

    def test_random_exports(self):
        seeds = seed_list(os.environ.get("VD_DIFF_SEEDS", "1-200"))
        chunk = int(os.environ.get("VD_DIFF_CHUNK", "40"))
        progress = os.environ.get("VD_DIFF_PROGRESS")
        work = tempfile.mkdtemp(prefix="vd-diff-")
        failures = []
        stale = os.path.join(ARTIFACTS, "differential-failures.txt")
        if os.path.exists(stale):
            os.remove(stale)
        started = time.time()
        try:
            for i in range(0, len(seeds), chunk):
                part = seeds[i:i + chunk]
                t0 = time.time()
                bad = self.run_chunk(part, work)
                failures += bad
                line = "seeds %d-%d: %d exports, %d differ, %.1f s" % (
                    part[0], part[-1], len(part), len(bad), time.time() - t0)
                print(line, flush=True)
                if progress:
                    with open(progress, "a") as f:
                        f.write(line + "\n")
                for seed in part:
                    shutil.rmtree(os.path.join(work, str(seed)), ignore_errors=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print("differential: %d exports in %.1f s, %d differ" % (
            len(seeds), time.time() - started, len(failures)), flush=True)
        if failures:
            os.makedirs(ARTIFACTS, exist_ok=True)
            with open(os.path.join(ARTIFACTS, "differential-failures.txt"), "w") as f:
                f.write("\n".join(failures))
        self.assertFalse(failures, "%d exports differ from the reference model (replay: "
                         "VD_DIFF_SEEDS=<seed>):\n%s" % (len(failures),
                                                        "\n".join(failures[:5])))


if __name__ == "__main__":
    unittest.main()
