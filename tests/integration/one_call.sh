# One conversation, one call: captures that once gave a call twice, phantom
# calls or calls nobody found (tests/tools/mkpcap.py scenarios). Each stream
# must live in exactly one call with tshark's packet and loss counts
# (tests/tools/compare-streams.py), and the calls found must be the real ones.
source "$(dirname "$0")/lib.bash"
command -v tshark > /dev/null || { echo "SKIP: tshark is not installed (scripts/install-deps installs it)"; exit 77; }
gen() { python3 "$SRC/tests/tools/mkpcap.py" "$@"; }
streams() { python3 "$SRC/tests/tools/compare-streams.py" "$@"; }
rec() { # name capture [record options]: archive into data-<name>, summary in <name>.json
  local name=$1 pcap=$2; shift 2
  es --data "data-$name" -q record -r "$pcap" --json "$@" > "$name.json"
  es --data "data-$name" ls --json > "$name.jsonl"
}
calls() { grep -c '"id"' "$1.jsonl" || true; }
sum() { python3 -c "import json,sys; print(json.load(open('$1.json'))['$2'])"; }
field() { python3 -c "import json,sys; [print($2) for c in map(json.loads, open('$1.jsonl'))]"; }

# 1. Media on another host than the signalling, RTP 1 ms after the 200 OK, and
#    every packet seen a second time after NAT (the router's capture sees both
#    sides). Once: the caller's audio mixed in twice, and the callee's copies a
#    second "unknown" call with the parties swapped.
for order in after first; do
  gen "nat-$order.pcap" --media-host 9 --copy-via 50 --rtp-delay 0.001 --seconds 4 \
    $([ $order = first ] && echo --copy-first) > /dev/null
  rec "nat-$order" "nat-$order.pcap"
  check "NAT copies ($order): one call, not two ($(calls nat-$order))" test "$(calls nat-$order)" = 1
  check "NAT copies ($order): every stream in that call, counts as tshark's" \
    streams "nat-$order.pcap" "nat-$order.jsonl" --heuristic
  check "NAT copies ($order): two streams marked as copies" \
    test "$(field nat-$order "sum(1 for s in c['rtp'] if 'copy_of_ssrc' in s)")" = 2
  check "NAT copies ($order): 400 copy packets counted" test "$(sum nat-$order copy_rtp_packets)" = 400
