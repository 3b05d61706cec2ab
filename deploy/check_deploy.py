"""make check-deploy: the docker-compose stack on the real Docker Engine.

Builds the images (make images), starts deploy/docker-compose.yml under a
project name of its own with three extractor-isavigne replicas and the
export folders mounted, and checks, from the host:
  - every variable the compose file sets is one its service reads (--help);
  - every container becomes healthy; GET /health on the published port;
  - two connectors (samples/isavigne, tests/fixtures/dialect_b) sync and the
    canonical tables hold their exact counts (psql from the host); the
    recommender serves a job queued in reco.runs;
  - every ZeroMQ socket speaks CURVE with the keys `vendange keys init`
    made (in the image) into the folder the compose file mounts;
  - an extractor container SIGKILLed mid-run (docker kill): the run is
    failed within the heartbeat timeout, the next run succeeds on another
    replica and every record is there exactly once (count and checksum of
    each table equal to a clean load); the same with `docker stop` of the
    busy extractor, and `docker-compose stop` of the normalizer, the
    loader, the orchestrator and PostgreSQL during a run (exit 0 within
    10 s; once the orchestrator or PostgreSQL is back, `up`, the run has
    ended: failed, or for PostgreSQL possibly finished by the loader's
    retries, never left running);
  - an extractor cut off from the network mid-run (docker network
    disconnect: alive but unreachable): the run fails within the heartbeat
    timeout; reconnected, the batches it still sends for that run are
    refused by the loader (run fencing), and the next run loads every
    record exactly once;
  - the recommender stopped during a job over that load (exit 0 within
    10 s, the job handed back to the queue, done after `up`), and the
    webhook gateway stopped while Brevo events stream in (exit 0 within
    10 s, every acknowledged event loaded after `up`);
  - `docker-compose stop` of each service while idle, PostgreSQL too: exit
    0 within 10 s;
    backup.sh, restore.sh into a fresh PostgreSQL container, row count and
    checksum of every canonical, ops and reco table equal; `up` again resumes.
Skips (exit 0, with a message) only when no Docker daemon answers.
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import free_port  # noqa: E402
from test_lossfree import TABLES, wait_for, checksums as table_checksums  # noqa: E402
from test_webhook import tx, tx_key  # noqa: E402
COMPOSE_FILE = os.path.join(ROOT, "deploy", "docker-compose.yml")
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
PROJECT = "vdcheck%d" % os.getpid()
SALES = 500000  # a load of about 8 s: time to cut a run off mid-way
DEAD_AFTER_S = 3
# samples/isavigne (60 customers, 40 products, 300 sales lines of which one
# is rejected, 50 stock rows) then tests/fixtures/dialect_b (5 customers,
# 4 products of which one is already known, 10 sales lines, 4 stock rows of
# which one is already known)
EXPECTED = {"customers": 65, "product_catalog": 43, "sales_lines": 309, "stock_levels": 53}
PG_CONTRACT = {"POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB", "PGDATA"}
PASSWORD = "check-deploy-%d" % os.getpid()
STARTED = time.time()
# postgres, orchestrator, normalizer, loader, 3 extractor-isavigne,
# extractor-odoo, extractor-webhook, recommender
CONTAINERS = 10


def log(msg):
    print("check-deploy [%5.1fs] %s" % (time.time() - STARTED, msg), flush=True)


def run(cmd, check=True, timeout=600, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and out.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(cmd), out.returncode,
                                                          out.stdout[-3000:], out.stderr[-3000:]))
    return out


def compose_command():
    if run(["docker", "compose", "version"], check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise AssertionError("neither `docker compose` nor docker-compose is installed")


class Stack:
    def __init__(self, tmp):
        self.compose = compose_command() + ["-p", PROJECT, "-f", COMPOSE_FILE]
        self.http_port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "POSTGRES_PASSWORD": PASSWORD,
            "VENDANGE_SECRET_KEY": os.urandom(32).hex(),
            "VENDANGE_API_TOKEN": os.urandom(16).hex(),
            "PUBLISH_HTTP": "127.0.0.1:%d" % self.http_port,
            "PUBLISH_WEBHOOK": "127.0.0.1:%d" % free_port(),
            "EXPORTS_DIR": os.path.join(tmp, "exports"),
            "KEYS_DIR": os.path.join(tmp, "keys"),
            "VENDANGE_HEARTBEAT_MS": "200",
            "VENDANGE_DEAD_AFTER_S": str(DEAD_AFTER_S),
            "VENDANGE_DISPATCH_TIMEOUT_S": "30",
            "VENDANGE_BATCH_ROWS": "2000",
        })
        self.api = "http://127.0.0.1:%d" % self.http_port

    def dc(self, *args, check=True, timeout=600):
        return run(self.compose + list(args), check=check, timeout=timeout, env=self.env)

    def up(self):
        self.dc("up", "-d", "--scale", "extractor-isavigne=3", timeout=300)
        self.wait_healthy()

    def containers(self, service=None):
        cmd = ["docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + PROJECT]
        if service:
            cmd += ["--filter", "label=com.docker.compose.service=" + service]
        return run(cmd).stdout.split()

    def inspect(self, cid, fmt):
        return run(["docker", "inspect", "-f", fmt, cid]).stdout.strip()

    def wait_healthy(self, timeout=180):
        def healthy():
            ids = self.containers()
            states = [self.inspect(c, "{{.State.Status}} {{if .State.Health}}"
                                      "{{.State.Health.Status}}{{end}}") for c in ids]
            return len(ids) == CONTAINERS and all(s == "running healthy" for s in states)
        wait_for(healthy, timeout, "%d healthy containers" % CONTAINERS)

    def orchestrator(self):
        return self.containers("orchestrator")[0]

    def cli(self, *args, check=True, env=None):
        extra = [a for k, v in (env or {}).items() for a in ("-e", "%s=%s" % (k, v))]
        out = run(["docker", "exec"] + extra + [self.orchestrator(), "vendange"] + list(args),
                  check=check)
        return out.returncode, out.stdout

    def get(self, path):
        req = urllib.request.Request(self.api + path, headers={
            "Authorization": "Bearer " + self.env["VENDANGE_API_TOKEN"]})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode())

    def sync(self, name):
        status, _ = self.cli("sync", name, "--wait", check=False)
        return status, json.loads(self.cli("runs", name, "--json")[1])[0]

    def dsn(self, cid=None):
        cid = cid or self.containers("postgres")[0]
        ip = self.inspect(cid, "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}")
        return "postgresql://postgres:%s@%s:5432/vendange" % (PASSWORD, ip.split()[0])

    def psql(self, sql, dsn=None):
        out = run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-c", sql,
                   dsn or self.dsn()])
        return [line.split("\t") for line in out.stdout.splitlines()]

    def down(self):
        os.makedirs(ARTIFACTS, exist_ok=True)
        with open(os.path.join(ARTIFACTS, "check-deploy.log"), "w") as f:
            f.write(self.dc("logs", "--no-color", check=False).stdout)
        self.dc("down", "-v", "--remove-orphans", check=False)


# what the containers' healthcheck (deploy/docker/healthcheck.sh, through
# the vendange CLI) reads besides the service itself
CLI_HEALTHCHECK = {"VENDANGE_API_TOKEN"}


def check_environment(stack, image):
    """Every variable a service's environment sets is one it reads."""
    import yaml
    config = yaml.safe_load(stack.dc("config").stdout)
    for name, svc in config["services"].items():
        env = svc.get("environment") or {}
        keys = set(env) if isinstance(env, dict) else {e.split("=", 1)[0] for e in env}
        if name == "postgres":
            read = PG_CONTRACT
        else:
            command = svc["command"] if isinstance(svc["command"], list) else svc["command"].split()
            helptext = run(["docker", "run", "--rm", "--entrypoint", command[0], image,
                            "--help"]).stdout
            read = {w for w in helptext.split() if w.isupper() and "_" in w}
            read |= CLI_HEALTHCHECK  # its healthcheck runs the vendange CLI
        unknown = keys - read
        assert not unknown, "%s: docker-compose.yml sets %s, which it does not read" % (
            name, sorted(unknown))
    example = open(os.path.join(ROOT, "deploy", ".env.example")).read()
    every = set()
    for svc in ("orchestrator", "loader", "normalizer", "extractor-webhook", "recommender"):
        every |= {w for w in run(["docker", "run", "--rm", "--entrypoint", svc, image,
                                  "--help"]).stdout.split() if w.startswith("VENDANGE_")}
    for line in example.splitlines():
        key = line.split("=", 1)[0]
        if key.startswith("VENDANGE_") and "IMAGE" not in key:
            assert key in every, ".env.example sets %s, which no service reads" % key


