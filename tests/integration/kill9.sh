# kill -9 at random moments during ingest, then a clean rerun: every input is
# archived exactly once, no orphan, no partial file, verify passes.
source "$(dirname "$0")/lib.bash"
"$SRC/tests/tools/make-calls" --days 2 --per-day 6 --seed 11 --out in 2>/dev/null
RANDOM=1234
for round in $(seq 1 8); do
  "$EARSHOT" ingest -j 2 in > /dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 9))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
es ingest -j 2 --json in > final.jsonl
jobs=$(python3 - <<'PY'
import os
names = os.listdir('in')
legs = [n for n in names if n.endswith('-out.wav')]
print(len([n for n in names if not n.endswith('.json')]) - len(legs))
PY
)
n=$(ncalls)
check "every input archived exactly once ($n calls, $jobs jobs)" test "$n" = "$jobs"
check "no failures in the final run" test "$(grep -c '"status":"failed"' final.jsonl || true)" = 0
check "files on disk = catalog rows" test "$(find data/archive -name '*.opus' | wc -l)" = "$n"
check "no temp files left" test -z "$(find data/archive/.tmp -type f -name '*.tmp')"
check "no pending marks left" test "$(catq data 'select count(*) from pending_files')" = 0
check "distinct sources" test "$(catq data 'select count(distinct source_sha256) from calls')" = "$n"
check "verify passes" es verify
finish
