#!/bin/sh
# replay.sh BUILD - replays the committed seeds and regression inputs of
# every fuzz target through BUILD/replay/fuzz_NAME (made by `make check`).
set -u
build="$1"
here="$(cd "$(dirname "$0")" && pwd)"
status=0
for bin in "$build"/replay/fuzz_*; do
    name="${bin##*/fuzz_}"
    files=$(find "$here/corpus/$name" "$here/regressions/$name" -type f 2>/dev/null | sort)
    [ -z "$files" ] && continue
    # shellcheck disable=SC2086
    if "$bin" $files >"$build/replay/$name.log" 2>&1; then
        echo "fuzz replay $name: $(echo "$files" | wc -l) inputs ok"
    else
        echo "fuzz replay $name: FAILED (see $build/replay/$name.log)"
        status=1
    fi
done
exit $status
