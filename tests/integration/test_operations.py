"""The operational contract ops scripts rely on: `vendange up` is
idempotent and `down` stops everything; `sync --wait` fails (does not
hang) when the orchestrator dies under it; `status --json` lists every
service with pid, host and heartbeat."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import (ARTIFACTS, BIN, ROOT, SAMPLES, Postgres, StackCase, copy_tree, free_port,
                     stack_env)


class UpStack(unittest.TestCase):
    """`vendange up` / `down` against a PostgreSQL of the class's own."""
    EXTRACTORS = 2

    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()
        cls.home = tempfile.mkdtemp(prefix="vd-up-")
        cls.env = stack_env(cls.pg, cls.home)
        cls.env.update({
            "VENDANGE_WEBHOOK_ADDR": "127.0.0.1:%d" % free_port(),
            "VENDANGE_EXTRACTORS_ISAVIGNE": str(cls.EXTRACTORS),
        })

    @classmethod
    def tearDownClass(cls):
        cls.cli("down", check=False)
        logs = os.path.join(cls.home, "log")
        os.makedirs(ARTIFACTS, exist_ok=True)
        for name in os.listdir(logs) if os.path.isdir(logs) else []:
            with open(os.path.join(logs, name), "rb") as f:
                text = f.read()
            with open(os.path.join(ARTIFACTS, cls.__name__.lower() + "-" + name), "wb") as f:
                f.write(text)
            assert b"ERROR: AddressSanitizer" not in text, name
        cls.pg.close()

    @classmethod
    def cli(cls, *args, check=True):
        out = subprocess.run([os.path.join(BIN, "vendange")] + list(args), env=cls.env,
                             capture_output=True, text=True, timeout=120)
        if check and out.returncode != 0:
            raise AssertionError("vendange %s: %s %s" % (args, out.stdout, out.stderr))
        return out.returncode, out.stdout, out.stderr

    @staticmethod
    def running(pid):
        """True while pid runs (a zombie waiting for its parent has ended)."""
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False


class UpDown(UpStack):

    def test_up_is_idempotent(self):
        _, out, _ = self.cli("up")
        self.assertIn("vendange is up", out)
        self.assertNotIn("already running", out)
        pids = dict(re.findall(r"([a-z-]+(?:-\d+)?) \(pid (\d+)", out))
        for role in ("orchestrator", "normalizer", "loader", "extractor-isavigne-1",
                     "extractor-isavigne-2", "extractor-odoo-1", "extractor-webhook",
                     "recommender"):
            self.assertIn(role, pids)
        # status --json: every service with pid, host and a heartbeat
        status = json.loads(self.cli("status", "--json")[1])
        alive = {s["pid"]: s for s in status["services"] if s["alive"]}
        for role, pid in pids.items():
            if role != "orchestrator":
                self.assertIn(int(pid), alive, role)
                self.assertTrue(alive[int(pid)]["host"] and alive[int(pid)]["last_heartbeat"])
        # a second up with everything running starts nothing and exits 0
        _, out, _ = self.cli("up")
        self.assertEqual(out.count("already running"), len(pids))
        # with one service gone, up starts that one only
        os.kill(int(pids["loader"]), signal.SIGKILL)
        time.sleep(0.3)
        _, out, _ = self.cli("up")
        again = dict(re.findall(r"([a-z-]+(?:-\d+)?) \(pid (\d+)", out))
        self.assertNotEqual(again["loader"], pids["loader"])
        for role in pids:
            if role != "loader":
                self.assertEqual(again[role], pids[role], role)
        self.assertEqual(out.count("already running"), len(pids) - 1)
        # down stops every service
        _, out, _ = self.cli("down")
        self.assertIn("vendange is down", out)
        for role, pid in again.items():
            self.assertFalse(self.running(int(pid)), role)

    def test_up_without_the_recommender(self):
        """A bin folder without `recommender`: up says so and fails, before
        it starts anything."""
        bindir = tempfile.mkdtemp(prefix="vd-bin-")
        for name in os.listdir(BIN):
            if name != "recommender":
                os.symlink(os.path.join(BIN, name), os.path.join(bindir, name))
        os.unlink(os.path.join(bindir, "vendange"))
        shutil.copy(os.path.join(BIN, "vendange"), bindir)  # /proc/self/exe: this folder
        env = dict(self.env, VENDANGE_HOME=tempfile.mkdtemp(prefix="vd-up-"))
        out = subprocess.run([os.path.join(bindir, "vendange"), "up"], env=env,
                             capture_output=True, text=True, timeout=60)
        shutil.rmtree(bindir)
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot find the recommender program next to vendange", out.stderr)
        self.assertEqual(os.listdir(os.path.join(env["VENDANGE_HOME"], "run")), [])
        shutil.rmtree(env["VENDANGE_HOME"])


