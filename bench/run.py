"""make bench: vendange measured against PostgreSQL's COPY and pgloader.

Generates the iSaVigne export (bench/gen_isavigne.py), starts a
throwaway PostgreSQL with durable defaults, loads every case module of
bench/cases/, runs every case once per round for BENCH_ROUNDS rounds
(alternating: A B C A B C ...), then prints one table and writes it to
bench/results/<date>[-<BENCH_LABEL>].md with the same data as .json.

Variables: BENCH_SALES (1000000), BENCH_CUSTOMERS (100000),
BENCH_PRODUCTS (2000), BENCH_STOCK (10000), BENCH_CHANGE_PERCENT (1),
BENCH_ROUNDS (3), BENCH_CASES (comma-separated case names, default all),
BENCH_LABEL (suffix of the result files), BENCH_RESULTS (folder,
bench/results), BENCH_WORK (scratch folder, build/bench),
BENCH_PG_SETTINGS (extra server settings "name=value,..."; fsync stays on),
BENCH_PG_PROFILE=1 (pg_stat_statements: the top statements of each
vendange run in the results; not for reference numbers),
BENCH_PERF=1 (perf record of each vendange run into BENCH_WORK/logs,
with the row's pids for perf report --pid; not for reference numbers),
BENCH_RECO_CUSTOMERS (the recommender case's customers, BENCH_SALES / 10).
"""
import datetime
import glob
import hashlib
import importlib.util
import os
import platform
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
import report  # noqa: E402

PG_SETTINGS = ("server_version", "shared_buffers", "work_mem", "maintenance_work_mem",
               "effective_cache_size", "max_wal_size", "checkpoint_timeout", "wal_level",
               "wal_buffers", "fsync", "synchronous_commit", "full_page_writes", "wal_compression",
               "max_connections", "server_encoding", "lc_collate", "jit")


def config():
    env = os.environ.get
    return {
        "sales": int(env("BENCH_SALES", "1000000")),
        "customers": int(env("BENCH_CUSTOMERS", "100000")),
        "products": int(env("BENCH_PRODUCTS", "2000")),
        "stock": int(env("BENCH_STOCK", "10000")),
        "change_percent": float(env("BENCH_CHANGE_PERCENT", "1")),
        "rounds": int(env("BENCH_ROUNDS", "3")),
        "cases": [c for c in env("BENCH_CASES", "").split(",") if c],
        "label": env("BENCH_LABEL", ""),
        "results": env("BENCH_RESULTS", os.path.join(HERE, "results")),
        "work": env("BENCH_WORK", os.path.join(benchlib.ROOT, "build", "bench")),
        "pg_settings": env("BENCH_PG_SETTINGS", ""),
        "pg_profile": env("BENCH_PG_PROFILE", "0") == "1",
    }


def generate(cfg):
    """The export and its changed copy, generated once per size and
    generator version (kept in BENCH_WORK between runs)."""
    gen = os.path.join(HERE, "gen_isavigne.py")
    with open(gen, "rb") as f:
        digest = hashlib.blake2b(f.read(), digest_size=16).hexdigest()
    stamp = "%s %s" % (digest, [cfg[k] for k in ("sales", "customers", "products", "stock",
                                                 "change_percent")])
    base = os.path.join(cfg["work"], "export-%d" % cfg["sales"])
    export, changed = os.path.join(base, "export"), os.path.join(base, "changed")
    stamp_file = os.path.join(base, "stamp")
    if os.path.exists(stamp_file) and open(stamp_file).read() == stamp:
        return export, changed
    t0 = time.perf_counter()
    subprocess.run(["rm", "-rf", base], check=True)
    sizes = ["--sales", str(cfg["sales"]), "--customers", str(cfg["customers"]),
             "--products", str(cfg["products"]), "--stock", str(cfg["stock"])]
    subprocess.run([sys.executable, gen, export] + sizes, check=True)
    subprocess.run([sys.executable, gen, changed, "--change-percent", str(cfg["change_percent"])]
                   + sizes, check=True)
    with open(stamp_file, "w") as f:
        f.write(stamp)
    print("bench: export generated in %.1f s (%s)" % (time.perf_counter() - t0, export), flush=True)
    return export, changed


