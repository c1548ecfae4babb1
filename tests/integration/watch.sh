# ingest --watch: files are archived once the PBX has closed them (a file
# still being written is left alone), moved-in files and new subdirectories
# are seen, MixMonitor legs stay one call, SIGTERM stops cleanly, and a
# restart picks up what arrived while earshot was down.
source "$(dirname "$0")/lib.bash"
mkdir -p spool
src=$SOUNDS/vm-options.wav
start_watch() {
  "$EARSHOT" ingest --watch spool --settle 0.5 -j 2 > "watch-$1.log" 2>&1 &
  wpid=$!
  sleep 0.5
}
wait_calls() { # n, seconds
  for _ in $(seq 1 $(($2 * 10))); do
    [ "$(ncalls)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
cp "$src" spool/before-start.wav           # there before the watcher starts
start_watch 1
check "file present at start archived" wait_calls 1 10

# a slow writer: half the file, a pause longer than the settle time, the rest
sox "$src" slow-src.wav gain -5
python3 - slow-src.wav spool/slow.wav <<'PY' &
import sys, time
data = open(sys.argv[1], 'rb').read()
with open(sys.argv[2], 'wb') as f:
    f.write(data[:len(data) // 2]); f.flush()
    time.sleep(2.0)
    f.write(data[len(data) // 2:])
PY
writer=$!
sleep 1.2
check "file still being written is not archived" test "$(ncalls)" = 1
wait $writer
check "slow file archived once closed" wait_calls 2 10
p=$(archived_path spool/slow.wav)
d=$(duration "data/$p")
check "slow file complete ($d s)" near "$d" "$(soxi -D "$src")" 0.02

sox "$src" tmp-moved.wav gain -1 && mv tmp-moved.wav spool/moved.wav
mkdir -p spool/2026/11/20
sox "$src" spool/2026/11/20/nested.wav gain -2
sox "$src" "spool/q-600-5550101-20261120-110000-9.9-in.wav" gain -3
sox "$SOUNDS/agent-loginok.wav" "spool/q-600-5550101-20261120-110000-9.9-out.wav"
check "moved, nested and a leg pair archived" wait_calls 5 15
check "legs stayed one stereo call" sh -c "$EARSHOT ls --json | grep -F 9.9-in.wav | grep -q '\"channels\":2'"

kill -TERM "$wpid"
set +e; wait "$wpid"; rc=$?; set -e
check "SIGTERM stops with status 0 (rc=$rc)" test "$rc" = 0
sox "$src" spool/while-down.wav gain -4
start_watch 2
check "file that arrived while down archived after restart" wait_calls 6 10
kill -TERM "$wpid"; wait "$wpid" || true
check "nothing archived twice" test "$(ncalls)" = 6
check "no half-written file was ever tried" test "$(catq data "select count(*) from ingest_failures")" = 0
check "verify clean" es verify
finish
