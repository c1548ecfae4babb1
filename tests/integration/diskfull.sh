# A full disk (RLIMIT_FSIZE here) fails the call with the reason and loses
# nothing: no partial file in the archive, the input untouched; a later run
# with room archives it.
source "$(dirname "$0")/lib.bash"
mkdir in
sox $(for i in $(seq 1 12); do echo "$SOUNDS/vm-options.wav"; done) in/long.wav   # 196 s
cp "$SOUNDS/beep.wav" in/small.wav
es ingest in/small.wav > /dev/null   # catalog exists before the limit
set +e
( trap '' XFSZ; ulimit -f 200; exec "$EARSHOT" ingest --delete in/long.wav ) > out.txt 2> err.txt
rc=$?
set -e
check "exit 1 on a full disk (rc=$rc)" test "$rc" = 1
check "reason names the file and the cause: $(cat err.txt)" grep -q "in/long.wav: cannot write archive: File too large" err.txt
check "input kept even with --delete" test -f in/long.wav
check "nothing half-written in the archive" test "$(find data/archive -name '*.opus' | wc -l)" = 1
check "no temp file left" test -z "$(find data/archive/.tmp -type f -name '*.tmp')"
es ingest in/long.wav > again.txt
check "archived once there is room" grep -q "^archived in/long.wav" again.txt
es verify
check "verify clean" es verify
finish
