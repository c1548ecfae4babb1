# Overload without loss: earshot record with a queue far too small for its
# input and a worker slowed down (--worker-delay) spills to its spool and
# reads it back in order. Every call's audio, decoded, equals the unhurried
# run's sample for sample; the spool is empty afterwards. Below the spool's
# floor the audio is dropped, counted, on the call, and the calls are still
# all archived. On generated calls (Asterisk prompts) and a real capture.
source "$(dirname "$0")/lib.bash"
gen() { python3 "$SRC/tests/tools/mkpcap.py" "$@"; }
gen many.pcap --calls 24 --stagger 150 --seconds 6 --seed 3 > /dev/null
PCAPS=$SRC/tests/data/pcap

# decoded DATA: "sip_call_id md5-of-the-decoded-stereo-PCM" per archived call
decoded() {
  "$EARSHOT" --data "$1" ls --json | python3 -c "
import hashlib, json, subprocess, sys
for l in sys.stdin:
    c = json.loads(l)
    if not c.get('path'):
        continue
    pcm = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-i', '$1/' + c['path'], '-f', 'f32le', '-'],
                         capture_output=True, check=True).stdout
    print(c['sip_call_id'] or c['started_at'], len(pcm) // 8, hashlib.md5(pcm).hexdigest())" | sort
}
jget() { python3 -c "import json,sys; print(json.load(open('$1'))['$2'])"; }

for input in many.pcap "$PCAPS/sip-rtp-g722.pcap" "$PCAPS/g711a-rtp-only.pcap"; do
  name=$(basename "$input" .pcap)
  es --data "base-$name" -q record -r "$input" --workers 1 --json > "base-$name.json"
  es --data "spill-$name" -q record -r "$input" --workers 1 --overload spill --queue 64K \
    --worker-delay 150 --json > "spill-$name.json"
  decoded "base-$name" > "base-$name.pcm"
  decoded "spill-$name" > "spill-$name.pcm"
  check "$name: calls were archived ($(wc -l < "base-$name.pcm"))" test -s "base-$name.pcm"
  check "$name: the same calls, the same audio, sample for sample" cmp -s "base-$name.pcm" "spill-$name.pcm"
  check "$name: nothing dropped" test "$(jget "spill-$name.json" audio_dropped)" = 0
  check "$name: every call archived" test "$(jget "spill-$name.json" calls_archived)" = "$(jget "base-$name.json" calls_archived)"
  check "$name: the spill is gone" test -z "$(ls -A "spill-$name/spool")"
done
# 24 calls of 6 s cannot pass through a 64 KiB queue to a slowed worker
check "many: it went through the spool ($(jget spill-many.json spooled_bytes) bytes)" \
  test "$(jget spill-many.json spooled_bytes)" -gt 1000000
check "many: the worker caught up" python3 -c "import json,sys; sys.exit(0 if json.load(open('spill-many.json'))['caught_up_at'] else 1)"
check "verify clean" es --data spill-many verify

# the floor: a spool disk that must keep 16 TiB free refuses every payload
es --data floor record -r many.pcap --workers 1 --overload spill --queue 1 --worker-delay 150 \
  --spool-floor 16777216 --json > floor.json 2> floor.log
check "floor: dropped audio counted" test "$(jget floor.json spool_floor_drops)" -gt 0
check "floor: counted as audio dropped" test "$(jget floor.json audio_dropped)" = "$(jget floor.json spool_floor_drops)"
check "floor: said once, naming the floor" test "$(grep -c "down to its floor" floor.log)" = 1
check "floor: every call archived all the same" test "$(jget floor.json calls_archived)" = "$(jget base-many.json calls_archived)"
check "floor: the calls say what they lost" test "$(es --data floor ls --json | grep -c '"overload_dropped"' || true)" -gt 0
check "floor: verify clean" es --data floor verify

# --overload drop keeps the old behaviour: dropped, counted, no spool
es --data drop -q record -r many.pcap --workers 1 --overload drop --queue 1 --worker-delay 150 \
  --json > drop.json
check "drop: audio dropped" test "$(jget drop.json audio_dropped)" -gt 0
check "drop: no spool" test "$(jget drop.json spooled_bytes)" = 0
check "bad --overload is a usage error" sh -c "! '$EARSHOT' record -r many.pcap --overload sometimes 2> bad.err && grep -q 'bad --overload sometimes' bad.err"
finish
