# Stereo sources and MixMonitor legs: channel 0 is the customer, channel 1
# the operator; levels within 1 dB and alignment within 20 ms of the source
# after decoding; legs of different lengths are padded, not stretched.
source "$(dirname "$0")/lib.bash"
mkdir in
cmp() { python3 "$SRC/tests/tools/audiocmp.py" "$@"; }
decode() { ffmpeg -v error -i "data/$1" -ar 8000 -c:a pcm_s16le -y "$2"; }
level_ok() { # "level_db=X lag_ms=Y" -> |X| <= 1 and |Y| <= 20
  local l=${1#level_db=}; l=${l%% *}; local g=${1##*lag_ms=}
  near "$l" 0 1.0 && near "$g" 0 20
}

# stereo file: customer speaks first, operator (another prompt) 1 s later
sox "$SOUNDS/vm-options.wav" cust.wav
sox "$SOUNDS/agent-loginok.wav" oper.wav pad 1.0 0 gain -3
sox -M cust.wav oper.wav in/in-101-5550100-20261120-100000-1.1.wav
es ingest in/in-101-5550100-20261120-100000-1.1.wav > /dev/null
decode "$(archived_path in-101-5550100)" dec.wav
sox -M cust.wav oper.wav ref.wav
r0=$(cmp ref.wav 0 dec.wav 0); r1=$(cmp ref.wav 1 dec.wav 1)
check "stereo customer channel: $r0" level_ok "$r0"
check "stereo operator channel: $r1" level_ok "$r1"
check "stereo file stays two channels" test "$(soxi -c dec.wav)" = 2

# inbound MixMonitor legs of different lengths: -in is the caller (customer)
cp cust.wav "in/q-600-5550101-20261120-110000-2.2-in.wav"
cp oper.wav "in/q-600-5550101-20261120-110000-2.2-out.wav"
# outbound legs: the recorded channel is the operator's, so -in is the operator
sox cust.wav "in/out-5550102-101-20261120-120000-3.3-in.wav" gain -2
sox oper.wav "in/out-5550102-101-20261120-120000-3.3-out.wav" gain -2
es ingest in > /dev/null
check "three calls catalogued" test "$(ncalls)" = 3
p=$(archived_path 2.2-in.wav)
decode "$p" legs.wav
d=$(duration "data/$p")
check "legs padded to the longer leg ($d s vs $(soxi -D cust.wav))" near "$d" "$(soxi -D cust.wav)" 0.020
r0=$(cmp cust.wav 0 legs.wav 0); r1=$(cmp oper.wav 0 legs.wav 1)
check "inbound legs: customer on the left: $r0" level_ok "$r0"
check "inbound legs: operator on the right: $r1" level_ok "$r1"

decode "$(archived_path 3.3-in.wav)" out.wav
sox cust.wav c2.wav gain -2; sox oper.wav o2.wav gain -2
r0=$(cmp o2.wav 0 out.wav 0); r1=$(cmp c2.wav 0 out.wav 1)
check "outbound legs: customer (the -out leg) on the left: $r0" level_ok "$r0"
check "outbound legs: operator (the -in leg) on the right: $r1" level_ok "$r1"

# a crossed-over check must fail, or the ones above prove nothing
rx=$(cmp cust.wav 0 legs.wav 1)
check "swapped channels are detected ($rx)" bash -c "! level_ok_x() { :; }; l=\${1#level_db=}; l=\${l%% *}; python3 -c \"import sys; sys.exit(0 if abs(\$l) > 3 else 1)\"" _ "$rx"

# the analysis sees who talked: the customer talks longer than this operator
js=$(es show "$(es ls --json | grep -F 2.2-in.wav | sed -E 's/.*"id":"([^"]+)".*/\1/')" --json)
ct=$(echo "$js" | python3 -c "import json,sys; a=json.load(sys.stdin)['analysis']; print(a['channels'][0]['talk_ms'], a['channels'][1]['talk_ms'])")
check "customer talk > operator talk ($ct)" python3 -c "a,b=map(int,'$ct'.split()); import sys; sys.exit(0 if a > b > 0 else 1)"
finish
