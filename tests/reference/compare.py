"""Compares what vendange loaded for one export with the reference model.

    differences(expected, loaded, run) -> [text, ...]   (empty: they agree)

expected: model.Expected; loaded: {table: {key: row}} read from
canonical.* (row_to_json of the connector's rows, numbers as Decimal);
run: {"counts": {table: {...}}, "rejects": [(file, line, reason)],
"warnings": [(file, line, field, reason)], "files": [run file entries]}.
"""
import datetime as dt
from decimal import Decimal

# Columns the model does not speak about (bookkeeping)
IGNORED = {"key", "connector", "synced_at", "content_hash", "person_key", "last_updated",
           "external_ref", "alcohol", "flavors", "body", "tannins"}
# model reject reason -> text vendange's reason must hold
REASONS = {"wrong field count": "field count", "invalid date": "invalid date",
           "negative quantity on an invoice": "negative quantity on an invoice",
           "positive quantity on a credit note": "positive quantity on a credit note",
           "not a number in quantity_units": "quantity_units",
           "missing quantity_units": "quantity_units"}


def same(want, got, column):
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, bool) or isinstance(got, bool):
        return want is got or want == got and type(want) is type(got)
    if isinstance(want, (int, Decimal)) and not isinstance(want, bool):
        try:
            got = Decimal(str(got))
        except Exception:
            return False
        return Decimal(want) == got
    if isinstance(want, dt.date):
        return want.isoformat() == str(got)[:10]
    return want == got


def differences(expected, loaded, run, limit=40, later=False):
    """later: a run over rows already loaded (a full snapshot's second
    export): its inserted / updated / unchanged are not compared, its
    deleted are."""
    out = []
    for table, rows in expected.rows.items():
        got = loaded.get(table, {})
        for key in sorted(set(rows) - set(got)):
            out.append("%s %s: expected, not loaded" % (table, key))
        for key in sorted(set(got) - set(rows)):
            out.append("%s %s: loaded, not expected" % (table, key))
        for key in sorted(set(rows) & set(got)):
            for col, want in sorted(rows[key].items()):
                if col in IGNORED:
                    continue
                if col not in got[key]:
                    out.append("%s %s: no column %s" % (table, key, col))
                elif not same(want, got[key][col], col):
                    out.append("%s %s.%s: model %r, vendange %r"
                               % (table, key, col, want, got[key][col]))
        counts = run["counts"].get(table)
        if expected.extracted[table] or counts:
            counts = counts or {}
            want = {"extracted": expected.extracted[table],
                    "inserted": len(rows), "unchanged": expected.unchanged[table],
                    "rejected": len([r for r in expected.rejects
                                     if r[0] in expected.table_files.get(table, ())])}
            if later:
                want = {"extracted": want["extracted"], "rejected": want["rejected"],
                        "deleted": expected.deleted[table]}
            for k, v in want.items():
                if counts.get(k, 0) != v:
                    out.append("%s count %s: model %d, vendange %s" % (table, k, v, counts.get(k)))
    want_rejects = {(f, l): r for f, l, r in expected.rejects}
    got_rejects = {(f, l): r for f, l, r in run["rejects"]}
    for fl in sorted(set(want_rejects) | set(got_rejects)):
        if fl not in got_rejects:
            out.append("reject %s:%d (%s): not rejected" % (fl[0], fl[1], want_rejects[fl]))
        elif fl not in want_rejects:
            out.append("reject %s:%d: rejected (%s), the model loads it" % (fl[0], fl[1],
                                                                            got_rejects[fl]))
        elif REASONS.get(want_rejects[fl], want_rejects[fl]) not in got_rejects[fl]:
            out.append("reject %s:%d: model says %r, vendange %r"
                       % (fl[0], fl[1], want_rejects[fl], got_rejects[fl]))
    want_w = sorted(expected.warnings)
    got_w = sorted((f, l, field) for f, l, field, _ in run["warnings"])
    for w in sorted(set(want_w) | set(got_w)):
        if want_w.count(w) != got_w.count(w):
            reasons = [r for f, l, field, r in run["warnings"] if (f, l, field) == w]
            out.append("warning %s:%d %s: model %d, vendange %d %s"
                       % (w[0], w[1], w[2], want_w.count(w), got_w.count(w), reasons))
    files = {f["file"]: f for f in run.get("files", [])}
    for name, derived in expected.derived.items():
        got = sorted(files.get(name, {}).get("derived", []))
        if got != derived:
            out.append("file %s: model derives %s, the run says %s" % (name, derived, got))
    for name in sorted(set(expected.unit_unknown) | {n for n, f in files.items()
                                                     if f.get("unit_unknown")}):
        want = len(expected.unit_unknown.get(name, []))
        got = files.get(name, {}).get("unit_unknown", 0)
        if want != got:
            out.append("file %s: %d lines without a known unit, the run says %s"
                       % (name, want, got))
    return out[:limit] + (["... %d more" % (len(out) - limit)] if len(out) > limit else [])
