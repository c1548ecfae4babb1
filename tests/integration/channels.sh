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

# Channels never bleed: one party per channel, true digital silence on the
# other, at every source rate and at the bitrates the options allow. The
# silent channel stays at least 40 dB below the talking one (coupled Opus
# stereo let it through at about -14 dB from 44.1 and 48 kHz sources).
rms() { sox "$1" -n remix "$2" stat 2>&1 | awk '/RMS.*amp/ {print $3}'; }
leak_db() { # decoded file: the right (silent) channel against the left, in dB
  python3 -c "import math; print(round(20 * math.log10(max($(rms "$1" 2), 1e-9) / $(rms "$1" 1)), 1))"
}
bleed() { # name source [ingest options]: archives the source, prints the leak in dB
  local name=$1 src=$2; shift 2
  mkdir -p "bleed-$name" && cp "$src" "bleed-$name/"
  es --data "data-$name" ingest "$@" "bleed-$name" > /dev/null
  local p; p=$(es --data "data-$name" ls --json | sed -E 's/.*"path":"([^"]+)".*/\1/' | head -n1)
  ffmpeg -v error -y -i "data-$name/$p" -c:a pcm_s16le "bleed-$name.wav"
  leak_db "bleed-$name.wav"
}
stereo_one_side() { # rate bits out: prompt on the left, digital silence on the right
  sox "$SOUNDS/vm-options.wav" -r "$1" -b "$2" l.wav
  sox -n -r "$1" -c 1 -b "$2" z.wav trim 0 "$(soxi -D l.wav)"
  sox -M l.wav z.wav "$3"
}
for rate in 8000 11025 16000 22050 32000 44100 48000; do
  stereo_one_side $rate 16 "s$rate.wav"
  l=$(bleed "r$rate" "s$rate.wav")
  check "$rate Hz stereo: the silent channel at $l dB (<= -40)" python3 -c "import sys; sys.exit(0 if $l <= -40 else 1)"
done
stereo_one_side 44100 16 s44.wav
ffmpeg -v error -y -i s44.wav -b:a 128k s44.mp3
l=$(bleed mp3 s44.mp3)
check "44.1 kHz stereo MP3: the silent channel at $l dB (<= -40)" python3 -c "import sys; sys.exit(0 if $l <= -40 else 1)"
stereo_one_side 48000 24 s48-24.wav
l=$(bleed wav24 s48-24.wav)
check "48 kHz 24-bit stereo WAV: the silent channel at $l dB (<= -40)" python3 -c "import sys; sys.exit(0 if $l <= -40 else 1)"
for br in 6000 12000 24000 64000 128000 512000; do
  l=$(bleed "b$br" s44.wav --stereo-bitrate $br)
  check "--stereo-bitrate $br: the silent channel at $l dB (<= -40)" python3 -c "import sys; sys.exit(0 if $l <= -40 else 1)"
done
l=$(bleed r48full s48-24.wav --max-rate 48000)
check "--max-rate 48000: the silent channel at $l dB (<= -40)" python3 -c "import sys; sys.exit(0 if $l <= -40 else 1)"

# encoded at 16 kHz at most unless asked: show reports the rate chosen
rate_of() { es --data "data-$1" ls --json | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['sample_rate'])"; }
check "44.1 kHz source encoded at 16 kHz by default ($(rate_of r44100))" test "$(rate_of r44100)" = 16000
check "11.025 kHz source encoded at 12 kHz ($(rate_of r11025))" test "$(rate_of r11025)" = 12000
check "8 kHz source stays at 8 kHz ($(rate_of r8000))" test "$(rate_of r8000)" = 8000
check "--max-rate 48000 keeps 48 kHz ($(rate_of r48full))" test "$(rate_of r48full)" = 48000
printf 'ingest.max_rate = 24000\n' > max.conf
mkdir -p cfg-in && cp s48-24.wav cfg-in/
es --config max.conf --data data-cfg ingest cfg-in > /dev/null
check "ingest.max_rate in the configuration file: 24 kHz ($(rate_of cfg))" test "$(rate_of cfg)" = 24000
check "the archive verifies (OpusHead family 1 read back)" es --data data-r44100 verify
finish
