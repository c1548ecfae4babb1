# Many writers, one archive: two recorders and two spool watchers, each as if
# on a host of its own (its own data directory), all writing one catalog (one
# SQLite file, or one PostgreSQL database) and one audio directory (mounted
# at each data directory's archive/). Each is killed with -9 at random moments
# and started again; the watchers race for the same files. (The processes
# are started as "$EARSHOT", never through a shell function: a kill must reach
# earshot itself, not a subshell around it.) Every call is
# archived exactly once (the catalog's constraints decide, not a lock file),
# no file is left without its row, and verify is green on every host.
source "$(dirname "$0")/lib.bash"
cat=$(catalog_of data-r1)
mkdir -p audio spool
for h in r1 r2 w1 w2; do mkdir -p "data-$h" && ln -s ../audio "data-$h/archive"; done
on() { local h=$1; shift; "$EARSHOT" --data "data-$h" --catalog "$cat" "$@"; }
"$SRC/tests/tools/make-calls" --days 2 --per-day 5 --seed 21 --out spool 2>/dev/null
python3 "$SRC/tests/tools/mkpcap.py" a.pcap --calls 8 --stagger 400 --seconds 4 --seed 31 > /dev/null
python3 "$SRC/tests/tools/mkpcap.py" b.pcap --calls 8 --stagger 400 --seconds 4 --seed 32 > /dev/null
jobs_in_spool=$(python3 - <<'PY'
import os
names = os.listdir('spool')
legs = [n for n in names if n.endswith('-out.wav')]
print(len([n for n in names if not n.endswith('.json')]) - len(legs))
PY
)
start() { # host: the process for it, in the background (earshot itself, so that kill reaches it)
  local args
  case "$1" in
    r1) args=(record -r a.pcap) ;;
    r2) args=(record -r b.pcap) ;;
    w1|w2) args=(ingest --watch spool --settle 0.3) ;;
  esac
  "$EARSHOT" --data "data-$1" --catalog "$cat" -q "${args[@]}" > /dev/null 2>&1 &
  pid[$1]=$!
}
declare -A pid
trap 'for h in r1 r2 w1 w2; do kill -9 "${pid[$h]:-}" 2>/dev/null || true; done' EXIT
RANDOM=4242
hosts=(r1 r2 w1 w2)
for round in $(seq 1 6); do
  for h in "${hosts[@]}"; do start "$h"; done
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  for h in "${hosts[@]}"; do
    if [ $((RANDOM % 3)) -ne 0 ]; then kill -9 "${pid[$h]}" 2>/dev/null || true; fi
  done
  sleep 0.$((RANDOM % 5))
  for h in "${hosts[@]}"; do kill -9 "${pid[$h]}" 2>/dev/null || true; wait "${pid[$h]}" 2>/dev/null || true; done
done
# the last run of each, to its end: the watchers' race once more, as plain
# ingests of the same spool at once
"$EARSHOT" --data data-r1 --catalog "$cat" -q record -r a.pcap > /dev/null &
p1=$!
"$EARSHOT" --data data-r2 --catalog "$cat" -q record -r b.pcap > /dev/null &
p2=$!
"$EARSHOT" --data data-w1 --catalog "$cat" -q ingest spool > /dev/null &
p3=$!
"$EARSHOT" --data data-w2 --catalog "$cat" -q ingest spool > /dev/null &
p4=$!
for p in $p1 $p2 $p3 $p4; do wait "$p" || fail "a final run failed"; done
# a second tap that saw the same calls as r1 adds nothing
on r2 -q record -r a.pcap > /dev/null

want=$((jobs_in_spool + 16))
n=$(catq data-r1 "SELECT count(*) FROM calls WHERE disposition = 'answered'")
check "every call archived exactly once ($n calls, $want expected)" test "$n" = "$want"
check "distinct sources" test "$(catq data-r1 'SELECT count(DISTINCT source_sha256) FROM calls')" = "$n"
files=$(find audio -name '*.opus' | wc -l)
check "files in the shared audio directory = recordings ($files)" \
  test "$files" = "$(catq data-r1 'SELECT count(*) FROM recordings')"
check "no temp files left" test -z "$(find audio/.tmp -type f -name '*.tmp' 2>/dev/null)"
check "no pending marks left" test "$(catq data-r1 'SELECT count(*) FROM pending_files')" = 0
for h in "${hosts[@]}"; do check "verify is green on $h" on "$h" -q verify; done
finish
