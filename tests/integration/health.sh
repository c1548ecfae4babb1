# The recording system's health, live on the loopback interface: the recorder
# stores its counters every second (--status-every 1) and serves them for
# Prometheus (--metrics); `earshot notify run` turns a burst of unparsable SIP,
# a full disk (threshold at 100 %), a failed ingest and a stopped recorder into
# capture.health / ingest.failed, once per episode, cleared when it ends.
# promtool (Debian's prometheus) checks both expositions; serve's /metrics
# wants an API token.
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: live capture needs root or CAP_NET_RAW"; exit 77; }
ip link show lo > /dev/null 2>&1 || { echo "SKIP: no loopback interface"; exit 77; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
echo ok > mode
python3 "$SRC/tests/tools/hook-receiver.py" hook.port hook.jsonl mode k & pids+=($!)
for i in $(seq 100); do [ -s hook.port ] && break; sleep 0.1; done
cat > earshot.conf <<CONF
business_hours = Mon-Sun 00:00-24:00
webhook_url = http://127.0.0.1:$(cat hook.port)/hook
webhook_secret = k
webhook_events = capture.health, ingest.failed
health_unparsed_per_minute = 60
health_clear_after_minutes = 0.08
health_recorder_silent_minutes = 0.05
health_no_sip_minutes = 0
CONF
export EARSHOT_CONFIG=$WORK/earshot.conf
events() { python3 -c "
import json, os
r = [json.loads(l) for l in open('hook.jsonl')] if os.path.exists('hook.jsonl') else []
print(' '.join(x['body']['data'].get('condition', x['event']) + ':' + x['body']['data'].get('state', '-') for x in r if x['status'] == 204))"; }
has_event() { events | tr ' ' '\n' | grep -qx "$1"; }
mport=$(free_port)
"$EARSHOT" record -i lo --filter "udp and host 127.0.0.1" --sip-port 5060 --sip-port 5099 \
  --rtp-timeout 2 --status-every 1 --metrics 127.0.0.1:$mport > rec.json 2> rec.log & rec=$!
pids+=($rec)
sleep 1.5
python3 "$SRC/tests/tools/sipcall.py" --seconds 1 --call-id "health$$"
for i in $(seq 50); do # the answered call is archived once its media stops
  curl -s "http://127.0.0.1:$mport/metrics" > rec.prom
  grep -qE '^earshot_recorder_calls_total\{interface="lo",outcome="archived"\} 1$' rec.prom && break
  sleep 0.2
done
check "the recorder's metrics pass promtool" promtool check metrics < rec.prom
check "they count the packets it read" grep -qE '^earshot_recorder_packets_total\{interface="lo"\} [1-9]' rec.prom
check "and the calls archived" grep -qE '^earshot_recorder_calls_total\{interface="lo",outcome="archived"\} 1$' rec.prom
check "a path other than /metrics is 404" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/")" = 404
es -q notify run --once
check "a healthy recorder raises nothing ($(events))" test -z "$(events)"

# 1. unparsable SIP at 600 a minute for 3 s: one alert, then cleared
python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 3
while time.time() < end:
    s.sendto(b'\x01\x02 not a SIP message at all', ('127.0.0.1', 5099))
    time.sleep(0.1)
PY
sleep 1.5 # the recorder's next report holds the whole burst
es -q notify run --once
es -q notify run --once
check "unparsable SIP fires capture.health once ($(events))" test "$(events)" = "unparsed:lo:firing"
check "the alert says how many" python3 -c "
import json; r=[json.loads(l) for l in open('hook.jsonl')]
d=r[0]['body']['data']; assert 'could not be parsed' in d['detail'] and d['since'].endswith('Z'), d"
sleep 6.5
es -q notify run --once
check "quiet for health_clear_after_minutes: cleared once ($(events))" test "$(events)" = "unparsed:lo:firing unparsed:lo:cleared"

# 2. a failed ingest: ingest.failed with the path and the reason, and an episode
head -c 4000 /dev/urandom > broken.wav
es -q ingest broken.wav 2> /dev/null || true
es -q notify run --once
check "ingest.failed names the file ($(events))" python3 -c "
import json; r=[json.loads(l)['body'] for l in open('hook.jsonl')]
f=[x['data'] for x in r if x['event'] == 'ingest.failed']
assert len(f) == 1 and f[0]['path'].endswith('broken.wav') and f[0]['reason'], f"
check "and ingest-failures fires" has_event ingest-failures:firing

# 3. the disk below its threshold (100 %: always)
printf 'health_disk_free_percent = 100\n' >> earshot.conf
es -q notify run --once
es -q notify run --once
check "the disk's free space fires once ($(events | tr ' ' '\n' | grep -c disk-low))" test "$(events | tr ' ' '\n' | grep -c 'disk-low:firing')" = 1

# 4. serve's /metrics: an API token, promtool-clean, with what was seen
source "$SRC/tests/tools/review-fixture-server.sh"
printf 'health pw 1\n' | es user add adm --role admin
start_server
pids+=($srv)
trap cleanup EXIT # start_server set its own: stop the receiver and the recorder too
base=http://127.0.0.1:$port
curl -s -c jar -o /dev/null -H 'Content-Type: application/json' -d '{"username":"adm","password":"health pw 1"}' "$base/api/v1/session"
csrf=$(curl -s -b jar "$base/api/v1/session" | python3 -c "import json,sys; print(json.load(sys.stdin)['csrf'])")
token=$(curl -s -b jar -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' -d '{"name":"prometheus"}' "$base/api/v1/tokens" | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])")
check "without a token: 401" test "$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")" = 401
check "a session cookie is not enough: 401" test "$(curl -s -b jar -o /dev/null -w '%{http_code}' "$base/metrics")" = 401
curl -s -H "Authorization: Bearer $token" "$base/metrics" > serve.prom
check "serve's metrics pass promtool" promtool check metrics < serve.prom
check "requests by route and code" grep -qE '^earshot_http_requests_total\{method="GET",route="/metrics",code="401"\} 2$' serve.prom
check "a latency histogram" grep -qE '^earshot_http_request_duration_seconds_bucket\{method="POST",route="/api/v1/session",le="\+Inf"\} [1-9]' serve.prom
check "the recorder's last counters" grep -qE '^earshot_recorder_packets_total\{interface="lo"\} [1-9]' serve.prom
check "the conditions firing" grep -q 'earshot_health_firing_since_seconds{condition="disk-low"}' serve.prom
check "the calls" grep -qE '^earshot_calls\{disposition="answered"\} 1$' serve.prom
check "the outbox" grep -qE '^earshot_notifications\{state="dead"\} 0$' serve.prom
check "no secret in the exposition" sh -c "! grep -q '$token' serve.prom"

# 5. the recorder stops: recorder-silent fires after health_recorder_silent_minutes
kill -TERM $rec; wait $rec 2>/dev/null || true
sleep 4
es -q notify run --once
check "a recorder that stopped reporting fires ($(events))" has_event recorder-silent:lo:firing
finish
