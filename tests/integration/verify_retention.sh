# verify finds missing, corrupt and orphaned files; retention purges audio past
# the period except legal holds, keeps the row, and verify stays clean.
source "$(dirname "$0")/lib.bash"
mkdir in
now=$(date +%s)
for age in 100 50 1; do
  sox "$SOUNDS/vm-options.wav" "in/call-$age.wav" gain "-$age" 2>/dev/null || sox "$SOUNDS/vm-options.wav" "in/call-$age.wav"
  printf '{"started_at": %d, "operator": "10%d"}' $((now - age * 86400)) $((age % 7)) > "in/call-$age.wav.json"
done
sox "$SOUNDS/vm-options.wav" in/call-100.wav gain -3
sox "$SOUNDS/vm-options.wav" in/call-50.wav gain -4
sox "$SOUNDS/vm-options.wav" in/call-1.wav gain -5
es ingest in > /dev/null
id() { es ls --json | grep -F "call-$1.wav" | sed -E 's/.*"id":"([^"]+)".*/\1/'; }
check "verify clean after ingest" es verify
es hold "$(id 100)"
es retention --older-than 30 --dry-run > dry.txt
check "dry run names only the unheld old call" test "$(grep -c 'would purge' dry.txt)" = 1
check "dry run removes nothing" test "$(find data/archive -name '*.opus' | wc -l)" = 3
es retention --older-than 30
check "held call kept" test -f "data/$(archived_path call-100.wav)"
check "row of purged call kept" test -n "$(id 50)"
check "purged call marked" sh -c "$EARSHOT show $(id 50) --json | grep -q '\"purged_at\":\"20'"
check "two files remain" test "$(find data/archive -name '*.opus' | wc -l)" = 2
check "verify clean after retention" es verify
es unhold "$(id 100)"
set +e; es hold 00000000-0000-7000-8000-000000000000 2>/dev/null; rc=$?; set -e
check "hold of an unknown call fails ($rc)" test "$rc" = 1

p1=$(archived_path call-1.wav); p100=$(archived_path call-100.wav)
printf 'x' >> "data/$p1"
mv "data/$p100" stray.opus
cp stray.opus "data/archive/2020-stray.opus" 2>/dev/null || true
mkdir -p data/archive/2020/01/01 && cp stray.opus data/archive/2020/01/01/stray.opus
set +e; es verify --json > v.jsonl; rc=$?; set -e
check "verify fails on problems (rc=$rc)" test "$rc" = 1
check "corrupt found" grep -q '"problem":"corrupt"' v.jsonl
check "missing found" grep -q '"problem":"missing"' v.jsonl
check "orphan found" grep -q '"problem":"orphan","path":"archive/2020/01/01/stray.opus"' v.jsonl

# --repair: the misplaced catalogued file goes back to its place; an intact
# unknown file is catalogued from its own tags; a broken one is moved to
# quarantine/ with a reason; corrupt files still fail
head -c 3000 stray.opus > data/archive/2020/01/01/broken.opus
mkdir -p unknown && sox "$SOUNDS/vm-options.wav" unknown/other.wav gain -9
es --data unknown/d ingest unknown/other.wav > /dev/null
cp unknown/d/archive/*/*/*/*.opus data/archive/2020/01/01/unknown.opus
n_before=$(ncalls)
set +e; es verify --repair --json > r.jsonl; rc=$?; set -e
check "repair still fails on the corrupt file (rc=$rc)" test "$rc" = 1
check "misplaced file moved back" test -f "data/$p100"
check "intact unknown orphan re-catalogued" grep -q 're-catalogued as call' r.jsonl
check "one more call" test "$(ncalls)" = $((n_before + 1))
check "re-catalogued call has its length" sh -c "$EARSHOT ls --json | grep -F archive/2020/01/01/unknown.opus | grep -q '\"duration_ms\":1636'"
check "broken orphan quarantined" test -f data/quarantine/broken.opus
check "quarantine reason says why" grep -q "cut short\|damaged" data/quarantine/broken.opus.reason
set +e; es verify --json > after.jsonl; set -e
check "no orphans remain" test "$(grep -c orphan after.jsonl || true)" = 0
finish
