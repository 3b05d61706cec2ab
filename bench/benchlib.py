"""What every bench case shares: the registry, the measured PostgreSQL,
the vendange services, resource sampling of processes, timing.

A bench case is a function registered with @case that takes the run's
Context and returns one Sample (or a list of them): one row of the
result table per distinct Sample.method. bench/run.py calls every case
once per round, rounds alternating (A B C A B C ...).
"""
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402  (the test harness: initdb as postgres, free ports, Stack)

CASES = []
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    """One timed run of one method.

    method: short id shown in the table (R1, R2, vd_full, ...); label: what
    it is, in words; rows: input rows the method handled (for rows/s);
    procs: {process name: {"peak_rss_mb": float, "cpu_s": float}};
    check: what was verified after the run (counts), shown in the report;
    extra: anything else worth keeping in the JSON (e.g. top statements).
    unit: what rows / seconds counts ("rows/s", "records/s"); throughput:
    the row's own figures in words, shown instead of that rate when set
    (the webhook row: events/s acknowledged, p50, p99); compare: whether
    the x R1 and x R3 ratios mean something (False for rows of other
    data than the iSaVigne export).
    """
    method: str
    label: str
    seconds: float
    rows: int
    procs: dict = field(default_factory=dict)
    check: str = ""
    extra: dict = field(default_factory=dict)
    unit: str = "rows/s"
    throughput: str = ""
    compare: bool = True


def case(order):
    """Registers a bench case; cases run in this order in every round."""
    def register(fn):
        CASES.append((order, fn.__name__, fn))
        CASES.sort(key=lambda c: (c[0], c[1]))
        return fn
    return register


class BenchPostgres(harness.Postgres):
    """The test harness's throwaway server, but durable: fsync,
    full_page_writes and synchronous_commit stay at their defaults (on).
    Only the connection settings (unix socket, free port) are set, plus
    whatever BENCH_PG_SETTINGS adds ("name=value,name=value")."""

    def __init__(self, extra, profile=False):
        self.extra = [s.strip() for s in extra.split(",") if s.strip()]
        self.profile = profile
        super().__init__()

    def start(self):
        opts = "-c listen_addresses='' -k %s -p %d" % (self.dir, self.port)
        for s in self.extra:
            opts += " -c %s" % s
        if self.profile:
            opts += " -c shared_preload_libraries=pg_stat_statements"
        subprocess.run(harness.as_pg_user([self.pg_ctl, "-D", self.data, "-o", opts, "-w", "-l",
                                           os.path.join(self.dir, "log"), "start"]),
                       check=True, capture_output=True)

    def dsn_for(self, db):
        return "postgresql:///%s?host=%s&port=%d&user=postgres" % (db, self.dir, self.port)

    def psql_args(self, db):
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p", str(self.port),
                "-U", "postgres", "-d", db]

    def postmaster_pid(self):
        return postmaster_pid(self)

    def recreate(self, db):
        self.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % db, db="postgres")
        self.psql("CREATE DATABASE %s" % db, db="postgres")
        if self.profile:
            self.psql("CREATE EXTENSION pg_stat_statements", db=db)

    def statements_reset(self, db):
        if self.profile:
            self.psql("SELECT pg_stat_statements_reset()", db=db)

    def top_statements(self, db, n=8):
        """With BENCH_PG_PROFILE: the statements that took the most time
        since the last reset, as [{"ms", "calls", "query"}]."""
        if not self.profile:
            return []
        rows = self.psql("SELECT round(total_exec_time)::bigint, calls, "
                         "left(regexp_replace(query, '\\s+', ' ', 'g'), 160) "
                         "FROM pg_stat_statements WHERE query NOT LIKE '%%pg_stat_statements%%' "
                         "ORDER BY total_exec_time DESC LIMIT %d" % n, db=db)
        return [{"ms": int(ms), "calls": int(calls), "query": q} for ms, calls, q in rows]