def checksums(stack, dsn=None):
    """Row count and md5 of the content of every table of the canonical, ops
    and reco schemas."""
    out = {}
    names = [r[0] for r in stack.psql(
        "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname IN "
        "('canonical', 'ops', 'reco') ORDER BY 1", dsn)]
    for t in names:
        out[t] = stack.psql("SELECT count(*), md5(coalesce(string_agg(to_jsonb(t)::text, '|' "
                            "ORDER BY to_jsonb(t)::text), '')) FROM %s t" % t, dsn)[0]
    return out


def empty_tables(stack):
    stack.psql("TRUNCATE " + ", ".join("canonical." + t for t in TABLES)
               + ", ops.key_map, ops.dirty_customers")


def host_of(instance):
    return instance.split(":")[1] if instance else None


def signal_to_exit(cid, since):
    """Seconds from Docker's first signal to container cid after since (its
    kill event: the stop signal) to its exit (die event), read back from
    the daemon's event log."""
    out = run(["docker", "events", "--since", "%.3f" % since, "--until", "%.3f" % time.time(),
               "--filter", "container=" + cid, "--filter", "event=kill", "--filter", "event=die",
               "--format", "{{.Action}} {{.TimeNano}}"]).stdout
    at = {}
    for action, ns in (line.split() for line in out.splitlines()):
        at.setdefault(action, int(ns) / 1e9)
    return at["die"] - at["kill"]


