# Redaction after the fact on a real stereo recording (Asterisk prompts, the
# customer on the left, the operator on the right): a range that crosses an
# Ogg page becomes silence on both channels, the rest stays as it was, the
# call keeps its length, the waveform and talk figures follow, the catalog's
# hash is replaced, the old file is gone, verify stays green, the redaction is
# listed and audited; refused under legal hold; the API for supervisors and
# compliance staff, not operators.
source "$(dirname "$0")/lib.bash"
mkdir in
sox "$SOUNDS/vm-options.wav" rev.wav reverse
sox -M "$SOUNDS/vm-options.wav" rev.wav in/call.wav
printf '{"operator": "101", "caller": "+4930555000", "callee": "101", "direction": "inbound"}' > in/call.wav.json
es -q ingest in > /dev/null
id=$(es ls --json | sed -E 's/.*"id":"([^"]+)".*/\1/' | head -n1)
es show "$id" --json > before.json
old=$(python3 -c "import json; print(json.load(open('before.json'))['path'])")
cp "data/$old" original.opus
# an Ogg page boundary between 3 s and 12 s: the range runs across it
read -r from to < <(python3 - original.opus <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
pos, ends = 0, []
while True:
    pos = b.find(b'OggS', pos)
    if pos < 0:
        break
    gran = struct.unpack_from('<q', b, pos + 6)[0]
    if gran > 0:
        ends.append((gran - 312) / 48000)  # minus the pre-skip (opusenc's usual 312)
    pos += 4
t = next(e for e in ends if 3 < e < 12)
print(f'{t - 0.7:.3f} {t + 0.8:.3f}')
PY
)
check "a page boundary found ($from..$to)" test -n "$to"

es hold "$id" > /dev/null
set +e; es redact "$id" --from "$from" --to "$to" --reason "card number read out" 2> held.err; rc=$?; set -e
check "refused under legal hold (exit $rc): $(cat held.err)" sh -c "test $rc = 1 && grep -q 'under legal hold' held.err"
check "the held recording is untouched" cmp -s original.opus "data/$old"
es unhold "$id" > /dev/null
set +e; es redact "$id" --from 30 --to 31 --reason x 2> range.err; rc=$?; set -e
check "a range past the end is refused: $(cat range.err)" sh -c "test $rc = 1 && grep -q 'not inside the recording' range.err"
check "usage: --reason is required" sh -c "! '$EARSHOT' redact $id --from 1 --to 2 2> /dev/null"

talk() { catq data "SELECT ch0_talk_ms + ch1_talk_ms FROM analysis"; }
talk_before=$(talk)
es redact "$id" --from "$from" --to "$to" --reason "card number read out" > redact.out
es show "$id" --json > after.json
new=$(python3 -c "import json; print(json.load(open('after.json'))['path'])")
check "a new file ($new), the old one gone" sh -c "test '$new' != '$old' && test -f 'data/$new' && test ! -e 'data/$old'"
check "the catalog's hash is the new file's" test "$(python3 -c "import json; print(json.load(open('after.json'))['sha256'])")" = "$(sha256sum "data/$new" | cut -d' ' -f1)"
check "show --json lists the redaction" python3 - "$from" "$to" <<'PY'
import json, sys
a = json.load(open('after.json'))
r = a['redactions']
assert len(r) == 1 and r[0]['by'] == 'cli' and r[0]['reason'] == 'card number read out' and r[0]['at'], r
assert abs(r[0]['from_ms'] - float(sys.argv[1]) * 1000) <= 1 and abs(r[0]['to_ms'] - float(sys.argv[2]) * 1000) <= 1, r
PY
check "the call keeps its length" test "$(python3 -c "import json; print(json.load(open('before.json'))['duration_ms'])")" = "$(python3 -c "import json; print(json.load(open('after.json'))['duration_ms'])")"
ffmpeg -v error -y -i original.opus -ar 8000 a.wav
ffmpeg -v error -y -i "data/$new" -ar 8000 b.wav
check "silent inside the range on both channels, as before outside it" python3 - "$from" "$to" <<'PY'
import math, struct, sys, wave
lo, hi = float(sys.argv[1]), float(sys.argv[2])
def load(p):
    w = wave.open(p); n = w.getnframes()
    return struct.unpack('<%dh' % (n * 2), w.readframes(n))
