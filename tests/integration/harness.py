"""Integration test harness: a throwaway PostgreSQL and the real services.

PostgreSQL refuses to run as root, so when the tests run as root the
server runs as the `postgres` system user (runuser) in a folder that user
owns. Services are the real binaries ($VD_BIN), talking over real ZeroMQ
TCP sockets on free loopback ports; their logs go to tests/artifacts/.
"""
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("VD_BIN", os.path.join(ROOT, "build", "bin"))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SAMPLES = os.path.join(ROOT, "samples")
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")


def pg_bindir():
    for candidate in ("/usr/lib/postgresql/15/bin",):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
    return out.stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_pg_user(cmd):
    """Runs cmd as the postgres user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


class Postgres:
    """A PostgreSQL server of its own in a temporary folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vd-pg-")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        bindir = pg_bindir()
        self.pg_ctl = os.path.join(bindir, "pg_ctl")
        subprocess.run(as_pg_user([os.path.join(bindir, "initdb"), "-D", self.data, "-U", "postgres",
                                   "--auth=trust", "-E", "UTF8", "--locale=C"]),
                       check=True, capture_output=True)
        self.start()
        self.psql("CREATE DATABASE vendange", db="postgres")
        self.dsn = "postgresql:///vendange?host=%s&port=%d&user=postgres" % (self.dir, self.port)

    def start(self):
        opts = "-c listen_addresses='' -k %s -p %d -c fsync=off -c full_page_writes=off" % (
            self.dir, self.port)
        subprocess.run(as_pg_user([self.pg_ctl, "-D", self.data, "-o", opts, "-w", "-l",
                                   os.path.join(self.dir, "log"), "start"]),
                       check=True, capture_output=True)

    def stop(self, mode="fast"):
        subprocess.run(as_pg_user([self.pg_ctl, "-D", self.data, "-m", mode, "-w", "stop"]),
                       capture_output=True)

    def psql(self, sql, db="vendange"):
        """Rows of a query as lists of strings (NULL as None)."""
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                              "-h", self.dir, "-p", str(self.port), "-U", "postgres", "-d", db,
                              "-P", "null=\x1e", "-c", sql],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("psql failed: %s\n%s" % (sql, out.stderr))
        rows = []
        for line in out.stdout.split("\n"):
            if line == "":
                continue
            rows.append([None if v == "\x1e" else v for v in line.split("\x1f")])
        return rows

    def value(self, sql):
        rows = self.psql(sql)
        return rows[0][0] if rows else None

    def close(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def stack_env(pg, home):
    """The environment of services (and of the CLI) using pg and the state
    folder home, every endpoint on a free loopback port, quick heartbeats,
    sanitizer options of the tests."""
    http = free_port()
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": pg.dsn,
        "VENDANGE_HOME": home,
        "VENDANGE_ENV_FILE": "/nonexistent",
        "VENDANGE_ORCHESTRATOR_ENDPOINT": "tcp://127.0.0.1:%d" % free_port(),
        "VENDANGE_NORMALIZER_ENDPOINT": "tcp://127.0.0.1:%d" % free_port(),
        "VENDANGE_LOADER_ENDPOINT": "tcp://127.0.0.1:%d" % free_port(),
        "VENDANGE_HTTP_ADDR": "127.0.0.1:%d" % http,
        "VENDANGE_API_URL": "http://127.0.0.1:%d" % http,
        "VENDANGE_HEARTBEAT_MS": "200",
        "VENDANGE_DEAD_AFTER_S": "3",
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
        "LSAN_OPTIONS": "suppressions=%s" % os.path.join(ROOT, "tests", "lsan.supp"),
    })
    return env


