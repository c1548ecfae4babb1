# The calibration page in Debian's chromium (tests/browser/calibration.mjs):
# a lead starts a session on a real recording, two reviewers score blind, the
# table, agreement and alpha show once each has answered, the lead sets the
# reference; the API agrees with what the page showed.
source "$(dirname "$0")/lib.bash"
command -v chromium > /dev/null || { echo "SKIP: chromium is not installed (scripts/install-deps installs it)"; exit 77; }
[ -d "$SRC/tests/browser/node_modules/playwright-core" ] ||
  { echo "SKIP: playwright-core not installed (scripts/install-deps runs npm ci in tests/browser)"; exit 77; }
mkdir in
sox "$SOUNDS/vm-options.wav" in/call.wav
printf '{"operator": "101", "caller": "+4930555000", "callee": "101"}' > in/call.wav.json
es -q ingest in > /dev/null
es rubric import "$SRC/scripts-rubric/examples/inbound-order.yaml" > /dev/null
call=$(es ls --json | sed -E 's/.*"id":"([^"]+)".*/\1/' | head -n1)
for u in lead rev1 rev2; do printf 'calibrate pw 1\n' | es user add "$u" --role supervisor; done
printf '{"password": "calibrate pw 1", "call": "%s"}\n' "$call" > fixture.json
source "$SRC/tests/tools/review-fixture-server.sh"
start_server
mkdir -p screenshots
timeout 240 node "$SRC/tests/browser/calibration.mjs" "http://127.0.0.1:$port" fixture.json screenshots > browser.out 2>&1 || true
cat browser.out
check "browser tests: $(tail -n1 browser.out)" grep -q ' 0 failed$' browser.out
id=$(catq data "SELECT id FROM calibration_sessions")
check "the session: two answers, a reference, price-correct split" sh -c "'$EARSHOT' calibrate show $id --json | python3 -c \"
import json, sys; o = json.load(sys.stdin)
assert all(r['submitted'] for r in o['reviewers']) and o['reference'], o
assert o['agreement']['per_item']['price-correct'] == 0.5, o\""
finish
