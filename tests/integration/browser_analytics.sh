# The analytics pages (/analytics, /presence, /staffing) in Debian's chromium
# (tests/browser/analytics.mjs) on a generated week of queue_log, and the
# roles of their API routes.
source "$(dirname "$0")/lib.bash"
command -v chromium > /dev/null || { echo "SKIP: chromium is not installed (scripts/install-deps installs it)"; exit 77; }
[ -d "$SRC/tests/browser/node_modules/playwright-core" ] ||
  { echo "SKIP: playwright-core not installed (scripts/install-deps runs npm ci in tests/browser)"; exit 77; }
export TZ=UTC
python3 "$SRC/tests/tools/mkqueuelog.py" queue_log --days 7 --calls-per-day 120 --seed 3 --truth truth.json
es -q pbx import queue_log > /dev/null
printf 'analytics pw 1\n' | es user add sup --role supervisor
printf 'analytics pw 1\n' | es user add op101 --role operator --operator 101
python3 - truth.json > fixture.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
print(json.dumps({'from': '2026-11-30', 'to': '2026-12-06', 'offered': t['offered'], 'answered': t['answered'],
                  'missed': t['missed'], 'reasons': len(t['missed_reasons']), 'password': 'analytics pw 1'}))
PY
source "$SRC/tests/tools/review-fixture-server.sh"
start_server
mkdir -p screenshots
timeout 240 node "$SRC/tests/browser/analytics.mjs" "http://127.0.0.1:$port" fixture.json screenshots > browser.out 2>&1 || true
cat browser.out
check "browser tests: $(tail -n1 browser.out)" grep -q ' 0 failed$' browser.out
check "screenshots kept" test -s screenshots/presence.png

# the API's roles, with curl
api() { # user path -> status and body in api.json
  curl -s -c "jar-$1" -b "jar-$1" -o api.json -w '%{http_code}' "http://127.0.0.1:$port/api/v1$2"; }
login() { curl -s -c "jar-$1" -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"username\":\"$1\",\"password\":\"analytics pw 1\"}" "http://127.0.0.1:$port/api/v1/session"; }
login sup; login op101
check "operator: the call report is 403" test "$(api op101 '/analytics/calls?from=2026-11-30&to=2026-12-06')" = 403
st=$(api op101 '/analytics/presence?from=2026-11-30&to=2026-12-06&operator=102')
check "operator: presence is their own whatever they ask ($st)" python3 -c "
import json; r = json.load(open('api.json'))['operators']; assert [x['operator'] for x in r] == ['101'], r"
check "a bad window: 400 naming it" sh -c "test \"\$(curl -s -b jar-sup -o api.json -w '%{http_code}' 'http://127.0.0.1:$port/api/v1/analytics/calls?from=yesterday&to=2026-12-06')\" = 400 && grep -q from api.json"
st=$(api sup '/analytics/calls?from=2026-11-30&to=2026-12-06&by=weekday-hour')
check "supervisor: the API's summary equals the CLI's" python3 - <<PY
import json, subprocess
api = json.load(open('api.json'))['summary']
cli = json.loads(subprocess.run(['$EARSHOT', '--data', 'data', 'report', 'calls', '--from', '2026-11-30', '--to', '2026-12-06', '--json'],
                                capture_output=True, text=True, check=True).stdout.splitlines()[0])
assert api == cli, (api, cli)
PY
st=$(api sup '/analytics/erlang?calls=100&period_s=1800&aht_s=180&target_s=20&service_level=0.8')
check "the API's Erlang: 14 agents ($(cat api.json))" grep -q '"agents":14' api.json
finish
