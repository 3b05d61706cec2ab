#!/bin/sh
# run.sh BUILD SECONDS NAME... - runs each libFuzzer target BUILD/fuzz/fuzz_NAME
# for SECONDS from its committed seeds (tests/fuzz/corpus/NAME, read only)
# and what earlier runs kept (BUILD/corpus/NAME, where new inputs go), then
# appends one line per target to tests/fuzz/ledger.tsv: date, target,
# seconds, executions, coverage (edges, features), corpus size, result.
# A crash leaves BUILD/crash-NAME-* and makes the exit status 1.
set -u
build="$1"
seconds="$2"
shift 2
here="$(cd "$(dirname "$0")" && pwd)"
ledger="$here/ledger.tsv"
[ -f "$ledger" ] || printf 'date\ttarget\tseconds\texecutions\tcov\tft\tcorpus\tresult\n' >"$ledger"
status=0
for name in "$@"; do
    work="$build/corpus/$name"
    seeds="$here/corpus/$name"
    mkdir -p "$work" "$seeds"
    log="$build/fuzz_$name.log"
    "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=262144 -print_final_stats=1 -artifact_prefix="$build/crash-$name-" \
        "$work" "$seeds" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corpus=$(ls "$work" | wc -l)
    result=ok
    if [ "$rc" -ne 0 ]; then
        result="crash (exit $rc, see $log)"
        status=1
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" \
        "$seconds" "${execs:-0}" "${cov:-?}" "${ft:-?}" "$corpus" "$result" >>"$ledger"
    echo "fuzz_$name: ${execs:-0} executions, cov ${cov:-?}, ft ${ft:-?}: $result"
done
exit $status