def stop_in_time(stack, victim, what, service=None):
    """Stops container victim (docker stop: the signal comes at once) or,
    given service, that service (docker-compose stop), with 10 s of grace:
    it must exit 0 in time. Returns how long the stop took and the time
    from the signal to the exit."""
    t0 = time.time()
    if service:
        stack.dc("stop", "-t", "10", service)
    else:
        run(["docker", "stop", "-t", "10", victim])
    took = time.time() - t0
    code = stack.inspect(victim, "{{.State.ExitCode}}")
    assert code == "0" and took < 10, "stop of %s: exit %s in %.1fs" % (what, code, took)
    return took, signal_to_exit(victim, t0)


# without these a run's end can be neither recorded nor read: the run is
# looked at once they are back (`up`)
CONTROL = ("orchestrator", "postgres")


def freeze(container):
    """docker pause; the kernel's freezer sometimes gives up on a busy
    container ("unable to freeze"): tried again a few times."""
    for attempt in range(5):
        out = run(["docker", "pause", container], check=attempt == 4)
        if out.returncode == 0:
            return
        time.sleep(0.1)


def cut_off_mid_run(stack, name, reference, how, service="extractor-isavigne"):
    """Starts a run of a fresh connector on the big export and cuts off a
    container of service while it runs: the extractor that took the run,
    or the one normalizer, loader, orchestrator or PostgreSQL (how: "kill"
    is docker kill, "stop" is docker-compose stop / docker stop, which must
    exit 0 within 10 s). The run must end failed (or, after a stop, success:
    the stopped service finished its part first, or the loader retried
    until PostgreSQL was back; never after an orchestrator stop) in time,
    and the next one (on another replica, for an extractor) load everything
    exactly once."""
    empty_tables(stack)
    stack.cli("connector", "add", name, "--type", "isavigne", "--set",
              "export_path=/srv/exports/big")
    run_id = int(stack.cli("sync", name)[1].split()[1])
    # the orchestrator and PostgreSQL are stopped once rows are committed;
    # an extractor is cut off as soon as it has the run (waiting for a
    # committed row let a load of 120,000 lines finish first)
    committed = 1 if service in CONTROL else 0
    under_way = wait_for(lambda: (lambda r: r if r["status"] == "running" and r.get("extractor")
                                  and r["records_done"] >= committed else None)(
                                      stack.get("/api/runs/%d" % run_id)), 60, "run under way")
    host = host_of(under_way["extractor"])
    victim = [c for c in stack.containers(service) if service != "extractor-isavigne"
              or stack.inspect(c, "{{.Config.Hostname}}") == host][0]
    t0 = time.time()
    network = None
    if how == "kill":
        # frozen first (`docker kill` may take longer on a busy machine
        # than the rest of the run), then killed
        freeze(victim)
        run(["docker", "kill", victim])
    elif how == "disconnect":  # alive, but nobody reaches it nor hears from it
        network = stack.inspect(victim, "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}"
                                         "{{end}}")
        # frozen while it is cut off (docker network disconnect takes longer
        # than the rest of a run), then alive again without a network
        freeze(victim)
        run(["docker", "network", "disconnect", network, victim])
        run(["docker", "unpause", victim])
    else:
        stopped_in, own = stop_in_time(stack, victim, service + " during a run",
                                       None if service == "extractor-isavigne" else service)
    if service in CONTROL:
        stack.up()
        back_in = time.time() - t0
        t0 = time.time()
    done = wait_for(lambda: (lambda r: r if r["status"] not in ("queued", "running") else None)(
        stack.get("/api/runs/%d" % run_id)), 180 if service in CONTROL else 60,
        "run %d to end" % run_id)
    ended_in = time.time() - t0
    if done["status"] == "success":
        assert how == "stop" and service != "orchestrator", done
    else:
        assert done["status"] == "failed", done
        assert ended_in < DEAD_AFTER_S + 15, "run failed %.1fs after the cut" % ended_in
    log("%s of %s (%s) mid-run (%d records committed)%s%s: run %s %.1fs later: %s" % (
        how, service, victim[:12], under_way["records_done"],
        ", exit 0 in %.1fs (%.2fs after the signal)" % (stopped_in, own) if how == "stop" else "",
        ", `up` healthy %.1fs after the stop" % back_in if service in CONTROL else "",
        done["status"], ended_in, json.dumps(done.get("errors"))[:140]))
    if service not in ("extractor-isavigne",) + CONTROL:
        run(["docker", "start", victim])
        stack.wait_healthy()
    if network:
        late_batches_refused(stack, victim, network, run_id)
    status, again = stack.sync(name)
    assert (status, again["status"]) == (0, "success"), again
    if service == "extractor-isavigne" and not network:
        assert host_of(again["extractor"]) != host, "the next run must go to another replica"
    got = table_checksums(stack)
    assert got == reference, "after the cut: %s != clean load %s" % (got, reference)
    if service == "extractor-isavigne":
        run(["docker", "start", victim])
        stack.wait_healthy()