a, b = load('a.wav'), load('b.wav')
assert abs(len(a) - len(b)) <= 2 * 160, (len(a), len(b))
def rms(x, ch, t0, t1):
    s = x[ch::2][int(t0 * 8000):int(t1 * 8000)]
    return math.sqrt(sum(v * v for v in s) / max(len(s), 1))
for ch in (0, 1):
    assert rms(a, ch, lo, hi) > 300, ('the original had speech there', ch, rms(a, ch, lo, hi))
    peak = max(abs(v) for v in b[ch::2][int((lo + 0.02) * 8000):int((hi - 0.02) * 8000)])
    assert peak < 60, ('not silent', ch, peak)
    t, loud = 0.2, 0
    while t + 0.2 < len(b) / 2 / 8000:
        if t + 0.2 < lo - 0.05 or t > hi + 0.05:
            ra, rb = rms(a, ch, t, t + 0.2), rms(b, ch, t, t + 0.2)
            if ra > 500:
                loud += 1
                assert abs(ra - rb) / ra < 0.25, ('changed outside the range', ch, t, ra, rb)
        t += 0.2
    assert loud > 20, loud
print('ok')
PY
check "the waveform follows: the range is flat in the stored peaks" python3 - "$id" "$from" "$to" <<'PY'
import os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
db = catalog.connect("data")
bucket, peaks, talk = db.execute('SELECT bucket_ms, peaks, ch0_talk_ms FROM analysis WHERE call_id = ?', (sys.argv[1],)).fetchone()
lo, hi = int(float(sys.argv[2]) * 1000 / bucket) + 1, int(float(sys.argv[3]) * 1000 / bucket) - 1
vals = [abs(v - 256 if v > 127 else v) for v in peaks[lo * 4:hi * 4]]
assert vals and max(vals) <= 1, max(vals)
PY
check "talk time went down ($talk_before -> $(talk) ms)" test "$(talk)" -lt "$((talk_before - 1500))"
check "verify stays green" es -q verify
check "audited with the range and the reason" python3 - "$id" <<'PY'
import json, os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
rows = catalog.connect("data").execute("SELECT actor, target, detail FROM audit WHERE action = 'recording.redact'").fetchall()
assert len(rows) == 1 and rows[0][0] == 'cli' and rows[0][1] == sys.argv[1], rows
assert json.loads(rows[0][2])['reason'] == 'card number read out', rows
PY

# the API: an operator may not, a supervisor may; held: 409
source "$SRC/tests/tools/review-fixture-server.sh"
printf 'supervisor pw 1\n' | es user add sup --role supervisor
printf 'operator pw 12\n' | es user add 101 --role operator --operator 101
start_server
base=http://127.0.0.1:$port
login() { # user password -> jar-$1, csrf in $csrf
  curl -s -c "jar-$1" -o /dev/null -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}" "$base/api/v1/session"
  csrf=$(curl -s -b "jar-$1" "$base/api/v1/session" | python3 -c "import json,sys; print(json.load(sys.stdin)['csrf'])")
}
post() { # user body -> status
  curl -s -o post.out -w '%{http_code}' -b "jar-$1" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' -d "$2" "$base/api/v1/calls/$id/redact"
}
login 101 'operator pw 12'
check "an operator may not redact: 403" test "$(post 101 '{"from_ms":1000,"to_ms":2000,"reason":"x"}')" = 403
login sup 'supervisor pw 1'
check "a bad body: 400" test "$(post sup '{"from_ms":2000,"to_ms":1000,"reason":"x"}')" = 400
check "a supervisor may: 200" test "$(post sup '{"from_ms":1000,"to_ms":2000,"reason":"address read out"}')" = 200
check "two redactions listed, the second by sup" sh -c "curl -s -b jar-sup '$base/api/v1/calls/$id' | python3 -c \"import json,sys; r=json.load(sys.stdin)['redactions']; assert [x['by'] for x in r] == ['cli', 'sup'], r\""
es hold "$id" > /dev/null
check "held: 409" test "$(post sup '{"from_ms":3000,"to_ms":3500,"reason":"x"}')" = 409
check "verify still green" es -q verify
check "only the latest file is in the archive" test "$(find data/archive -name '*.opus' | wc -l)" = 1
finish
