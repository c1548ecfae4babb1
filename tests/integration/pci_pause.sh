# PCI: pausing a live recording while a card number is taken, on loopback at
# real-time pace. An agent desktop pauses and resumes through the review
# server's POST /api/v1/recording-control (an API token); the operator pauses
# with DTMF *7 and resumes with *8. The paused spans are silent on both
# channels, the rest carries its tones, the digits pressed meanwhile are gone,
# the call keeps its length, every pause is listed and audited.
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: live capture needs root or CAP_NET_RAW"; exit 77; }
ip link show lo > /dev/null 2>&1 || { echo "SKIP: no loopback interface"; exit 77; }
source "$SRC/tests/tools/review-fixture-server.sh"
printf 'pci pass 12\n' | es user add adm --role admin
start_server
base=http://127.0.0.1:$port
curl -s -c jar -o /dev/null -H 'Content-Type: application/json' -d '{"username":"adm","password":"pci pass 12"}' "$base/api/v1/session"
csrf=$(curl -s -b jar "$base/api/v1/session" | python3 -c "import json,sys; print(json.load(sys.stdin)['csrf'])")
token=$(curl -s -b jar -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' -d '{"name":"crm"}' "$base/api/v1/tokens" | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])")
ctl() { # body -> "HTTP-code body"
  curl -s -o ctl.out -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$1" "$base/api/v1/recording-control"
}

check "no recorder running: 503 naming the socket" sh -c "test \"\$(curl -s -o ctl.out -w '%{http_code}' -H 'Authorization: Bearer $token' -H 'Content-Type: application/json' -d '{\"action\":\"pause\",\"operator\":\"101\"}' $base/api/v1/recording-control)\" = 503 && grep -q recorder.sock ctl.out"

"$EARSHOT" record -i lo --filter "udp and host 127.0.0.1" --rtp-timeout 2 --operators 101 \
  --pci-pause-dtmf '*7' --pci-resume-dtmf '*8' > rec.json 2> rec.log &
rec=$!
trap 'kill $srv $rec 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -S data/recorder.sock ] && break; sleep 0.1; done
sleep 0.5
check "the control socket is there, not world-writable" sh -c "test -S data/recorder.sock && test \"\$(stat -c %a data/recorder.sock)\" = 660"
check "without a token: 401" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"action":"pause","operator":"101"}' "$base/api/v1/recording-control")" = 401
check "a session is not enough: 401" test "$(curl -s -b jar -o /dev/null -w '%{http_code}' -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' -d '{"action":"pause","operator":"101"}' "$base/api/v1/recording-control")" = 401
check "a bad action: 400" test "$(ctl '{"action":"stop","operator":"101"}')" = 400
check "both operator and call: 400" test "$(ctl '{"action":"pause","operator":"101","sip_call_id":"x"}')" = 400
check "no call in progress: 404 saying so" sh -c "test \"\$(curl -s -o ctl.out -w '%{http_code}' -H 'Authorization: Bearer $token' -H 'Content-Type: application/json' -d '{\"action\":\"pause\",\"operator\":\"101\"}' $base/api/v1/recording-control)\" = 404 && grep -q 'no answered call in progress for extension 101' ctl.out"

# 1. by API: paused at 1.5 s, digits 4111 at 2.8 s, resumed at 4 s, digit 5 at 5.2 s
# (the request's own latency on a loaded machine is allowed for: the pause is
# checked against the span the call lists, and that span against the audio)
req() { echo "curl -s -o $WORK/$2 -H 'Authorization: Bearer $token' -H 'Content-Type: application/json' -d '{\"action\":\"$1\",\"operator\":\"101\",\"reason\":\"card payment\"}' $base/api/v1/recording-control"; }
python3 "$SRC/tests/tools/sipcall.py" --seconds 6 --call-id "api$$" \
  --at "1.5:$(req pause pause.json)" --at "4:$(req resume resume.json)" \
  --dtmf 2.8:callee:4111 --dtmf 5.2:callee:5
# 2. by DTMF: *7 at 1 s, 42 at 1.6 s, *8 at 2.5 s; *7 again at 3.5 s, never resumed
python3 "$SRC/tests/tools/sipcall.py" --seconds 5 --call-id "dtmf$$" \
  --dtmf '1:callee:*7' --dtmf 1.6:callee:42 --dtmf '2.5:callee:*8' --dtmf 3:callee:9 --dtmf '3.5:callee:*7'