def late_batches_refused(stack, victim, network, run_id):
    """Reconnects an extractor cut off during run_id (failed since): what it
    still had queued for that run reaches the normalizer, which was told
    the run is over, or the loader, which finds it failed: either refuses
    it (and says so once), nothing of it is written."""
    run(["docker", "network", "connect", network, victim])
    refused = "records of run %d refused" % run_id

    def who():
        logs = stack.dc("logs", "--no-color", "normalizer", "loader", check=False).stdout
        lines = [line for line in logs.splitlines() if refused in line]
        return sorted({line.split("|")[0].strip() for line in lines})
    by = wait_for(who, 60, "the late batches of run %d to be refused" % run_id)
    wait_container_healthy(stack, victim, "the reconnected extractor")
    log("extractor %s reconnected after run %d failed: its late batches refused by %s"
        % (victim[:12], run_id, ", ".join(by)))


def wait_container_healthy(stack, cid, what, timeout=90):
    wait_for(lambda: stack.inspect(cid, "{{.State.Health.Status}}") == "healthy", timeout, what)


def stop_each(stack):
    """docker-compose stop -t 10 of each service, idle: exit status 0 means
    the service exited on SIGTERM by itself (at 10 s Docker SIGKILLs: 137),
    PostgreSQL on SIGINT (fast shutdown). PostgreSQL is started again for
    the backup."""
    for service in ("extractor-isavigne", "extractor-odoo", "extractor-webhook", "normalizer",
                    "loader", "recommender", "orchestrator", "postgres"):
        t0 = time.time()
        stack.dc("stop", "-t", "10", service)
        took = time.time() - t0
        for c in stack.containers(service):
            code = stack.inspect(c, "{{.State.Status}} {{.State.ExitCode}}")
            assert code == "exited 0", "%s: %s after stop" % (service, code)
        assert took < 12, "%s took %.1fs to stop" % (service, took)
        own = max(signal_to_exit(c, t0) for c in stack.containers(service))
        log("stop %s (idle): exit 0 in %.1fs (%.2fs after the signal)" % (service, took, own))
    stack.dc("start", "postgres")
    wait_container_healthy(stack, stack.containers("postgres")[0], "PostgreSQL started again")


