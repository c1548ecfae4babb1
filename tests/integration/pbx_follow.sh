# earshot pbx import --follow: a queue_log written as the PBX writes it, with
# a half-written line, a kill -9 of the follower mid-way, a logrotate by
# rename (lines still written to the old file), and a copytruncate. At the
# end every line has been counted once: the report equals the truth.
source "$(dirname "$0")/lib.bash"
export TZ=UTC
python3 "$SRC/tests/tools/mkqueuelog.py" all.log --days 2 --calls-per-day 150 --seed 9 --truth truth.json
total=$(wc -l < all.log)
part() { sed -n "$1,$2p" all.log; }  # lines $1..$2
offered() { es report calls --from 2026-11-30 --to 2026-12-02 --json 2>/dev/null | head -n1 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["offered"])'; }
lines_in() { catq data "SELECT coalesce(sum(lines), 0) FROM pbx_files"; }
wait_lines() { # until the catalog has read $1 lines in all
  for _ in $(seq 1 100); do [ "$(lines_in)" -ge "$1" ] && return 0; sleep 0.1; done
  echo "only $(lines_in) of $1 lines read" >&2; return 1; }
start() { "$EARSHOT" --data data pbx import --follow queue_log >> follow.log 2>&1 & fol=$!; }

: > queue_log
es pbx import queue_log > /dev/null   # makes the tables; an empty file is nothing yet
start
trap 'kill $fol 2>/dev/null || true' EXIT
a=$((total / 4)); b=$((total / 2)); c=$((3 * total / 4))
part 1 $a >> queue_log
check "lines appended are read" wait_lines "$a"
# half a line, then the follower is killed; the rest of the line comes later
line=$(part $((a + 1)) $((a + 1)))
printf '%s' "${line:0:10}" >> queue_log
sleep 1.5
kill -9 $fol; wait $fol 2>/dev/null || true
check "a half-written line is not read ($(lines_in) lines)" test "$(lines_in)" = "$a"
printf '%s\n' "${line:10}" >> queue_log
part $((a + 2)) $b >> queue_log
start
check "after kill -9 the follower resumes where it stopped" wait_lines "$b"
# logrotate (create): renamed, a last line still written to the old file, a new file
mv queue_log queue_log.1
part $((b + 1)) $((b + 1)) >> queue_log.1
part $((b + 2)) $c > queue_log
check "rotation: the old file's last lines and the new file are read" wait_lines "$c"
# logrotate (copytruncate): copied, cut to nothing, written again
cp queue_log queue_log.2
: > queue_log
part $((c + 1)) "$total" >> queue_log
check "copytruncate: the new lines are read" wait_lines "$total"
kill -TERM $fol; wait $fol || true
check "SIGTERM stops the follower cleanly" bash -c "! kill -0 $fol 2>/dev/null"
want=$(python3 -c 'import json; print(json.load(open("truth.json"))["offered"])')
check "every call counted once: offered $(offered) = $want" test "$(offered)" = "$want"
es pbx import queue_log queue_log.1 queue_log.2 > again.txt
check "importing the files by hand now adds nothing" test "$(grep -c ' 0 new lines' again.txt)" = 3
finish