class StatusAfterUps(UpStack):
    """`vendange status` tells the present: after three starts it lists the
    services of the last one, a dead service only while a run it failed
    is recent, and every row with --all; the API the same."""
    EXTRACTORS = 1
    SERVICES = 6  # normalizer, loader, extractor-isavigne-1, -odoo-1, -webhook, recommender

    def status(self, *flags):
        return json.loads(self.cli("status", "--json", *flags)[1])

    def test_status_lists_the_present(self):
        for _ in range(3):
            _, out, _ = self.cli("up")
            pids = dict(re.findall(r"([a-z-]+(?:-\d+)?) \(pid (\d+)", out))
            self.wait_alive(self.SERVICES)
            self.cli("down")
        _, out, _ = self.cli("up")
        pids = dict(re.findall(r"([a-z-]+(?:-\d+)?) \(pid (\d+)", out))
        self.wait_alive(self.SERVICES)
        # four starts: the live six, the eighteen dead ones hidden
        status = self.status()
        self.assertEqual(len(status["services"]), self.SERVICES, status["services"])
        self.assertTrue(all(s["alive"] for s in status["services"]))
        self.assertEqual(status["services_hidden"], 3 * self.SERVICES)
        every = self.status("--all")
        self.assertEqual(len(every["services"]), 4 * self.SERVICES)
        self.assertEqual(every["services_hidden"], 0)
        _, text, _ = self.cli("status")
        self.assertIn("18 dead service(s) of earlier starts not shown", text)
        self.assertEqual(len(re.findall(r" yes$", text, re.M)), self.SERVICES, text)
        _, text, _ = self.cli("status", "--all")
        self.assertEqual(len(re.findall(r" no$", text, re.M)), 3 * self.SERVICES, text)
        self.assertNotIn("not shown", text)

        # an extractor stops answering while a run is dispatched to it: the
        # run fails, and the dead extractor is listed with it
        folder = copy_tree(os.path.join(SAMPLES, "isavigne"))
        self.cli("connector", "add", "shop", "--type", "isavigne", "--set",
                 "export_path=" + folder)
        extractor = int(pids["extractor-isavigne-1"])
        instance = [s["instance"] for s in status["services"] if s["pid"] == extractor][0]
        os.kill(extractor, signal.SIGSTOP)
        code, _, _ = self.cli("sync", "shop", "--wait", check=False)
        os.kill(extractor, signal.SIGKILL)
        self.assertEqual(code, 1)
        run = json.loads(self.cli("runs", "shop", "--json")[1])[0]
        self.assertEqual(run["status"], "failed")
        self.assertIn({"reason": "extractor-isavigne %s stopped sending heartbeats" % instance,
                       "service": "extractor-isavigne", "instance": instance}, run["errors"])
        self.cli("up")  # a new extractor takes its place
        self.wait_alive(self.SERVICES)
        status = self.status()
        dead = [s for s in status["services"] if not s["alive"]]
        self.assertEqual([(s["instance"], s["failed_runs"]) for s in dead],
                         [(instance, [run["id"]])])
        self.assertEqual(len(status["services"]), self.SERVICES + 1)
        _, text, _ = self.cli("status")
        self.assertRegex(text, r"%s .* no\s+%d\n" % (re.escape(instance), run["id"]))
        # a day later it no longer matters
        self.pg.psql("UPDATE ops.sync_runs SET finished_at = now() - interval '25 hours' "
                     "WHERE id = %d" % run["id"])
        status = self.status()
        self.assertEqual([s for s in status["services"] if not s["alive"]], [])
        self.assertEqual(status["services_hidden"], 3 * self.SERVICES + 1)
        shutil.rmtree(folder)

    def wait_alive(self, count, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if sum(s["alive"] for s in self.status("--all")["services"]) == count:
                    return
            except (AssertionError, ValueError):
                pass
            time.sleep(0.2)
        self.fail("%d services never alive: %s" % (count, self.cli("status", "--all")[1]))


class WaitWhenOrchestratorDies(StackCase):
    NAME = "waitdies"

    def test_sync_wait_fails_fast(self):
        folder = tempfile.mkdtemp(prefix="vd-waitdies-")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "gen_isavigne.py"),
                        folder, "--sales", "150000", "--customers", "5000", "--products", "300",
                        "--stock", "100"], check=True, capture_output=True)
        self.stack.add_isavigne("big", folder)
        wait = subprocess.Popen([os.path.join(BIN, "vendange"), "sync", "big", "--wait"],
                                env=self.stack.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            runs = json.loads(self.stack.cli("runs", "big", "--json")[1])
            if runs and runs[0]["status"] == "running":
                break
            time.sleep(0.1)
        self.assertEqual(runs[0]["status"], "running", runs)
        self.stack.kill("orchestrator")
        killed = time.time()
        out, err = wait.communicate(timeout=30)
        self.assertEqual(wait.returncode, 1, out + err)
        self.assertLess(time.time() - killed, 15)
        self.assertIn("lost contact with the orchestrator", err)
        # back: the run is failed with the reason, the next one succeeds
        self.stack.start("orchestrator")
        self.stack.wait_ready(1)
        run = json.loads(self.stack.cli("runs", "big", "--json")[1])[0]
        self.assertEqual(run["status"], "failed")
        self.assertIn("orchestrator restarted", json.dumps(run["errors"]))
        status, run = self.stack.sync("big")
        self.assertEqual((status, run["status"]), (0, "success"), run)


if __name__ == "__main__":
    unittest.main()
