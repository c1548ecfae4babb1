# Running ingest again archives nothing twice; a copy of an archived file under
# another name is recognised by its content; --move-to and --delete touch the
# input only once it is safely catalogued.
source "$(dirname "$0")/lib.bash"
"$SRC/tests/tools/make-calls" --days 1 --per-day 4 --seed 7 --out in 2>/dev/null
es ingest in > first.txt
n=$(ncalls)
check "first run archives every call (got $n)" test "$n" -ge 4
es ingest --json in > second.jsonl
check "second run archives nothing" test "$(grep -c '"status":"archived"' second.jsonl || true)" = 0
check "second run reports every call as skipped" test "$(grep -c '"status":"skipped"' second.jsonl)" = "$n"
check "catalog unchanged" test "$(ncalls)" = "$n"
f=$(ls in/*.wav | head -n1)
cp "$f" in-copy.wav
es ingest in-copy.wav > copy.txt
check "renamed copy skipped: $(cat copy.txt)" grep -q "already archived as" copy.txt
check "opus files on disk match the catalog" test "$(find data/archive -name '*.opus' | wc -l)" = "$n"

# --move-to: a fresh tree, inputs (and sidecars) move after the commit
mkdir done
"$SRC/tests/tools/make-calls" --days 1 --per-day 3 --seed 8 --out in2 2>/dev/null
nin=$(ls in2 | wc -l)
es ingest --move-to done in2 > /dev/null
check "--move-to empties the input dir" test "$(ls in2 | wc -l)" = 0
check "--move-to keeps every file ($nin)" test "$(ls done | wc -l)" = "$nin"
# --delete on already archived input removes it: it is safe in the archive
cp done/* in2/
es ingest --delete in2 > del.txt
check "--delete of already-archived input" test "$(ls in2 | wc -l)" = 0
check "--delete archived nothing new" test "$(grep -c '^archived' del.txt || true)" = 0
set +e; es ingest --keep --delete x 2>/dev/null; rc=$?; set -e
check "conflicting options are a usage error (rc=$rc)" test "$rc" = 2
finish