def reco_run(stack, run_id=None):
    """Queues a recommendation job for every customer (run_id None), or
    reads job run_id: [id, status, customers, recommendations, error]."""
    if run_id is None:
        return stack.psql("WITH r AS (INSERT INTO reco.runs (scope, trigger) VALUES ('all',"
                          " 'manual') RETURNING id) SELECT id FROM r")[0][0]
    return stack.psql("SELECT id, status, customers, recommendations, coalesce(error, '')"
                      " FROM reco.runs WHERE id = %d" % int(run_id))[0]


def reco_done(stack, run_id, timeout=120):
    """Waits for job run_id to end: it must succeed and its
    recommendations be stored."""
    row = wait_for(lambda: (lambda r: r if r[1] not in ("queued", "running") else None)(
        reco_run(stack, run_id)), timeout, "recommendation run %s" % run_id)
    stored = int(stack.psql("SELECT count(*) FROM reco.recommendations")[0][0])
    assert row[1] == "success" and int(row[3]) > 0 and stored == int(row[3]), (row, stored)
    return row


def recommend(stack):
    """The stack's recommender serves a job queued in reco.runs (the
    notification wakes it) and stores recommendations."""
    t0 = time.time()
    row = reco_done(stack, reco_run(stack))
    log("recommender: %s recommendations for %s customers in %.1fs" % (
        row[3], row[2], time.time() - t0))


def stop_recommender_mid_job(stack):
    """A job over the big load; the recommender stopped (docker stop: the
    signal comes at once) while the job runs must exit 0 within 10 s and
    hand the job back to the queue; after `up` the job is done."""
    run_id = reco_run(stack)
    wait_for(lambda: reco_run(stack, run_id)[1] == "running", 60, "job %s running" % run_id)
    t0 = time.time()
    stopped_in, own = stop_in_time(stack, stack.containers("recommender")[0],
                                   "the recommender during a job")
    handed = reco_run(stack, run_id)
    assert handed[1] == "queued", "after the stop: %s" % handed
    stack.up()
    row = reco_done(stack, run_id)
    log("stop of recommender mid-job, exit 0 in %.1fs (%.2fs after the signal): job handed "
        "back, done after `up` (%s recommendations for %s customers) %.1fs after the stop" % (
            stopped_in, own, row[3], row[2], time.time() - t0))


