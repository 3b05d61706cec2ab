"""The bench's result: statistics per method, the targets of issues 14 and
10, the Markdown tables and the JSON file."""
import json
import os
import statistics

SERVER = "postgres"
# processes that are not vendange services: the references' clients and
# the bench's Odoo double; every other process named in a sample is one
OTHERS = ("psql", "pgloader", "odoo-double")
RSS_LIMIT_MB = 100
ODOO_RECORDS_PER_S = 10000


def _is_service(name):
    return name != SERVER and name not in OTHERS


def _method(samples, refs):
    first = samples[0]
    secs = [s.seconds for s in samples]
    med = statistics.median(secs)
    procs = {}
    for name in sorted({n for s in samples for n in s.procs}):
        rss = [s.procs[name]["peak_rss_mb"] for s in samples
               if name in s.procs and s.procs[name]["peak_rss_mb"] is not None]
        cpu = [s.procs[name]["cpu_s"] for s in samples
               if name in s.procs and s.procs[name]["cpu_s"] is not None]
        procs[name] = {"peak_rss_mb_max": max(rss) if rss else None,
                       "cpu_s_median": round(statistics.median(cpu), 2) if cpu else None}
    out = {"method": first.method, "label": first.label, "runs_s": [round(x, 3) for x in secs],
           "median_s": round(med, 3), "min_s": round(min(secs), 3), "max_s": round(max(secs), 3),
           "rows": first.rows, "rows_per_s": round(first.rows / med) if med > 0 else None,
           "unit": first.unit, "throughput": first.throughput, "procs": procs,
           "samples": [{"seconds": round(s.seconds, 3), "procs": s.procs, "check": s.check,
                        "extra": s.extra} for s in samples]}
    for ref in ("R1", "R3"):
        out["ratio_" + ref.lower()] = (round(med / refs[ref], 3) if refs.get(ref) and first.compare
                                       else None)
    return out


def _targets(by):
    """Issue 14's targets (and issue 10's), each with the value of this run
    (ratios of this run's medians) and whether it holds. kind "aim": shown,
    not required."""
    def med(m):
        return by[m]["median_s"] if m in by else None

    out = []

    def target(name, value, op, limit, kind="target"):
        if value is None:
            return
        met = {"<=": value <= limit, "<": value < limit, ">=": value >= limit}[op]
        out.append({"target": "%s %s %s" % (name, op, limit), "value": round(value, 3),
                    "op": op, "limit": limit, "kind": kind, "met": met})

    if med("vd_full") and med("R2"):
        target("vd_full / R2 (must)", med("vd_full") / med("R2"), "<=", 1.0, "must")
    if med("vd_full") and med("R1"):
        target("vd_full / R1", med("vd_full") / med("R1"), "<=", 2.5, "aim")
    if med("vd_changed") is not None and med("R2"):
        target("vd_changed / R2", med("vd_changed") / med("R2"), "<=", 0.3)
    if med("vd_unchanged") is not None and med("R1"):
        target("vd_unchanged / R1", med("vd_unchanged") / med("R1"), "<=", 0.25)
    if "odoo" in by:
        target("Odoo sync, records/s end to end", by["odoo"]["rows_per_s"], ">=",
               ODOO_RECORDS_PER_S)
        rss = by["odoo"]["procs"].get("extractor-odoo", {}).get("peak_rss_mb_max")
        target("Odoo extractor peak RSS MB", rss, "<", RSS_LIMIT_MB)
    peaks = [(m["method"], n, p["peak_rss_mb_max"]) for m in by.values()
             for n, p in m["procs"].items() if _is_service(n) and p["peak_rss_mb_max"] is not None]
    if peaks:
        method, name, worst = max(peaks, key=lambda x: x[2])
        target("peak RSS MB of every service (worst: %s in %s)" % (name, method), worst, "<",
               RSS_LIMIT_MB)
    hits = {m: _reco(by[m])["hit_rate_at_5"] for m in ("reco_vendange", "reco_popularity")
            if m in by}
    if len(hits) == 2 and hits["reco_popularity"] > 0:
        target("reco hit rate@5 vendange / popularity (issue 10)",
               hits["reco_vendange"] / hits["reco_popularity"], ">=", 2.0)
    if med("reco_scale") is not None:
        target("recommender --once, %d customers, s (issue 10)" % by["reco_scale"]["rows"],
               med("reco_scale"), "<=", 60.0)
    return out


def _reco(method):
    """The offline evaluation's figures of a reco_<model> row (first run)."""
    return method["samples"][0]["extra"]


