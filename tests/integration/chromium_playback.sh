# Archived files play in Chromium: the <audio> element reports the source
# duration, Web Audio decodes every sample, and the customer/operator channels
# arrive in order. Debian's chromium, driven by playwright-core, against a
# loopback server.
source "$(dirname "$0")/lib.bash"
command -v chromium > /dev/null || { echo "SKIP: chromium is not installed (scripts/install-deps installs it)"; exit 77; }
mkdir in www
sox "$SOUNDS/vm-options.wav" cust.wav
sox -n -r 8000 -c 1 -b 16 quiet.wav trim 0 "$(soxi -D cust.wav)"
sox -M cust.wav quiet.wav in/in-101-5550100-20261120-100000-1.1.wav   # customer only
sox "$SOUNDS/vm-options.wav" -r 44100 in/music44k.wav gain -2
# a 44.1 kHz stereo MP3 with the operator alone on the right: two uncoupled
# Opus streams (mapping family 1) that Chromium must play as two channels
sox "$SOUNDS/vm-options.wav" -r 44100 op44.wav
sox -n -r 44100 -c 1 -b 16 z44.wav trim 0 "$(soxi -D op44.wav)"
sox -M z44.wav op44.wav s44.wav && ffmpeg -v error -i s44.wav -b:a 128k in/in-102-5550100-20261120-110000-4.4.mp3
es ingest in > /dev/null
cp "$SRC/tests/browser/play.html" "$SRC/tests/browser/play.js" www/
cp "data/$(archived_path in-101)" www/stereo.opus
cp "data/$(archived_path music44k)" www/mono48k.opus
cp "data/$(archived_path in-102)" www/stereo44.opus
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$SRC/tests/tools/range_server.py" www "$port" > http.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done
[ -d "$SRC/tests/browser/node_modules/playwright-core" ] ||
  { echo "SKIP: playwright-core not installed (scripts/install-deps runs npm ci in tests/browser)"; exit 77; }
play() { timeout 90 node "$SRC/tests/browser/play.mjs" "http://127.0.0.1:$port" "$1"; }
want=$(soxi -D cust.wav)
for f in stereo.opus mono48k.opus; do
  r=$(play "$f")
  echo "$f: $r"
  check "$f: Chromium reported a result" test -n "$r"
  check "$f: no error" sh -c "! echo '$r' | grep -q error"
  ed=$(echo "$r" | python3 -c "import json,sys; print(json.load(sys.stdin).get('element_duration', -1))" 2>/dev/null || echo -1)
  dd=$(echo "$r" | python3 -c "import json,sys; print(json.load(sys.stdin).get('decoded_duration', -1))" 2>/dev/null || echo -1)
  check "$f: <audio> duration $ed vs $want" near "$ed" "$want" 0.02
  check "$f: decoded duration $dd vs $want" near "$dd" "$want" 0.02
done
r=$(play stereo.opus)
check "stereo: two channels, customer (left) loud, operator (right) silent: $r" python3 -c "
import json, sys; r = json.loads('''$r''')
sys.exit(0 if r['channels'] == 2 and r['rms'][0] > 0.01 and r['rms'][1] < r['rms'][0] / 100 else 1)"
r=$(play stereo44.opus)
check "44.1 kHz stereo MP3: two channels, the operator (right) alone, the left 40 dB below: $r" python3 -c "
import json, sys; r = json.loads('''$r''')
sys.exit(0 if r['channels'] == 2 and r['rms'][1] > 0.01 and r['rms'][0] < r['rms'][1] / 100 else 1)"
finish