sleep 1
kill -TERM $rec
set +e; wait $rec; rc=$?; set -e
check "the recorder stops cleanly ($rc)" test "$rc" = 0
check "the pause answer names the call" python3 -c "
import json; a = json.load(open('pause.json'))
assert a['ok'] and a['action'] == 'pause' and len(a['calls']) == 1 and a['calls'][0]['changed'], a
assert a['calls'][0]['sip_call_id'] == 'api$$-answered@127.0.0.1', a"
check "the resume answer too" python3 -c "
import json; a = json.load(open('resume.json')); assert a['ok'] and a['calls'][0]['changed'], a"
check "the socket is removed at exit" test ! -e data/recorder.sock

# the audio: silent inside each pause (both channels), tones outside, full length
analyse() { # call-id prefix -> show.json, audio.wav
  id=$(es ls --json | grep "\"$1-answered@" | sed -E 's/.*"id":"([^"]+)".*/\1/')
  es show "$id" --json > "$1.json"
  ffmpeg -v error -y -i "data/$(python3 -c "import json; print(json.load(open('$1.json'))['path'])")" -ar 8000 "$1.wav"
}
analyse "api$$"
analyse "dtmf$$"
cat > spans.py <<'PY'
import json, struct, sys, wave
show, wav, expect = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
c = json.load(open(show))
p = c.get('pci_pauses')
assert p and len(p) == len(expect), ('pci_pauses', p, expect)
for got, (lo, hi, by, late) in zip(p, expect):  # late: how much later it may come
    assert lo - 150 <= got['from_ms'] <= lo + late and hi - 150 <= got['to_ms'] <= hi + late, (got, lo, hi)
    assert got['by'] == by, (got, by)
w = wave.open(wav); n = w.getnframes()
x = struct.unpack('<%dh' % (n * 2), w.readframes(n))
assert abs(n / 8000 - c['duration_ms'] / 1000) < 0.2, ('length', n / 8000, c['duration_ms'])
def peak(a, b, ch):  # ms range, channel
    s = x[ch::2][int(a * 8):int(b * 8)]
    return max(abs(v) for v in s) if s else 0
for q in p:  # 100 ms inside each end: codec and mixer edges
    for ch in (0, 1):
        assert peak(q['from_ms'] + 100, q['to_ms'] - 100, ch) < 50, ('not silent', q, ch)
edges = [0] + [v for q in p for v in (q['from_ms'], q['to_ms'])] + [n / 8]
for a, b in zip(edges[0::2], edges[1::2]):  # the recorded spans
    if b - a > 400:
        for ch in (0, 1):
            assert peak(a + 150, b - 150, ch) > 4000, ('tone missing', a, b, ch)
print('ok')
PY
check "API call: one pause, silent, the rest intact" python3 spans.py "api$$.json" "api$$.wav" "[[1500, 4000, \"crm\", 1000]]"
dur=$(python3 -c "import json; print(json.load(open('dtmf$$.json'))['duration_ms'])")
check "DTMF call: two pauses, the second ends with the call" python3 spans.py "dtmf$$.json" "dtmf$$.wav" "[[1100, 2600, \"dtmf\", 300], [3600, $dur, \"dtmf\", 300]]"
digits() { python3 -c "import json; print(''.join(d['digit'] or '?' for d in json.load(open('$1'))['dtmf']))"; }
check "API call: the digits of the pause are gone, the later one kept ($(digits "api$$.json"))" test "$(digits "api$$.json")" = 5
check "DTMF call: only the digits outside the pauses ($(digits "dtmf$$.json"))" test "$(digits "dtmf$$.json")" = '*9*'
check "the audit log: the API's pause and resume under the token, DTMF's under the recorder" python3 - "$(python3 -c "import json; print(json.load(open('api$$.json'))['id'])")" "$(python3 -c "import json; print(json.load(open('dtmf$$.json'))['id'])")" <<'PY'
import json, os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
api, dt = sys.argv[1], sys.argv[2]
rows = catalog.connect("data").execute(
    "SELECT actor, action, target, detail FROM audit WHERE action LIKE 'pci.%' ORDER BY id").fetchall()
a = [(r[0], r[1]) for r in rows if r[2] == api]
d = [(r[0], r[1]) for r in rows if r[2] == dt]
assert a == [('crm', 'pci.pause'), ('crm', 'pci.resume')], rows
assert d == [('recorder', 'pci.pause'), ('recorder', 'pci.resume')] * 2, rows
assert json.loads([r for r in rows if r[2] == api][0][3])['reason'] == 'card payment', rows
PY
check "the audit chain holds" es -q audit verify
finish