done
# the copies are never mixed: the recording equals the one without them
gen plain.pcap --media-host 9 --rtp-delay 0.001 --seconds 4 > /dev/null
rec plain plain.pcap
ffmpeg -v error -y -i "data-plain/$(field plain "c['path']")" plain.wav
ffmpeg -v error -y -i "data-nat-after/$(field nat-after "c['path']")" nat.wav
level_ok() { local l=${1#level_db=}; l=${l%% *}; local g=${1##*lag_ms=}; near "$l" 0 0.5 && near "$g" 0 5; }
for ch in 0 1; do
  r=$(python3 "$SRC/tests/tools/audiocmp.py" plain.wav $ch nat.wav $ch)
  check "NAT copies: channel $ch is the plain call's, same level and time ($r)" level_ok "$r"
done
check "NAT copies: same length as the plain call" \
  test "$(soxi -s nat.wav)" = "$(soxi -s plain.wav)"

# 2. The callee's last two packets 30 ms after the BYE: the call's, not a phantom.
gen late.pcap --late-rtp 2 --seconds 3 > /dev/null
rec late late.pcap
check "late packets: one call ($(calls late))" test "$(calls late)" = 1
check "late packets: counted in the call's stream, as tshark" streams late.pcap late.jsonl --heuristic
gen late3s.pcap --late-rtp 2 --late-ms 3000 --seconds 3 > /dev/null
rec late3s late3s.pcap
check "packets 3 s after the BYE: still the call's (linger 5 s)" \
  test "$(calls late3s) $(sum late3s stray_rtp_packets)" = "1 0"
rec late-linger1 late3s.pcap --linger 1
check "--linger 1: packets 3 s after the BYE are stray RTP, not a call" \
  test "$(calls late-linger1) $(sum late-linger1 stray_rtp_packets)" = "1 2"

# 3. Six packets of ringback to a port no SDP names: stray RTP, noted on the call.
gen stray.pcap --stray-early 6 --seconds 3 > /dev/null
rec stray stray.pcap
check "stray early media: one call ($(calls stray))" test "$(calls stray)" = 1
check "stray early media: 6 stray packets in the summary" test "$(sum stray stray_rtp_packets)" = 6
check "stray early media: noted on the call" test "$(field stray "c.get('stray_rtp_packets')")" = 6
check "stray early media: the other streams as tshark" streams stray.pcap stray.jsonl --heuristic --stray 6
rec stray-kept stray.pcap --min-unknown 0
check "--min-unknown 0 keeps the burst as an unknown call" test "$(calls stray-kept)" = 2

# 4. SIP on other ports than 5060, over UDP and TCP, found without options;
#    --sip-port restricts.
for p in 5062 5080 5090 15060 25060; do
  gen "port-$p.pcap" --sip-port $p --seconds 2 > /dev/null
  rec "port-$p" "port-$p.pcap"
  check "SIP on UDP $p: the call and its caller" \
    test "$(field port-$p "c['disposition'], c['caller']")" = "answered +49301000000"
  check "SIP on UDP $p: reported in sip_ports_seen" \
    python3 -c "import json,sys; sys.exit(0 if $p in json.load(open('port-$p.json'))['sip_ports_seen'] else 1)"
done
gen port-tcp.pcap --sip-port 15060 --tcp --seconds 2 > /dev/null
rec port-tcp port-tcp.pcap
check "SIP on TCP 15060: the call" test "$(field port-tcp "c['disposition'], c['sip_call_id']")" = "answered call0-1"
gen port-odd.pcap --caller-sip-port 5062 --sip-port 5080 --seconds 2 > /dev/null
rec port-restricted port-odd.pcap --sip-port 5060
check "--sip-port 5060 restricts: SIP between 5062 and 5080 not taken" \
  test "$(field port-restricted "c['sip_call_id']") $(sum port-restricted sip_messages)" = "None 0"

# 5. Fax and video are not audio: T.38 (UDPTL) after an image/t38 re-INVITE on
#    the audio's ports, and video streams, are the call's, counted, never RTP.
gen t38.pcap --t38 2 --seconds 5 > t38.info
rec t38 t38.pcap
check "T.38: one call ($(calls t38))" test "$(calls t38)" = 1
check "T.38: details.fax and every UDPTL packet counted" \
  test "$(field t38 "c.get('fax'), c.get('t38_packets')")" = "t38 $(python3 -c "import json; print(json.load(open('t38.info'))['t38_packets'])")"
check "T.38: no audio problem, the audio streams as tshark's" \
  sh -c "test \"\$(python3 -c \"import json; print([json.loads(l).get('audio_problem') for l in open('t38.jsonl')])\")\" = '[None]' && python3 '$SRC/tests/tools/compare-streams.py' t38.pcap t38.jsonl"
for v in h264 vp8 h263; do
  gen "video-$v.pcap" --video $v --seconds 3 > /dev/null
  rec "video-$v" "video-$v.pcap"
  name=$(echo $v | tr a-z A-Z)
  check "video $v: one call, details.video [$name], 180 video packets" \
    test "$(calls video-$v) $(field video-$v "c.get('video'), c.get('video_packets'), c.get('audio_problem')")" = "1 ['$name'] 180 None"
  check "video $v: audio streams as tshark's, video streams counted apart" \
    streams "video-$v.pcap" "video-$v.jsonl" --video
done

# 6. RTP before the 200 OK that names its address (early media both ways): the
#    stream begun as an unknown call is the SIP call's, whole, never split.
gen early.pcap --rtp-delay -0.3 --seconds 3 > /dev/null
rec early early.pcap
check "RTP before the answer: one call ($(calls early))" test "$(calls early)" = 1
check "RTP before the answer: each stream whole in that call, as tshark's" \
  streams early.pcap early.jsonl --heuristic

finish
