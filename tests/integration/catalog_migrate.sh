# earshot catalog migrate-to: a site's SQLite catalog, every module's tables
# filled (calls and recordings, rubrics and evaluations, users and the audit
# chain, PBX logs, missed calls), copied into a PostgreSQL catalog. Killed
# half-way, the copy goes on where it stopped; every table then compares the
# same (rows and a digest of the values); the copy works: the same listing,
# verify, the audit chain, new rows get new ids. A catalog that already holds
# other rows is refused, and a changed copy compares different.
source "$(dirname "$0")/lib.bash"
if [ "$(engine)" = postgresql ]; then
  echo "SKIP: the SQLite pass runs this test (its source is an SQLite catalog), with a cluster of its own"
  exit 77
fi
pg=$WORK/pg
"$SRC/tests/tools/pg-cluster" start "$pg" > /dev/null
trap '"$SRC/tests/tools/pg-cluster" stop "$pg"' EXIT
source "$SRC/tests/tools/review-fixture.sh"
python3 "$SRC/tests/tools/mkpcap.py" m1.pcap --missed cancel --start 1700000000 --seed 1 --seconds 2 > /dev/null
es -q record -r m1.pcap
python3 "$SRC/tests/tools/mkqueuelog.py" queue_log --days 1 --calls-per-day 40 --seed 5 > /dev/null
es pbx import queue_log > /dev/null
es missed list > /dev/null  # the follow-up reads the new calls into its tables
url=$("$SRC/tests/tools/pg-cluster" createdb "$pg" site)

# stopped half-way (small batches), then run again
"$EARSHOT" -q catalog migrate-to "$url" --batch 3 > /dev/null 2>&1 &
p=$!
sleep 0.6
kill -9 $p 2>/dev/null || true
wait $p 2>/dev/null || true
partial=$("$ES_PGBIN/psql" -X -qAt "$url" -c "SELECT coalesce(sum(copied), 0) FROM catalog_copy_progress" 2>/dev/null || echo 0)
set +e; es -q catalog migrate-to "$url" --batch 50 > migrate.out 2> migrate.err; rc=$?; set -e
cat migrate.err >&2
check "the copy finished ($partial rows were there from the stopped run)" test "$rc" = 0
check "every table compares the same" sh -c "! grep -q DIFFERENT migrate.out && test \$(grep -c ' same$' migrate.out) -ge 25"
for t in calls recordings evaluations audit users queue_calls unreturned rubric_versions; do
  check "$t copied" grep -qE "^$t +([1-9][0-9]*) +\\1  same$" migrate.out
done
es ls --json > ls-sqlite.jsonl
es --catalog "$url" ls --json > ls-pg.jsonl
check "the same listing from the copy" cmp -s ls-sqlite.jsonl ls-pg.jsonl
check "verify on the copy" es -q --catalog "$url" verify
check "the audit chain holds on the copy" es -q --catalog "$url" audit verify
check "a new user on the copy gets a new id" sh -c "printf 'a long password 1\n' | '$EARSHOT' --catalog '$url' user add newbie --role supervisor"
set +e; es -q catalog compare "$url" > compare.out 2> compare.err; rc=$?; set -e
check "a changed copy compares different ($(cat compare.err))" sh -c "test $rc = 1 && grep -q '^users .*DIFFERENT' compare.out"
other=$("$SRC/tests/tools/pg-cluster" createdb "$pg" other)
printf 'a long password 1\n' | es --catalog "$other" user add someone --role supervisor > /dev/null
set +e; es -q catalog migrate-to "$other" > /dev/null 2> refused.err; rc=$?; set -e
check "a catalog holding other rows is refused ($(cat refused.err))" sh -c "test $rc = 1 && grep -q 'migrate into an empty catalog' refused.err"
finish
