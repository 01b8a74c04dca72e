#!/usr/bin/env bash
# Coverage-guided fuzzing (atheris) of the entry points that read untrusted bytes (docs/fuzzing.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     SECONDS per target (default 30); targets: soap feed xades settings
#
# Each target runs for SECONDS, one after another, on a copy of its seed corpus (tests/fuzz/corpus/<target>),
# so the checked-in corpus is never rewritten. Exit status 1 if any target found an input that breaks its
# property (a crash, an uncaught exception, a soap:Server fault, a timeout, running out of memory): the input
# is saved under the work folder, whose path is printed; replay it with
#   .venv/bin/python tests/fuzz/fuzz_<target>.py <saved input>
# A finding already recorded in tests/fuzz/harness.py KNOWN is reported and fuzzing goes on (FUZZ_STRICT=1:
# it counts as a finding). FUZZ_WORK=<folder> keeps the work folder (grown corpora, logs) for a longer run.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
[[ $# -gt 0 ]] && shift
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(soap feed xades settings)
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
fi
python=.venv/bin/python
if ! "$python" -c "import atheris" 2>/dev/null; then
    echo "fuzz: atheris is not installed: .venv/bin/pip install -e '.[test]'" >&2
    exit 2
fi

work="${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/platforma-fuzz.XXXXXX")}"
mkdir -p "$work"
found=0
started=$(date +%s)
for target in "${targets[@]}"; do
    program="tests/fuzz/fuzz_${target}.py"
    if [[ ! -f "$program" ]]; then
        echo "fuzz: no target '$target' ($program)" >&2
        exit 2
    fi
    corpus="$work/corpus/$target"
    findings="$work/findings/$target"
    log="$work/$target.log"
    mkdir -p "$corpus" "$findings"
    cp -n "tests/fuzz/corpus/$target/"* "$corpus/"
    options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
             -artifact_prefix="$findings/")
    [[ -f "tests/fuzz/dictionaries/$target.dict" ]] && options+=(-dict="tests/fuzz/dictionaries/$target.dict")
    begin=$(date +%s)
    # libFuzzer ends the process without Python's atexit: the targets' temporary folders (the demo powiat)
    # go in the work folder, and with it.
    mkdir -p "$work/tmp"
    TMPDIR="$work/tmp" "$python" "$program" "${options[@]}" "$corpus" >"$log" 2>&1
    status=$?
    took=$(($(date +%s) - begin))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    saved=$(find "$findings" -type f | sort)
    while IFS= read -r known; do echo "fuzz $target: ${known#fuzz "$target": }"; done < <(grep '^fuzz .*: known finding' "$log")
    if [[ $status -ne 0 || -n "$saved" ]]; then
        found=1
        echo "fuzz $target: FINDING (exit status $status) after ${took} s; the last lines of $log:"
        grep -v -e '^#[0-9]' -e '^INFO: Instrumenting' "$log" | tail -n 40 | sed 's/^/    /'
        for input in $saved; do echo "fuzz $target: input saved in $input"; done
    else
        echo "fuzz $target: no finding in ${took} s (${runs:-?} inputs, ${rate:-?} per second)"
    fi
done
if [[ $found -eq 0 && -z "${FUZZ_WORK:-}" ]]; then
    rm -rf "$work"
    echo "fuzz: ${#targets[@]} target(s) in $(($(date +%s) - started)) s, no finding"
else
    echo "fuzz: ${#targets[@]} target(s) in $(($(date +%s) - started)) s; corpora, logs and findings in $work"
fi
exit $found
