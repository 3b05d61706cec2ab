"""make check-fresh: the README's two commands on a new Debian 12 machine.

The machine is a Docker container of a bare Debian 12 root file system
(deploy/docker/base.sh fresh: mmdebstrap's essential packages and apt, plus
git, make and ca-certificates, with this host's apt sources; made once and
kept as the image vendange-base-fresh:HASH until the list or the sources
change). In it, as root:
  1. `git clone` of this checkout's committed HEAD (a git bundle of it:
     what is not committed is not tested);
  2. `make demo`, exactly as the README writes it, timed; its output must
     show the run's per-table counts and a customer's recommendations;
  3. `make check`, exactly as written, timed (it runs every test, under
     AddressSanitizer, inside the container).
Fails when a step fails. Every phase is printed with its time, the output
of each command streamed and kept in tests/artifacts/fresh-*.log; on a
failure the clone's tests/artifacts/ is copied to tests/artifacts/fresh/,
the demo's service logs to tests/artifacts/fresh/demo-log/.
Needs a Docker daemon (`.ci/run` runs `make check` on the host instead
when none answers).
  VENDANGE_FRESH_KEEP=1 keeps the container (docker rm -f it yourself).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
NAME = "vdfresh%d" % os.getpid()
CLONE = "/root/vendange"
STARTED = time.time()
TIMES = []


def log(msg):
    print("check-fresh [%6.1fs] %s" % (time.time() - STARTED, msg), flush=True)


def duration(seconds):
    return "%d min %02d s" % divmod(round(seconds), 60) if seconds >= 60 else "%.1f s" % seconds


def run(cmd, check=True):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise SystemExit("check-fresh: FAILED: %s (%d)\n%s%s" % (
            " ".join(cmd), out.returncode, out.stdout[-3000:], out.stderr[-3000:]))
    return out.stdout.strip()


def phase(title, cmd, log_name=None):
    """Runs cmd in the container's clone, streaming its output (and
    keeping it in tests/artifacts/LOG_NAME); returns (status, output)."""
    log("phase: %s" % title)
    began = time.time()
    proc = subprocess.Popen(["docker", "exec", "-w", CLONE if log_name else "/root", NAME,
                             "bash", "-c", cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    status = proc.wait()
    seconds = time.time() - began
    TIMES.append((title, seconds, status))
    if log_name:
        with open(os.path.join(ARTIFACTS, log_name), "w") as f:
            f.writelines(lines)
    log("phase: %s: %s, exit status %d" % (title, duration(seconds), status))
    return status, "".join(lines)


def base_image():
    log("phase: the bare Debian 12 image (deploy/docker/base.sh fresh)")
    began = time.time()
    image = run(["sh", os.path.join(ROOT, "deploy", "docker", "base.sh"), "fresh"])
    TIMES.append(("bare Debian 12 image", time.time() - began, 0))
    log("image %s ready in %s" % (image, duration(time.time() - began)))
    return image


def bundle(folder):
    """A git bundle of HEAD (and of its branch, so the clone has one)."""
    head = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    branch = run(["git", "-C", ROOT, "symbolic-ref", "-q", "HEAD"], check=False)
    refs = ["HEAD"] + ([branch] if branch else [])
    run(["git", "-C", ROOT, "bundle", "create", os.path.join(folder, "vendange.bundle")] + refs)
    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    log("testing commit %s%s%s" % (head, " (%s)" % branch.split("/")[-1] if branch else "",
                                    "; uncommitted changes are not part of it" if dirty else ""))


def start(image, folder):
    # --init reaps the services `make demo` leaves running; --shm-size: a
    # machine's /dev/shm rather than Docker's 64 MB (PostgreSQL uses it)
    run(["docker", "run", "-d", "--name", NAME, "--init", "--shm-size", "1g",
         "--hostname", "fresh", "-v", "%s:/mnt/checkout:ro" % folder, image,
         "sleep", "infinity"])
    bare = run(["docker", "exec", NAME, "sh", "-c",
                "for p in gcc pkg-config libpq-dev postgresql python3; do "
                "dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'ok installed' "
                "&& echo $p; done; true"])
    if bare:
        raise SystemExit("check-fresh: FAILED: the image is not bare, it has: %s" % bare)
    log("container %s: no compiler, pkg-config, libpq-dev, PostgreSQL nor python3" % NAME)


def check_demo(output):
    """The demo printed the run (success), its per-table counts and the
    recommendations of a customer, with their reasons."""
    missing = []
    if not re.search(r"run \d+ of demo: success", output):
        missing.append("the run's success line (run N of demo: success)")
    for table in ("customers", "product_catalog", "sales_lines", "stock_levels"):
        if not re.search(r"^\s*%s\s+\d+\s+\d+" % table, output, re.M):
            missing.append("the counts of %s" % table)
    if not re.search(r"^recommendations \(run \d+", output, re.M):
        missing.append("the recommendations of isavigne-C0001")
    if not re.search(r"^\s+1\. .*score", output, re.M) or "       - " not in output:
        missing.append("a ranked recommendation with its reasons")
    return missing


def save_artifacts():
    """The clone's tests/artifacts/ and the demo's service logs, to
    tests/artifacts/fresh/ (and fresh/demo-log/)."""
    dst = os.path.join(ARTIFACTS, "fresh")
    shutil.rmtree(dst, ignore_errors=True)
    for src, to in (("%s/tests/artifacts" % CLONE, dst),
                    ("/var/lib/vendange/log", os.path.join(dst, "demo-log"))):
        os.makedirs(os.path.dirname(to), exist_ok=True)
        out = subprocess.run(["docker", "cp", "%s:%s" % (NAME, src), to],
                             capture_output=True, text=True)
        if out.returncode == 0:
            log("%s copied to %s" % (src, to))


def summary():
    log("times (load average now %.1f, %.1f, %.1f over 1, 5, 15 min; %d cores):"
        % (os.getloadavg() + (os.cpu_count(),)))
    for title, seconds, status in TIMES:
        print("check-fresh   %-24s %12s%s" % (title, duration(seconds),
                                             "" if status == 0 else "  FAILED (%d)" % status))


def main():
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        print("check-fresh: FAILED: no Docker daemon answers (docker info failed)")
        return 1
    os.makedirs(ARTIFACTS, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="vd-fresh-")
    os.chmod(folder, 0o755)
    failed = []
    try:
        image = base_image()
        bundle(folder)
        start(image, folder)
        status, _ = phase("git clone", "git clone -q /mnt/checkout/vendange.bundle %s && "
                          "git -C %s log --oneline -1" % (CLONE, CLONE))
        if status != 0:
            failed.append("git clone")
        else:
            status, output = phase("make demo", "make demo", "fresh-make-demo.log")
            if status != 0:
                failed.append("make demo (exit status %d)" % status)
            else:
                missing = check_demo(output)
                if missing:
                    failed.append("make demo's output lacks " + "; ".join(missing))
                else:
                    log("make demo printed the per-table counts and the recommendations")
            status, output = phase("make check", "make check", "fresh-make-check.log")
            if status != 0:
                failed.append("make check (exit status %d)" % status)
            for kind, pattern in (("self tests", r"^\d+ passed, \d+ failed$"),
                                  ("integration tests", r"^\d+ passed, \d+ failed, \d+ skipped$")):
                tally = re.findall(pattern, output, re.M)
                log("make check: %s: %s" % (kind, tally[-1] if tally else "no tally"))
        if failed:
            save_artifacts()
    finally:
        if os.environ.get("VENDANGE_FRESH_KEEP") == "1":
            log("container %s kept" % NAME)
        else:
            subprocess.run(["docker", "rm", "-f", NAME], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
        summary()
    if failed:
        print("check-fresh: FAILED: " + "; ".join(failed))
        return 1
    print("check-fresh: OK: make demo and make check pass on a bare Debian 12")
    return 0


if __name__ == "__main__":
    sys.exit(main())
