#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time on a copy of its committed
# corpus, so the committed seeds are never modified:
#   run_fuzzer.sh FUZZER CORPUS_DIR [DICT]
# OFFCLOUD_FUZZ_SECONDS (default 30) bounds the run. Any crash, leak, timeout
# or out-of-memory fails it; the offending input is kept and printed.
# Prints the executions done (the final "#N DONE" line of libFuzzer).
# OFFCLOUD_FUZZ_MERGE=1 (scripts/fuzz --merge) then adds to CORPUS_DIR the
# new inputs that reach code its seeds do not: the only way it changes.
set -euo pipefail
fuzzer=$1
corpus=$2
dict=${3:-}
seconds=${OFFCLOUD_FUZZ_SECONDS:-30}
name=$(basename "$fuzzer")

work=$(mktemp -d "${TMPDIR:-/tmp}/offcloud-fuzz-${name}.XXXXXX")
mkdir -p "$work/corpus" "$work/artifacts"
cp -r "$corpus"/. "$work/corpus/" 2>/dev/null || true

args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10
      -print_final_stats=1 -artifact_prefix="$work/artifacts/")
[ -n "$dict" ] && args+=(-dict="$dict")

status=0
# TMPDIR: the services' scratch data dirs go under $work, removed with it.
TMPDIR="$work" "$fuzzer" "${args[@]}" "$work/corpus" "$corpus" >"$work/log" 2>&1 || status=$?

done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -n 1 || true)
if [ "$status" -ne 0 ] || [ -z "$done_line" ]; then
  echo "fuzz $name FAILED (exit $status); last lines of its log:"
  tail -n 60 "$work/log"
  for artifact in "$work"/artifacts/*; do
    [ -e "$artifact" ] || continue
    echo "--- input $artifact (first 2 KiB, hex):"
    head -c 2048 "$artifact" | od -A d -t x1z | head -n 140
  done
  echo "kept in $work"
  exit 1
fi
executions=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$done_line")
rate=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$done_line")
echo "$done_line"
echo "fuzz $name: $executions executions in ${seconds} s (${rate:-?} exec/s), no crash"
if [ "${OFFCLOUD_FUZZ_MERGE:-0}" = 1 ]; then
  before=$(ls "$corpus" | wc -l)
  "$fuzzer" -merge=1 -rss_limit_mb=2048 -timeout=10 "$corpus" "$work/corpus" >"$work/merge.log" 2>&1 ||
    { tail -n 20 "$work/merge.log"; exit 1; }
  echo "fuzz $name: merged $(($(ls "$corpus" | wc -l) - before)) new inputs into $corpus"
fi
rm -rf "$work"