HOOK_TOKEN = "check-deploy-hook-%d" % os.getpid()


def stop_gateway_mid_stream(stack):
    """Brevo events posted without pause to the webhook gateway (published
    port) while it is stopped (docker-compose stop) and brought back: exit
    0 within 10 s, and every event it acknowledged (2xx) is in
    canonical.contact_history (once: the key is its primary key), loaded
    from its spool volume after the restart if need be."""
    stack.cli("connector", "add", "brevo", "--type", "brevo", "--set", "token=env:HOOK_TOKEN",
              env={"HOOK_TOKEN": HOOK_TOKEN})
    host, port = stack.env["PUBLISH_WEBHOOK"].split(":")

    def request(method, path, events=None):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request(method, path, events and json.dumps(events).encode(), {
                "Authorization": "Bearer " + HOOK_TOKEN, "Content-Type": "application/json"})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    acked, refused, done = [], [0], threading.Event()

    def stream():
        n = 0
        while not done.is_set():
            events = [tx("delivered", "stop%d@example.net" % i, i) for i in range(n, n + 10)]
            n += 10
            try:
                status = request("POST", "/webhooks/brevo/brevo", events)[0]
            except OSError:
                status = 0
            if status // 100 == 2:
                acked.extend(tx_key(e) for e in events)
            else:
                refused[0] += 1
                time.sleep(0.05)

    wait_for(lambda: json.loads(request("GET", "/health")[1])["connectors"] >= 1, 30,
             "the gateway to know the connector")
    poster = threading.Thread(target=stream, daemon=True)
    poster.start()
    try:
        wait_for(lambda: len(acked) >= 300, 60, "300 events acknowledged")
        stopped_in, own = stop_in_time(stack, stack.containers("extractor-webhook")[0],
                                       "the gateway while events arrive", "extractor-webhook")
        before = len(acked)
        stack.up()
        wait_for(lambda: len(acked) >= before + 300, 60, "300 more events acknowledged")
    finally:
        done.set()
        poster.join(15)
    keys = set(acked)
    stored = wait_for(lambda: (lambda got: got if keys <= got else None)({r[0] for r in stack.psql(
        "SELECT contact_key FROM canonical.contact_history WHERE contact_key LIKE 'brevo-%'")}),
        60, "every acknowledged event loaded")
    log("stop of extractor-webhook while events arrive, exit 0 in %.1fs (%.2fs after the signal):"
        " %d events acknowledged (%d before the stop), %d posts refused while it was away, all "
        "%d loaded once" % (stopped_in, own, len(keys), before, refused[0], len(stored)))


def backup_restore(stack, tmp):
    dump = os.path.join(tmp, "vendange.dump")
    env = dict(stack.env, COMPOSE=" ".join(stack.compose))
    run(["sh", os.path.join(ROOT, "deploy", "backup.sh"), dump], env=env)
    fresh = run(["docker", "run", "-d", "--name", PROJECT + "-restore", "-e",
                 "POSTGRES_PASSWORD=" + PASSWORD,
                 os.environ.get("VENDANGE_POSTGRES_IMAGE", "vendange-postgres:latest")]).stdout.strip()
    try:
        wait_container_healthy(stack, fresh, "the fresh PostgreSQL container")
        env = dict(os.environ, DATABASE_URL=stack.dsn(fresh))
        run(["sh", os.path.join(ROOT, "deploy", "restore.sh"), dump], env=env)
        before, after = checksums(stack), checksums(stack, dsn=stack.dsn(fresh))
        assert before == after, "restore differs: %s" % [
            t for t in set(before) | set(after) if before.get(t) != after.get(t)]
        assert int(before["canonical.sales_lines"][0]) > 0, before
        log("backup %d bytes restored into a fresh container: %d tables equal" % (
            os.path.getsize(dump), len(before)))
    finally:
        run(["docker", "rm", "-f", "-v", fresh], check=False)