def _reco_table(r):
    """The recommender's offline evaluation: one row per model."""
    rows = [x for x in r["methods"] if x["method"].startswith("reco_")
            and "hit_rate_at_5" in x["samples"][0]["extra"]]
    if not rows:
        return []
    first = _reco(rows[0])
    h = first["history"]
    lines = ["", "Recommendations (issue 10), offline: %d customers, %d products, %d sales lines "
             "from %s to %s; each customer's last order held out (%d customers, all after %s); "
             "top %d as of %s:" % (h["customers"], h["products"], h["sales_lines"], h["start"],
                                   h["end"], first["evaluated"], first["as_of"], 5,
                                   first["as_of"]), "",
             "| model | hit rate@5 | hits | coverage | products recommended | hit pairs: "
             "bought before / other vintage / new | run s | peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for x in rows:
        m = _reco(x)
        pairs = m.get("hit_pairs", {})
        lines.append("| %s | %.3f | %d / %d | %.3f | %d / %d | %s | %.2f | %.1f |" % (
            m["model"], m["hit_rate_at_5"], m["hits"], m["evaluated"], m["coverage"],
            m["recommended_products"], m["eligible_products"],
            " / ".join(str(pairs.get(k, "-")) for k in ("bought_before", "other_vintage", "new")),
            float(m["run"]["seconds"]), m["run"]["peak_rss_kb"] / 1000))
    by = {_reco(x)["model"]: _reco(x) for x in rows}
    if by.get("vendange") and by.get("popularity") and by["popularity"]["hit_rate_at_5"]:
        lines += ["", "- hit rate@5 vendange / popularity: %.2f" % (
            by["vendange"]["hit_rate_at_5"] / by["popularity"]["hit_rate_at_5"])]
    lines.append("- held-out orders holding a product a top 5 could contain (active, in stock, "
                 "not bought in the %d days before): %d of %d customers (%.3f)"
                 % (first["recent_days"], first["reachable_customers"], first["evaluated"],
                    first["reachable_share"]))
    return lines


def build(cfg, machine, samples, errors, started, sales_file_mb):
    refs = {m: statistics.median(s.seconds for s in v) for m, v in samples.items()}
    methods = [_method(v, refs) for v in samples.values()]
    by = {m["method"]: m for m in methods}
    return {"date": started.isoformat(timespec="seconds"), "label": cfg["label"],
            "sizes": {k: cfg[k] for k in ("sales", "customers", "products", "stock",
                                          "change_percent")},
            "sales_file_mb": round(sales_file_mb, 1), "rounds": cfg["rounds"],
            "machine": machine, "methods": methods,
            "targets": _targets(by), "errors": errors}


def _num(x, fmt="%.2f"):
    return "-" if x is None else fmt % x


def _procs(m, key, fmt):
    return ", ".join("%s %s" % (n, _num(p[key], fmt)) for n, p in sorted(m["procs"].items())
                     if p[key] is not None)


def _statements(r):
    """With BENCH_PG_PROFILE: where the server's time went, for the run
    closest to the median of each method."""
    out = []
    for x in r["methods"]:
        runs = [s for s in x["samples"] if s["extra"].get("top_statements")]
        if not runs:
            continue
        run = min(runs, key=lambda s: abs(s["seconds"] - x["median_s"]))
        out += ["", "Top statements of %s (%.2f s run; ms, calls, query):" % (x["method"],
                                                                            run["seconds"]), ""]
        out += ["- %d ms, %d calls: `%s`" % (t["ms"], t["calls"], t["query"].replace("`", "'"))
                for t in run["extra"]["top_statements"]]
    return out


def _isolation(r):
    """How each row was kept to itself, and what the waits found."""
    settles = [(x["method"], smp["extra"]["settle"]) for x in r["methods"]
               for smp in x["samples"] if smp["extra"].get("settle")]
    lines = ["- isolation: before the clock starts, the harness waits until nothing of another "
             "row runs (the row's services and the whole server idle: two 0.5 s windows under "
             "0.02 CPU s; recommendation jobs done where a recommender runs), then checkpoints. "
             "The vendange and Odoo rows run their stack without the recommender: a sync that "
             "changed data still queues its job in reco.runs, and nobody serves it; the "
             "recommender is measured in its own rows (reco_*)"]
    if settles:
        waits = [st["waited_s"] for _, st in settles]
        busy = sorted({m for m, st in settles if not st["idle"]})
        lines.append("- waits before the %d measured runs of the services: %.1f to %.1f s; %s; "
                     "autovacuum during a measured run (of that run's own writes, or of the run "
                     "before): %s" % (len(settles), min(waits), max(waits),
                                      "every one started idle" if not busy
                                      else "NOT idle at the start of: " + ", ".join(busy),
                                      _autovacuum(settles)))
    return lines


def _autovacuum(settles):
    """Per method: in how many runs autovacuum worked, and on what (the
    system catalogs counted, not named)."""
    runs, tables = {}, {}
    for method, st in settles:
        runs.setdefault(method, [0, 0])[1] += 1
        if st.get("autovacuum_during"):
            runs[method][0] += 1
            tables.setdefault(method, set()).update(st["autovacuum_during"])
    out = []
    for method, names in tables.items():
        own = sorted(n for n in names if not n.startswith("pg_catalog."))
        catalog = len(names) - len(own)
        out.append("%s in %d of %d runs (%s%s)" % (
            method, runs[method][0], runs[method][1], ", ".join(own),
            "%s%d system catalogs" % (", " if own else "", catalog) if catalog else ""))
    return "; ".join(out) or "none"


def _header(r):
    m, s = r["machine"], r["sizes"]
    return ["# vendange bench, %s%s" % (r["date"], " (%s)" % r["label"] if r["label"] else ""), "",
            "- machine: %s, %d cores, %.1f GB RAM, Linux %s; load average %s at start, %s at end"
            % (m["cpu"], m["cores"], m["ram_gb"], m["kernel"],
               "/".join("%.2f" % x for x in m["load_average_start"]),
               "/".join("%.2f" % x for x in m.get("load_average_end", ()))),
            "- %s" % m["postgresql"],
            "- server settings: initdb defaults, unix socket only%s: %s"
            % ("; changed: " + ", ".join(m["pg_settings_changed"]) if m["pg_settings_changed"]
               else "", ", ".join("%s=%s" % kv for kv in sorted(m["pg_settings"].items()))),
            "- %s; vendange %s" % (m["pgloader"], m["vendange_commit"]),
            "- export: %d sales lines (ventes.csv %.1f MB), %d customers, %d products, %d stock "
            "rows; %s %% of sales lines changed for the last re-sync; %d rounds, alternating"
            % (s["sales"], r["sales_file_mb"], s["customers"], s["products"], s["stock"],
               s["change_percent"], r["rounds"]),
            "- times: R1 to R3 from the client's start to its exit; vendange and Odoo runs from "
            "queued to marked success (ops.sync_runs)"] + _isolation(r)


def _throughput(x):
    if x["throughput"]:
        return x["throughput"].replace("|", "\\|")
    return "-" if x["rows_per_s"] is None else "%d %s" % (x["rows_per_s"], x["unit"])


def _main_table(r):
    lines = ["", "| method | what | median s | min s | max s | throughput | × R1 | × R3 | "
             "peak RSS MB |", "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for x in r["methods"]:
        lines.append("| %s | %s | %.2f | %.2f | %.2f | %s | %s | %s | %s |" % (
            x["method"], x["label"].replace("|", "\\|"), x["median_s"], x["min_s"], x["max_s"],
            _throughput(x), _num(x["ratio_r1"]), _num(x["ratio_r3"]),
            _procs(x, "peak_rss_mb_max", "%.0f")))
    return lines


def _cpu_table(r):
    """CPU seconds: vendange's services, PostgreSQL, the rest, side by side."""
    lines = ["", "CPU seconds (median of the runs, per process; services = vendange's own "
             "processes, PostgreSQL = the server, all backends; other = psql, pgloader, the Odoo "
             "double):", "",
             "| method | median s | services | PostgreSQL | other | total | PostgreSQL share | "
             "per process |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for x in r["methods"]:
        cpu = {n: p["cpu_s_median"] for n, p in x["procs"].items() if p["cpu_s_median"] is not None}
        services = [v for n, v in cpu.items() if _is_service(n)]
        server = cpu.get(SERVER)
        other = [v for n, v in cpu.items() if n in OTHERS]
        total = sum(cpu.values()) if cpu else None
        lines.append("| %s | %.2f | %s | %s | %s | %s | %s | %s |" % (
            x["method"], x["median_s"], _num(sum(services) if services else None),
            _num(server), _num(sum(other) if other else None), _num(total),
            "%.0f %%" % (100 * server / total) if server is not None and total else "-",
            _procs(x, "cpu_s_median", "%.2f")))
    return lines


def _targets_lines(r):
    if not r["targets"]:
        return []
    lines = ["", "Targets (issue 14, and issue 10 for the recommender; ratios of this run's "
             "medians%s):" % ("" if r["sizes"]["sales"] == 1000000 else "; stated for the "
                              "1,000,000-line export and 100,000 customers"), ""]
    for t in r["targets"]:
        if t.get("kind") == "aim":
            status = "aim met" if t["met"] else "aim not met"
        else:
            status = "met" if t["met"] else "MISSED"
        lines.append("- %s: %s: %s" % (status, t["target"],
                                         _num(t["value"], "%.0f" if t["value"] >= 100 else "%.3f")))
    return lines


def markdown(r):
    lines = _header(r) + _main_table(r) + _cpu_table(r) + _reco_table(r) + _targets_lines(r)
    lines += _statements(r)
    for e in r["errors"]:
        lines += ["", "FAILED: case %s, round %d:" % (e["case"], e["round"] + 1), "```",
                  e["error"].rstrip(), "```"]
    return "\n".join(lines) + "\n"


def write(result, folder, started, label):
    os.makedirs(folder, exist_ok=True)
    base = os.path.join(folder, started.strftime("%Y-%m-%d-%H%M") + ("-" + label if label else ""))
    with open(base + ".md", "w") as f:
        f.write(markdown(result))
    with open(base + ".json", "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    return [base + ".md", base + ".json"]
