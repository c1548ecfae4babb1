# The recorder on generated captures (tests/tools/mkpcap.py, from Asterisk
# prompts): voices on the right channels and aligned, the right length under
# loss/reordering/duplicates/jitter with statistics equal to tshark's, lost
# packets as gaps, re-INVITE to another port and codec, G.722, GSM and Opus,
# SSRC change, DTMF, every missed
# reason, VLAN, IPv6, fragmented INVITEs, SIP over TCP, many calls at once.
source "$(dirname "$0")/lib.bash"
command -v tshark > /dev/null || { echo "SKIP: tshark is not installed"; exit 77; }
gen() { python3 "$SRC/tests/tools/mkpcap.py" "$@"; }
cmp() { python3 "$SRC/tests/tools/audiocmp.py" "$@"; }
level_ok() { local l=${1#level_db=}; l=${l%% *}; local g=${1##*lag_ms=}; near "$l" 0 1.5 && near "$g" 0 20; }
rec() { "$EARSHOT" --data "$1" -q record -r "$2" --json > "$1.json"; }
path_of() { "$EARSHOT" --data "$1" ls --json | head -n1 | sed -E 's/.*"path":"([^"]+)".*/\1/'; }
field() { "$EARSHOT" --data "$1" ls --json | python3 -c "import json,sys; [print($2) for c in map(json.loads, sys.stdin)]"; }

# 1. a clean call: each voice on its channel, aligned, full length
gen clean.pcap --seconds 6 > clean.info
rec clean clean.pcap
p=$(path_of clean)
ffmpeg -v error -y -i "clean/$p" -ar 8000 clean.wav
check "clean call length $(soxi -D clean.wav)" near "$(soxi -D clean.wav)" 6.0 0.02
sox "$SOUNDS/vm-options.wav" c.wav trim 0 6
sox "$SOUNDS/agent-loginok.wav" o.wav repeat 9 trim 0 6
r0=$(cmp c.wav 0 clean.wav 0); r1=$(cmp o.wav 0 clean.wav 1)
check "customer voice on the left: $r0" level_ok "$r0"
check "operator voice on the right: $r1" level_ok "$r1"

# 2. a bad network: statistics equal tshark's, the length holds, gaps stay gaps
gen bad.pcap --seconds 6 --loss 0.05 --reorder 0.05 --duplicate 0.03 --jitter 30 --seed 5 > bad.info
rec bad bad.pcap
field bad "' '.join('%d %d %d %.3f %.3f' % (s['packets'], s['lost'], s['ssrc'], s['max_delta_ms'], s['max_jitter_ms']) for s in c['rtp'])" > ours.txt
tshark -r bad.pcap -q -z rtp,streams 2>/dev/null | awk '/0x0/ {print $9, $10, $7, $14, $17}' > theirs.txt
python3 - ours.txt theirs.txt > bad-stats.txt <<'PY' && stats=0 || stats=1
import sys
ours = open(sys.argv[1]).read().split()
ours = [ours[i:i + 5] for i in range(0, len(ours), 5)]
theirs = [l.split() for l in open(sys.argv[2]) if l.strip()]
bad = 0
for t in theirs:
    t[2] = str(int(t[2], 16))
    o = next((o for o in ours if o[2] == t[2]), None)
    ok = o and int(o[0]) == int(t[0]) and int(o[1]) == int(t[1]) and \
        abs(float(o[3]) - float(t[3])) < 0.002 and abs(float(o[4]) - float(t[4])) < 0.002
    print('ours', o, 'tshark', t, 'ok' if ok else 'DIFFERENT')
    bad += not ok
sys.exit(1 if bad or not theirs else 0)
PY
check "statistics under loss/reorder/duplicates/jitter equal tshark's: $(tr '\n' ' ' < bad-stats.txt)" test "$stats" = 0
ffmpeg -v error -y -i "bad/$(path_of bad)" -ar 8000 bad.wav
check "length holds under a bad network ($(soxi -D bad.wav))" near "$(soxi -D bad.wav)" 6.0 0.05
python3 - bad.info bad.wav > gaps.txt <<'PY' && gaps=0 || gaps=1
import json, struct, sys, wave, math
info = json.loads(open(sys.argv[1]).readline())
w = wave.open(sys.argv[2]); n = w.getnframes()
x = struct.unpack('<%dh' % (2 * n), w.readframes(n))
left = x[0::2]
def rms(a, b): s = left[a:b]; return math.sqrt(sum(v * v for v in s) / max(1, len(s)))
total = rms(0, len(left))
quiet = [i for i in info['lost'][0] if rms(i * 160 + 40, i * 160 + 120) < total * 0.25]
print(len(quiet), 'of', len(info['lost'][0]), 'lost customer packets are quiet gaps')
sys.exit(0 if info['lost'][0] and len(quiet) >= 0.6 * len(info['lost'][0]) else 1)
PY
check "lost packets are gaps: $(cat gaps.txt)" test "$gaps" = 0

# 3. every missed reason
for m in cancel busy noanswer declined unavailable 500; do
  gen "m-$m.pcap" --missed "$m" > /dev/null
  rec "m-$m" "m-$m.pcap"
done
check "abandoned" test "$(field m-cancel "c['reason']")" = abandoned
check "busy" test "$(field m-busy "c['reason']")" = busy
check "no-answer" test "$(field m-noanswer "c['reason']")" = no-answer
check "declined" test "$(field m-declined "c['reason']")" = declined
check "unavailable" test "$(field m-unavailable "c['reason']")" = unavailable
check "failed:500" test "$(field m-500 "c['reason']")" = failed:500

# 4. transports and encapsulations
for v in "--vlan 42" "--ipv6" "--fragment" "--tcp" "--codec pcma"; do
  name=$(echo "$v" | tr -dc 'a-z0-9')
  gen "t-$name.pcap" $v --seconds 3 > /dev/null
  rec "t-$name" "t-$name.pcap"
  check "$v: call archived with its caller" test "$(field "t-$name" "c['disposition'], c['caller'], c['duration_ms'] // 100")" = "answered +49301000000 30"
done
for e in pppoe mpls ipip ip6ip gre erspan2 erspan3 vxlan; do
  for v in "" --ipv6; do
    gen "e-$e$v.pcap" --encap $e $v --seconds 2 > /dev/null
    rec "e-$e$v" "e-$e$v.pcap"
    es --data "e-$e$v" ls --json > "e-$e$v.jsonl"
    check "--encap $e $v: the call, streams as tshark's" \
      python3 "$SRC/tests/tools/compare-streams.py" "e-$e$v.pcap" "e-$e$v.jsonl"
    check "--encap $e $v: answered with its caller" \
      test "$(field "e-$e$v" "c['disposition'], c['caller']")" = "answered +49301000000"
  done
done
check "fragments were reassembled" python3 -c "import json,sys; sys.exit(0 if json.load(open('t-fragment.json'))['fragments'] > 0 else 1)"

# 5. re-INVITE to another port and an SSRC change mid-call keep the audio going
gen reinv.pcap --seconds 6 --reinvite 2 > /dev/null
rec reinv reinv.pcap
ffmpeg -v error -y -i "reinv/$(path_of reinv)" -ar 8000 reinv.wav
sox reinv.wav late.wav remix 1 trim 3 2; sox c.wav clate.wav trim 3 2
r=$(cmp clate.wav 0 late.wav 0)
check "audio after the re-INVITE to another port: $r" level_ok "$r"
gen ssrc.pcap --seconds 6 --ssrc-change 2 > /dev/null
rec ssrc ssrc.pcap
ffmpeg -v error -y -i "ssrc/$(path_of ssrc)" -ar 8000 ssrc.wav
sox ssrc.wav slate.wav remix 1 trim 3 2
r=$(cmp clate.wav 0 slate.wav 0)
check "audio aligned after an SSRC change: $r" level_ok "$r"
check "two customer streams" test "$(field ssrc "len(c['rtp'])")" = 3

# 5b. the other codecs (encoded by ffmpeg), and a re-INVITE that changes codec:
# each voice on its channel at its level, the call at its length
# every common codec: the voices on their channels, at their level and in
# time, the call's length, the codec by its one name, streams as tshark's
sox c.wav "c4.wav" trim 0 4; sox o.wav "o4.wav" trim 0 4
for spec in g722:G722 gsm:GSM opus:opus l16:L16 l16-stereo:L16 speex:speex speex-wb:speex \
  g726-16:G726-16 g726-24:G726-24 g726-32:G726-32 g726-40:G726-40 aal2-g726-32:AAL2-G726-32 \
  g723:G723 amr:AMR amr-be:AMR amr-wb:AMR-WB amr-wb-be:AMR-WB; do
  codec=${spec%%:*} name=${spec#*:}
  gen "k-$codec.pcap" --codec "$codec" --seconds 4 > /dev/null
  rec "k-$codec" "k-$codec.pcap"
  ffmpeg -v error -y -i "k-$codec/$(path_of "k-$codec")" -ar 8000 "k-$codec.wav"
  want=4.0; [ "$codec" = g723 ] && want=3.99  # 133 frames of 30 ms
  check "$codec: length $(soxi -D "k-$codec.wav")" near "$(soxi -D "k-$codec.wav")" $want 0.04
  r0=$(cmp c4.wav 0 "k-$codec.wav" 0); r1=$(cmp o4.wav 0 "k-$codec.wav" 1)
  check "$codec: customer voice on the left: $r0" level_ok "$r0"
  check "$codec: operator voice on the right: $r1" level_ok "$r1"
  check "$codec: named $name in the call's codecs, no audio problem" \
    test "$(field "k-$codec" "c['codecs'], c.get('audio_problem')")" = "['$name'] None"
  es --data "k-$codec" ls --json > "k-$codec.jsonl"
  check "$codec: streams as tshark's" python3 "$SRC/tests/tools/compare-streams.py" "k-$codec.pcap" "k-$codec.jsonl"
done
gen recodec.pcap --seconds 6 --reinvite 2 --reinvite-codec g722 > /dev/null
rec recodec recodec.pcap
ffmpeg -v error -y -i "recodec/$(path_of recodec)" -ar 8000 recodec.wav
sox recodec.wav rlate.wav remix 1 trim 3 2
r=$(cmp clate.wav 0 rlate.wav 0)
check "audio after a re-INVITE from PCMU to G.722: $r" level_ok "$r"
check "both codecs listed" test "$(field recodec "','.join(c['codecs'])")" = "PCMU,G722"

# 6. DTMF and many calls at once
gen dtmf.pcap --seconds 4 --dtmf 12 > /dev/null
rec dtmf dtmf.pcap
check "DTMF digits 1 and 2" test "$(field dtmf "''.join(d['digit'] for d in c['dtmf'])")" = 12
gen many.pcap --calls 40 --stagger 100 --seconds 5 > /dev/null
rec many many.pcap
check "40 overlapping calls archived" python3 -c "import json,sys; c=json.load(open('many.json')); sys.exit(0 if c['calls_archived'] == 40 and c['calls_failed'] == 0 else 1)"
check "verify clean" "$EARSHOT" --data many verify
finish