def main():
    if run(["docker", "info"], check=False, timeout=60).returncode != 0:
        print("check-deploy: SKIPPED: no Docker daemon answers (docker info failed)")
        return 0
    image = os.environ.get("VENDANGE_IMAGE", "vendange:latest")
    run(["sh", os.path.join(ROOT, "deploy", "images.sh")], timeout=1800)
    log("images built")
    tmp = tempfile.mkdtemp(prefix="vd-deploy-")
    exports = os.path.join(tmp, "exports")
    shutil.copytree(os.path.join(ROOT, "samples", "isavigne"), os.path.join(exports, "isavigne"))
    shutil.copytree(os.path.join(ROOT, "tests", "fixtures", "dialect_b"),
                    os.path.join(exports, "dialect_b"))
    run(["/usr/bin/python3", os.path.join(ROOT, "bench", "gen_isavigne.py"),
         os.path.join(exports, "big"), "--sales", str(SALES), "--customers", "6000",
         "--products", "400", "--stock", "800"])
    run(["chmod", "-R", "a+rX", tmp])
    keys = os.path.join(tmp, "keys")  # made in the image, owned by its user
    os.makedirs(keys)
    run(["chown", "10001:10001", keys])
    run(["docker", "run", "--rm", "-v", keys + ":/keys", image, "vendange", "keys", "init",
         "--dir", "/keys"])
    log("CURVE keys made: %s" % ", ".join(sorted(os.listdir(keys))))
    stack = Stack(tmp)
    try:
        check_environment(stack, image)
        log("every variable docker-compose.yml sets is read by its service")
        stack.up()
        assert stack.get("/health"), "GET /health"
        log("%d containers healthy (3 extractor-isavigne replicas); GET /health on the published "
            "port" % CONTAINERS)
        for name, folder in (("shop", "isavigne"), ("beta", "dialect_b")):
            stack.cli("connector", "add", name, "--type", "isavigne", "--set",
                      "export_path=/srv/exports/" + folder)
            status, r = stack.sync(name)
            assert (status, r["status"]) == (0, "success"), r
        counts = {t: int(stack.psql("SELECT count(*) FROM canonical." + t)[0][0]) for t in EXPECTED}
        for t, n in EXPECTED.items():
            assert counts[t] == n, "canonical.%s: %d rows, expected %d" % (t, counts[t], n)
        log("two connectors synced; canonical counts %s" % counts)
        recommend(stack)
        empty_tables(stack)
        stack.cli("connector", "add", "clean", "--type", "isavigne", "--set",
                  "export_path=/srv/exports/big")
        t0 = time.time()
        status, r = stack.sync("clean")
        assert (status, r["status"]) == (0, "success"), r
        took = time.time() - t0
        reference = table_checksums(stack)
        assert reference["sales_lines"][0] == str(SALES), reference
        log("clean load of %d sales lines: %.1fs" % (SALES, took))
        cut_off_mid_run(stack, "killed", reference, "kill")
        cut_off_mid_run(stack, "stopped", reference, "stop")
        cut_off_mid_run(stack, "unreachable", reference, "disconnect")
        cut_off_mid_run(stack, "stopped_n", reference, "stop", "normalizer")
        cut_off_mid_run(stack, "stopped_l", reference, "stop", "loader")
        cut_off_mid_run(stack, "stopped_o", reference, "stop", "orchestrator")
        cut_off_mid_run(stack, "stopped_p", reference, "stop", "postgres")
        stop_recommender_mid_job(stack)
        stop_gateway_mid_stream(stack)
        stop_each(stack)
        backup_restore(stack, tmp)
        stack.up()
        status, r = stack.sync("shop")
        assert (status, r["status"]) == (0, "success"), r
        assert table_checksums(stack) == reference, "data changed across stop/up"
        log("up again: healthy, sync succeeds, nothing lost")
    finally:
        stack.down()
        shutil.rmtree(tmp, ignore_errors=True)
    log("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