def load_cases(wanted):
    for path in sorted(glob.glob(os.path.join(HERE, "cases", "*.py"))):
        name = "bench_case_" + os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    cases = [(name, fn) for _, name, fn in benchlib.CASES]
    unknown = set(wanted) - {name for name, _ in cases}
    if unknown:
        raise SystemExit("bench: unknown BENCH_CASES %s; known: %s"
                         % (sorted(unknown), ", ".join(n for n, _ in cases)))
    return [(n, fn) for n, fn in cases if not wanted or n in wanted]


def machine(pg):
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    settings = dict(pg.psql("SELECT name, current_setting(name) FROM pg_settings WHERE name IN (%s)"
                            % ",".join("'%s'" % n for n in PG_SETTINGS), db="postgres"))
    commit = subprocess.run(["git", "-C", benchlib.ROOT, "describe", "--always", "--dirty",
                             "--abbrev=12"], capture_output=True, text=True).stdout.strip()
    pgloader = subprocess.run(["pgloader", "--version"], capture_output=True, text=True).stdout
    return {"cpu": model, "cores": os.cpu_count(), "ram_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "load_average_start": os.getloadavg(),
            "postgresql": pg.psql("SELECT version()", db="postgres")[0][0],
            "pg_settings": settings,
            "pg_settings_changed": pg.extra + (["pg_stat_statements"] if pg.profile else []),
            "pgloader": pgloader.split("\n")[0], "vendange_commit": commit}


def run_rounds(ctx, cases, rounds):
    """{method: [Sample, ...]} and the errors, cases alternating per round."""
    samples, errors, broken = {}, [], set()
    for r in range(rounds):
        ctx.round = r
        for name, fn in cases:
            if name in broken:
                continue
            t0 = time.perf_counter()
            try:
                out = fn(ctx)
            except Exception:
                broken.add(name)
                errors.append({"case": name, "round": r, "error": traceback.format_exc()})
                print("bench: round %d %s FAILED:\n%s" % (r + 1, name, errors[-1]["error"]),
                      flush=True)
                continue
            for s in out if isinstance(out, list) else [out]:
                samples.setdefault(s.method, []).append(s)
                print("bench: round %d %-14s %8.2f s  %s" % (r + 1, s.method, s.seconds, s.check),
                      flush=True)
            print("bench: round %d %s done in %.1f s" % (r + 1, name, time.perf_counter() - t0),
                  flush=True)
    return samples, errors


def main():
    cfg = config()
    os.makedirs(cfg["work"], exist_ok=True)
    logs = os.path.join(cfg["work"], "logs")
    subprocess.run(["rm", "-rf", logs], check=True)
    os.makedirs(logs)
    os.chmod(cfg["work"], 0o755)
    cases = load_cases(cfg["cases"])
    export, changed = generate(cfg)
    pg = benchlib.BenchPostgres(cfg["pg_settings"], profile=cfg["pg_profile"])
    try:
        if pg.psql("SHOW fsync", db="postgres")[0][0] != "on":
            raise SystemExit("bench: fsync must stay on for measured runs")
        started = datetime.datetime.now(datetime.timezone.utc)
        ctx = benchlib.Context(pg, export, changed, dict(cfg), cfg["work"], logs)
        desc = machine(pg)
        samples, errors = run_rounds(ctx, cases, cfg["rounds"])
        desc["load_average_end"] = os.getloadavg()
    finally:
        pg.close()
    mb = os.path.getsize(os.path.join(export, "ventes.csv")) / 1e6
    result = report.build(cfg, desc, samples, errors, started, mb)
    paths = report.write(result, cfg["results"], started, cfg["label"])
    print()
    print(report.markdown(result))
    print("bench: results in %s" % ", ".join(paths))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