class Stack:
    """The services of vendange against a Postgres, on free ports."""

    SERVICES = ("orchestrator", "normalizer", "loader")

    def __init__(self, pg, name, extractors=1, env=None, gateway=False, odoo_extractors=0,
                 recommender=True):
        self.pg = pg
        self.name = name
        self.home = tempfile.mkdtemp(prefix="vd-home-")
        os.makedirs(ARTIFACTS, exist_ok=True)
        self.env = stack_env(pg, self.home)
        self.env.update({
            "VENDANGE_SECRET_KEY": secrets.token_hex(32),
            "VENDANGE_DISPATCH_TIMEOUT_S": "20",
            "VENDANGE_STALL_TIMEOUT_S": "30",
            "VENDANGE_LOG_LEVEL": "debug",
        })
        self.env.update(env or {})
        self.api = self.env["VENDANGE_API_URL"]
        self.procs = {}
        self.logs = []
        self.cli("keys", "init")  # the services' CURVE keys, in $VENDANGE_HOME/keys
        for role in self.SERVICES:
            self.start(role)
        for i in range(extractors):
            self.start("extractor-isavigne", "extractor-isavigne-%d" % i)
        for i in range(odoo_extractors):
            self.start("extractor-odoo", "extractor-odoo-%d" % i)
        self.gateway = gateway
        if gateway:  # the webhook gateway, on a free port, its spool in the home
            self.env.setdefault("VENDANGE_WEBHOOK_ADDR", "127.0.0.1:%d" % free_port())
            self.webhook_url = "http://" + self.env["VENDANGE_WEBHOOK_ADDR"]
            self.spool = os.path.join(self.home, "spool", "webhook")
            self.start("extractor-webhook")
        self.recommender = recommender  # reco/: runs the jobs of reco.runs
        if recommender:
            self.start("recommender")
        self.wait_ready(extractors, odoo_extractors)

    def start(self, role, key=None):
        key = key or role
        log_path = os.path.join(ARTIFACTS, "%s-%s.log" % (self.name, key))
        # a fresh log per test run; a restart of the same service appends
        log = open(log_path, "ab" if log_path in self.logs else "wb")
        if log_path not in self.logs:
            self.logs.append(log_path)
        self.procs[key] = subprocess.Popen([os.path.join(BIN, role)], env=self.env,
                                           stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        return self.procs[key]

    def get(self, path):
        headers = {}
        if self.env.get("VENDANGE_API_TOKEN"):
            headers["Authorization"] = "Bearer " + self.env["VENDANGE_API_TOKEN"]
        req = urllib.request.Request(self.api + path, headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode())

    def api_call(self, method, path, body=None):
        """(status, JSON answer) of an API call."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.env.get("VENDANGE_API_TOKEN"):
            headers["Authorization"] = "Bearer " + self.env["VENDANGE_API_TOKEN"]
        req = urllib.request.Request(self.api + path, data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read().decode() or "null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode() or "null")

    def wait_ready(self, extractors, odoo_extractors=0, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                services = [s for s in self.get("/api/status")["services"] if s.get("alive")]
                roles = [s["role"] for s in services]
                if ("normalizer" in roles and "loader" in roles
                        and roles.count("extractor-isavigne") >= extractors
                        and roles.count("extractor-odoo") >= odoo_extractors
                        and (not getattr(self, "gateway", False) or "extractor-webhook" in roles)
                        and (not getattr(self, "recommender", False) or "recommender" in roles)):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("services not ready; see logs in %s" % ARTIFACTS)

    def cli(self, *args, check=True, timeout=300):
        """Runs the vendange CLI; returns (exit status, stdout, stderr)."""
        out = subprocess.run([os.path.join(BIN, "vendange")] + list(args), env=self.env,
                             capture_output=True, text=True, timeout=timeout)
        if check and out.returncode != 0:
            raise AssertionError("vendange %s failed (%d):\n%s\n%s" % (
                " ".join(args), out.returncode, out.stdout, out.stderr))
        return out.returncode, out.stdout, out.stderr

    def add_isavigne(self, name, folder, *settings):
        args = ["connector", "add", name, "--type", "isavigne", "--set", "export_path=" + folder]
        for s in settings:
            args += ["--set", s]
        return self.cli(*args)

    def sync(self, name, *flags, timeout=300):
        """Syncs and waits; returns (exit status, the run as JSON)."""
        status, _, _ = self.cli("sync", name, "--wait", *flags, check=False, timeout=timeout)
        runs = json.loads(self.cli("runs", name, "--json")[1])
        return status, runs[0]

    def kill(self, key, sig=signal.SIGKILL):
        self.procs[key].send_signal(sig)
        self.procs[key].wait(timeout=20)

    def sanitizer_reports(self):
        found = []
        for path in self.logs:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if marker in text:
                    found.append("%s: %s" % (os.path.basename(path), marker))
        return found

    def close(self):
        """SIGTERM every service; each must exit 0 within 10 s."""
        bad = []
        for key, proc in self.procs.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for key, proc in self.procs.items():
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = "timeout"
            if code not in (0, -9):
                bad.append("%s exited %s" % (key, code))
        shutil.rmtree(self.home, ignore_errors=True)
        return bad


class StackCase(unittest.TestCase):
    """A test class with one PostgreSQL and one stack of its own: NAME names
    the logs, EXTRACTORS and ENV configure the stack. At the end every
    service must exit cleanly and its log hold no sanitizer report."""
    NAME = None
    EXTRACTORS = 1
    ENV = {}
    RECOMMENDER = True  # start the recommender
    GATEWAY = False  # start the webhook gateway
    ODOO_EXTRACTORS = 0

    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()
        cls.stack = Stack(cls.pg, cls.NAME, extractors=cls.EXTRACTORS, env=cls.ENV,
                          recommender=cls.RECOMMENDER, gateway=cls.GATEWAY,
                          odoo_extractors=cls.ODOO_EXTRACTORS)

    @classmethod
    def tearDownClass(cls):
        bad = cls.stack.close()
        reports = cls.stack.sanitizer_reports()
        cls.pg.close()
        assert not bad, bad
        assert not reports, reports


def copy_tree(src):
    """A writable copy of a fixture folder."""
    dst = tempfile.mkdtemp(prefix="vd-export-")
    for name in os.listdir(src):
        shutil.copy(os.path.join(src, name), dst)
    return dst
