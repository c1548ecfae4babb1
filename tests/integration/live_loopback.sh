# Live capture on the loopback interface while calls are played at real-time
# pace: the answered call is archived with the caller's tone on the customer
# channel and the callee's on the operator channel, the busy call as missed,
# SIGTERM stops cleanly, and the kernel drop counters are reported.
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: live capture needs root or CAP_NET_RAW"; exit 77; }
ip link show lo > /dev/null 2>&1 || { echo "SKIP: no loopback interface"; exit 77; }
"$EARSHOT" record -i lo --filter "udp and host 127.0.0.1" --rtp-timeout 2 --operators 101 \
  > rec.json 2> rec.log &
rec=$!
sleep 1.5
python3 "$SRC/tests/tools/sipcall.py" --seconds 3 --call-id "live$$"
sleep 1
kill -TERM "$rec"
set +e; wait "$rec"; rc=$?; set -e
check "SIGTERM: clean exit (rc=$rc): $(tail -n 3 rec.log | tr '\n' ' ')" test "$rc" = 0
check "drop counters reported" grep -q "capture received=[0-9]* dropped=0" rec.log
es ls --json > calls.jsonl
check "two calls" test "$(grep -c '"id"' calls.jsonl)" = 2
check "busy call missed" grep -q '"disposition":"missed".*' calls.jsonl
check "busy reason" sh -c "grep 'busy@' calls.jsonl | grep -q '\"reason\":\"busy\"'"
line=$(grep 'answered@' calls.jsonl)
check "answered, inbound to operator 101" sh -c "echo '$line' | grep -q '\"direction\":\"inbound\".*' && echo '$line' | grep -q '\"operator\":\"101\"'"
p=$(echo "$line" | sed -E 's/.*"path":"([^"]+)".*/\1/')
ffmpeg -v error -y -i "data/$p" -ar 8000 live.wav
d=$(soxi -D live.wav)
check "about three seconds of audio ($d)" near "$d" 3.0 0.1
python3 - live.wav > freq.txt <<'PY'
import struct, sys, wave
w = wave.open(sys.argv[1]); n = w.getnframes()
x = struct.unpack('<%dh' % (n * 2), w.readframes(n))
for ch in (0, 1):
    s = x[ch::2][800:-800]
    crossings = sum(1 for i in range(1, len(s)) if (s[i - 1] < 0) != (s[i] < 0))
    print(round(crossings / 2 / (len(s) / 8000)))
PY
f0=$(sed -n 1p freq.txt); f1=$(sed -n 2p freq.txt)
check "customer channel carries the caller's 400 Hz ($f0 Hz)" near "$f0" 400 20
check "operator channel carries the callee's 1000 Hz ($f1 Hz)" near "$f1" 1000 40
# a call whose media just stops, on an otherwise silent line, ends by its RTP
# timeout while the capture goes on (time passes without packets)
"$EARSHOT" --data quiet record -i lo --filter "udp and host 127.0.0.1" --rtp-timeout 1 \
  > quiet.json 2> quiet.log &
rec=$!
sleep 1.5
python3 "$SRC/tests/tools/sipcall.py" --seconds 1 --call-id "quiet$$" --no-bye
sleep 3.5
"$EARSHOT" --data quiet ls --json > quiet.jsonl
kill -TERM "$rec"; wait "$rec" || true
check "ended by RTP timeout during a quiet capture: $(grep -c '"id"' quiet.jsonl) calls" \
  sh -c "grep 'answered@' quiet.jsonl | grep -q '\"disposition\":\"answered\"'"
finish