class perf_record:
    """With BENCH_PERF=1: `perf record -g` of the whole machine during the
    block, into <logs>/perf-<name>.data, and the pids that are the row's
    own (services, the server's processes) in perf-<name>.pids, for
    `perf report --pid`. For profiling only: perf costs CPU, so such a
    run gives no reference numbers."""

    def __init__(self, ctx, stack, name):
        self.on = os.environ.get("BENCH_PERF") == "1"
        self.ctx, self.stack, self.name = ctx, stack, name

    def __enter__(self):
        if self.on:
            out = self.ctx.log("perf-%s.data" % self.name)
            self.proc = subprocess.Popen(["perf", "record", "-q", "-F", "499", "-g", "-a", "-o",
                                          out], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        if self.on:
            pids = list(self.stack.pids().values())
            root = postmaster_pid(self.ctx.pg)
            pids += [root] + [int(p) for p in subprocess.run(
                ["pgrep", "-P", str(root)], capture_output=True, text=True).stdout.split()]
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait()
            with open(self.ctx.log("perf-%s.pids" % self.name), "w") as f:
                f.write(",".join(str(p) for p in pids))
        return False


# ---------------------------------------------------------------- /proc

def postmaster_pid(pg):
    """The pid of a server of the harness (BenchPostgres or the test
    harness's Postgres: anything with its data folder in .data)."""
    with open(os.path.join(pg.data, "postmaster.pid")) as f:
        return int(f.readline())

def _stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (index 0 = state)."""
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pid, children=False):
    """utime + stime of a process (plus its reaped children's)."""
    f = _stat_fields(pid)
    ticks = int(f[11]) + int(f[12])
    if children:
        ticks += int(f[13]) + int(f[14])
    return ticks / TICK


def peak_rss_mb(pid):
    """VmHWM of a process, in MB (1e6 bytes)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return 0.0


def reset_peak_rss(pid):
    """Starts VmHWM again from the current RSS (Linux clear_refs 5)."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
    except OSError:
        pass


def tree_cpu_seconds(root):
    """CPU of a process and of all its children, live or reaped: what the
    PostgreSQL server (postmaster and backends) spent."""
    total = cpu_seconds(root, children=True)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            f = _stat_fields(int(name))
            if int(f[1]) == root:
                total += cpu_seconds(int(name), children=True)
        except (OSError, ValueError, IndexError):
            continue
    return total


def settle(pg, pids=None, reco_db=None, timeout=600.0, window=0.5, idle_cpu_s=0.02):
    """Waits until nothing of another row runs: when reco_db is given (a
    stack with a recommender), until reco.runs there has no queued or
    running job; then until the processes of pids ({name: pid}) and the
    PostgreSQL server (postmaster, backends, autovacuum) spent at most
    idle_cpu_s CPU seconds in each of two consecutive windows of window
    seconds. Returns {"waited_s", "reco_jobs_waited", "idle", "busy_cpu_s"}:
    idle False when timeout passed first (the run goes on, and says so).
    """
    t0 = time.perf_counter()
    deadline = t0 + timeout
    jobs = 0
    if reco_db:
        sql = "SELECT count(*) FROM reco.runs WHERE status IN ('queued', 'running')"
        while time.perf_counter() < deadline:
            open_jobs = int(pg.psql(sql, db=reco_db)[0][0])
            if open_jobs == 0:
                break
            jobs = max(jobs, open_jobs)
            time.sleep(window)

    def spent():
        total = tree_cpu_seconds(pg.postmaster_pid())
        for pid in (pids or {}).values():
            try:
                total += cpu_seconds(pid)
            except (OSError, ValueError):
                pass
        return total

    quiet, busy, before = 0, 0.0, spent()
    while quiet < 2 and time.perf_counter() < deadline:
        time.sleep(window)
        now = spent()
        if now - before <= idle_cpu_s:
            quiet += 1
        else:
            quiet, busy = 0, busy + now - before
        before = now
    return {"waited_s": round(time.perf_counter() - t0, 2), "reco_jobs_waited": jobs,
            "idle": quiet >= 2, "busy_cpu_s": round(busy, 2)}


def autovacuum_counts(pg, db):
    """{schema.table: autovacuum + autoanalyze runs so far} of a database:
    the difference over a measured run says whether autovacuum worked
    during it (of that run's own writes, or of the run before)."""
    rows = pg.psql("SELECT schemaname || '.' || relname, autovacuum_count + autoanalyze_count "
                   "FROM pg_stat_all_tables WHERE autovacuum_count + autoanalyze_count > 0", db=db)
    return {name: int(n) for name, n in rows}


def autovacuum_since(pg, db, before):
    """The tables autovacuum worked on since autovacuum_counts() gave before."""
    return sorted(t for t, n in autovacuum_counts(pg, db).items() if n > before.get(t, 0))


def settled_text(settled):
    """settle()'s answer in words, for a sample's check column."""
    text = "idle after %.1f s" % settled["waited_s"] if settled["idle"] else \
        "NOT idle after %.1f s" % settled["waited_s"]
    if settled["reco_jobs_waited"]:
        text += " (waited for %d recommendation job(s))" % settled["reco_jobs_waited"]
    if settled.get("autovacuum_during"):
        text += "; autovacuum during the run: %s" % ", ".join(settled["autovacuum_during"])
    return text


class Monitor:
    """Peak RSS and CPU seconds of named processes over one measured run,
    and the CPU seconds of the PostgreSQL server.

    with Monitor({"loader": pid, ...}, pg) as m: ...; then m.procs."""

    def __init__(self, pids, pg=None, interval=0.1):
        self.pids = dict(pids)
        self.pg = pg
        self.interval = interval
        self.procs = {}

    def __enter__(self):
        self.cpu0, self.peak = {}, {}
        for name, pid in self.pids.items():
            reset_peak_rss(pid)
            self.cpu0[name] = self._safe(cpu_seconds, pid)
            self.peak[name] = self._safe(peak_rss_mb, pid)
        self.pg0 = tree_cpu_seconds(postmaster_pid(self.pg)) if self.pg else None
        self.cpu1 = dict(self.cpu0)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    @staticmethod
    def _safe(fn, pid):
        try:
            return fn(pid)
        except (OSError, ValueError):
            return None

    def _read(self):
        for name, pid in self.pids.items():
            rss, cpu = self._safe(peak_rss_mb, pid), self._safe(cpu_seconds, pid)
            if rss is not None:
                self.peak[name] = max(self.peak[name] or 0, rss)
            if cpu is not None:
                self.cpu1[name] = cpu

    def _sample(self):
        while not self.stop.wait(self.interval):
            self._read()

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self._read()
        for name in self.pids:
            cpu = None
            if self.cpu0[name] is not None and self.cpu1[name] is not None:
                cpu = round(self.cpu1[name] - self.cpu0[name], 2)
            self.procs[name] = {"peak_rss_mb": round(self.peak[name] or 0, 1), "cpu_s": cpu}
        if self.pg:
            pg1 = tree_cpu_seconds(postmaster_pid(self.pg))
            self.procs["postgres"] = {"peak_rss_mb": None, "cpu_s": round(pg1 - self.pg0, 2)}
        return False


def run_measured(cmd, log, pg=None, env=None):
    """Runs a client command to completion; returns (seconds, procs) with
    its own peak RSS and CPU (from wait4) and the server's CPU."""
    pg0 = tree_cpu_seconds(pg.postmaster_pid()) if pg else None
    with open(log, "ab") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError("%s exited %d; see %s" % (cmd[0], proc.returncode, log))
    procs = {os.path.basename(cmd[0]): {"peak_rss_mb": round(usage.ru_maxrss * 1024 / 1e6, 1),
                                        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2)}}
    if pg:
        procs["postgres"] = {"peak_rss_mb": None,
                             "cpu_s": round(tree_cpu_seconds(pg.postmaster_pid()) - pg0, 2)}
    return seconds, procs


# ---------------------------------------------------------------- services

class BenchStack(harness.Stack):
    """The real services with their production settings (log level info,
    default heartbeat and timeouts), logs in the bench's log folder.
    recommender=False starts no recommender: a sync still queues its
    recommendation job (reco.runs), which nobody serves, so a measured
    run never shares the machine with the job of the run before it."""

    PRODUCTION = {
        "VENDANGE_LOG_LEVEL": "info", "VENDANGE_HEARTBEAT_MS": "1000",
        "VENDANGE_DEAD_AFTER_S": "60", "VENDANGE_DISPATCH_TIMEOUT_S": "60",
        "VENDANGE_STALL_TIMEOUT_S": "600",
    }

    def __init__(self, dsn, name, log_dir, extractors=1, env=None, odoo_extractors=0,
                 recommender=True):
        self.log_dir = log_dir
        target = type("Target", (), {"dsn": dsn})
        settings = dict(self.PRODUCTION)
        settings.update(env or {})
        super().__init__(target, name, extractors=extractors, env=settings,
                         odoo_extractors=odoo_extractors, recommender=recommender)

    def start(self, role, key=None):
        key = key or role
        log = open(os.path.join(self.log_dir, "%s-%s.log" % (self.name, key)), "ab")
        self.procs[key] = subprocess.Popen([os.path.join(harness.BIN, role)], env=self.env,
                                           stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        return self.procs[key]

    def pids(self):
        return {key: p.pid for key, p in self.procs.items() if p.poll() is None}

    def close(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        bad = []
        for key, proc in self.procs.items():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                bad.append(key)
        shutil.rmtree(self.home, ignore_errors=True)
        return bad


# ---------------------------------------------------------------- context

@dataclass
class Context:
    """What a case gets. export: the generated iSaVigne folder; changed:
    the folder holding the ventes.csv with BENCH_CHANGE_PERCENT % of its
    lines changed; sizes: {"sales": N, ...}; work: a scratch folder;
    logs: where logs of clients and services go; round: 0, 1, 2, ..."""
    pg: BenchPostgres
    export: str
    changed: str
    sizes: dict
    work: str
    logs: str
    round: int = 0
    state: dict = field(default_factory=dict)

    def once(self, key, fn):
        """fn() the first time key is asked for, its value afterwards."""
        if key not in self.state:
            self.state[key] = fn()
        return self.state[key]

    def quiesce(self, pids=None, reco_db=None):
        """Before a measured run: settle() (nothing of another row still
        running: recommendation jobs when reco_db is given, the
        processes of pids and the server idle), then a checkpoint, so no
        run pays for the previous one's dirty pages. Returns what
        settle() found, for the sample's extra."""
        waited = settle(self.pg, pids, reco_db)
        self.pg.psql("CHECKPOINT", db="postgres")
        return waited

    def log(self, name):
        return os.path.join(self.logs, name)
