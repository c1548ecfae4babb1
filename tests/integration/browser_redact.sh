# PCI pauses and redaction on the call page in Debian's chromium
# (tests/browser/redact.mjs): a call the operator paused with DTMF *7 ... *8
# (recorded from a generated capture) shows the pause listed and hatched; a
# supervisor drags a range of a real recording, gives a reason, and it comes
# back silent, hatched and listed; an operator's drag offers nothing.
source "$(dirname "$0")/lib.bash"
command -v chromium > /dev/null || { echo "SKIP: chromium is not installed (scripts/install-deps installs it)"; exit 77; }
[ -d "$SRC/tests/browser/node_modules/playwright-core" ] ||
  { echo "SKIP: playwright-core not installed (scripts/install-deps runs npm ci in tests/browser)"; exit 77; }
export TZ=UTC
# digits at 1.0 s, 1.5 s, ...: * 7 pauses at 1.5 s, 1 2 dropped, * 8 resumes at 3.5 s
python3 "$SRC/tests/tools/mkpcap.py" p.pcap --seconds 6 --dtmf '*712*8' --dtmf-side 1 > /dev/null
es -q record -r p.pcap --operators 100-199 --pci-pause-dtmf '*7' --pci-resume-dtmf '*8'
paused=$(es ls --json | sed -E 's/.*"id":"([^"]+)".*/\1/' | head -n1)
pause=$(es show "$paused" --json | python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)['pci_pauses'][0]))")
mkdir in
sox "$SOUNDS/vm-options.wav" rev.wav reverse
sox -M "$SOUNDS/vm-options.wav" rev.wav in/plain.wav
printf '{"operator": "100", "caller": "+4930555000", "callee": "100"}' > in/plain.wav.json
es -q ingest in > /dev/null
plain=$(es ls --json | grep -F in/plain.wav | sed -E 's/.*"id":"([^"]+)".*/\1/')
printf 'redact pw 12\n' | es user add sup --role supervisor
printf 'redact pw 12\n' | es user add 100 --role operator --operator 100
printf '{"password": "redact pw 12", "paused": "%s", "plain": "%s", "pause": %s}\n' "$paused" "$plain" "$pause" > fixture.json
source "$SRC/tests/tools/review-fixture-server.sh"
start_server
mkdir -p screenshots
timeout 240 node "$SRC/tests/browser/redact.mjs" "http://127.0.0.1:$port" fixture.json screenshots > browser.out 2>&1 || true
cat browser.out
check "browser tests: $(tail -n1 browser.out)" grep -q ' 0 failed$' browser.out
check "the redaction is audited under the supervisor" test "$(catq data "SELECT actor FROM audit WHERE action = 'recording.redact'")" = sup
check "verify stays green" es -q verify
finish
