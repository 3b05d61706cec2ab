#!/bin/sh
# Style checks: clang-format (.clang-format at the top) and banned functions.
set -u
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h')
status=0
if command -v clang-format >/dev/null; then
    clang-format --dry-run --Werror $files 2>/dev/null || { echo "lint: clang-format differences (run clang-format -i)"; status=1; }
fi
banned='\b(atoi|sprintf|strcpy|strcat|strtok|gets|localtime)[[:space:]]*\('
if grep -nE "$banned" $files; then
    echo "lint: banned function used (see STYLE: atoi, sprintf, strcpy, strcat, strtok, gets, localtime)"
    status=1
fi
exit $status
