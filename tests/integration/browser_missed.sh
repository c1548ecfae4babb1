# The missed-calls page (/missed) in Debian's chromium (tests/browser/missed.mjs)
# and the roles and owners of /api/v1/missed: four customers missed on lines
# 100-103 (recorded from a capture), an operator of line 101 sees only that
# entry, claims keep two people from calling the same customer, closes need a
# note, and both are in the audit log.
source "$(dirname "$0")/lib.bash"
command -v chromium > /dev/null || { echo "SKIP: chromium is not installed (scripts/install-deps installs it)"; exit 77; }
[ -d "$SRC/tests/browser/node_modules/playwright-core" ] ||
  { echo "SKIP: playwright-core not installed (scripts/install-deps runs npm ci in tests/browser)"; exit 77; }
export TZ=UTC
# a webhook nobody answers, given up after 1 s: the admin page's dead letters
printf 'country_code = 49\nwebhook_url = http://127.0.0.1:1/hook\nwebhook_events = call.missed\nnotify_give_up = 1\nnotify_timeout = 1\n' > earshot.conf
export EARSHOT_CONFIG=$WORK/earshot.conf
python3 "$SRC/tests/tools/mkpcap.py" m.pcap --missed noanswer --calls 4 --stagger 60000 --seconds 2 \
  --start $(( $(date +%s) - 1800 )) > /dev/null
es -q record -r m.pcap
es -q notify run --once; sleep 1.2; es -q notify run --once
check "four dead letters for the admin page" test "$(es notify list --dead --json | wc -l)" = 4
printf 'missed pw 1\n' | es user add sup --role supervisor
printf 'missed pw 1\n' | es user add op101 --role operator --operator 101
printf 'missed pw 1\n' | es user add comp --role compliance
printf 'missed pw 1\n' | es user add adm --role admin
echo '{"password": "missed pw 1", "entries": 4, "dead": 4}' > fixture.json
source "$SRC/tests/tools/review-fixture-server.sh"
start_server
mkdir -p screenshots
timeout 240 node "$SRC/tests/browser/missed.mjs" "http://127.0.0.1:$port" fixture.json screenshots > browser.out 2>&1 || true
cat browser.out
check "browser tests: $(tail -n1 browser.out)" grep -q ' 0 failed$' browser.out
check "screenshot kept" test -s screenshots/missed.png

# the API's roles and owners, with curl
login() { curl -s -c "jar-$1" -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"username\":\"$1\",\"password\":\"missed pw 1\"}" "http://127.0.0.1:$port/api/v1/session"; }
csrf() { curl -s -b "jar-$1" "http://127.0.0.1:$port/api/v1/session" | python3 -c "import json,sys; print(json.load(sys.stdin)['csrf'])"; }
get() { curl -s -b "jar-$1" -o api.json -w '%{http_code}' "http://127.0.0.1:$port/api/v1$2"; }
post() { curl -s -b "jar-$1" -o api.json -w '%{http_code}' -H "X-CSRF-Token: $(csrf "$1")" \
  -H 'Content-Type: application/json' -d "${3:-{\}}" "http://127.0.0.1:$port/api/v1$2"; }
for u in sup op101 comp adm; do login $u; done
get op101 '/missed?status=open' > /dev/null
check "an operator sees the entries of their own line only ($(cat api.json))" python3 -c "
import json; e=json.load(open('api.json'))['entries']; assert [x['queue'] for x in e] == ['101'], e"
get sup '/missed?status=open' > /dev/null
other=$(python3 -c "import json; print([x['id'] for x in json.load(open('api.json'))['entries'] if x['queue'] == '103'][0])")
check "an operator cannot claim another line's entry (404, not 403: nothing to probe)" test "$(post op101 "/missed/$other/claim")" = 404
check "compliance reads but does not act (403)" test "$(post comp "/missed/$other/claim")" = 403
check "a close without a note is refused (400)" test "$(post sup "/missed/$other/close" '{}')" = 400
check "a close with a note (200)" test "$(post sup "/missed/$other/close" '{"note":"wrong number"}')" = 200
check "closing it again: 404" test "$(post sup "/missed/$other/close" '{"note":"again"}')" = 404
check "an unknown entry: 404" test "$(post sup "/missed/999999/claim")" = 404
check "a non-number id is no route (404)" test "$(post sup "/missed/01/claim")" = 404
check "the operator cannot read the report (403)" test "$(get op101 '/missed/report?from=2026-01-01&to=2026-12-31')" = 403
check "the notifications are for admins (403 for a supervisor)" test "$(get sup '/notifications')" = 403
check "admins see the notifications (200)" test "$(get adm '/notifications?state=dead')" = 200
check "a retry from the admin page was audited and queued the delivery again" bash -c "test \"\$(catq data \"SELECT count(*) FROM audit WHERE action = 'notification.retry'\")\" = 1 && test \"\$(catq data \"SELECT count(*) FROM deliveries WHERE state = 'pending'\")\" = 1"
check "the audit chain holds" es -q audit verify
check "claims and closes are audited" test "$(catq data "SELECT count(*) FROM audit WHERE action IN ('missed.claim', 'missed.close')")" -ge 2
finish
