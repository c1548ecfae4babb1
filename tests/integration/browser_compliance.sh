# The compliance page (/compliance) in Debian's chromium (tests/browser/
# compliance.mjs): a search by number lists the calls in any spelling, export
# downloads a ZIP, erase previews then erases (a held call stays); and the
# API's roles: only compliance staff and admins reach a data subject.
source "$(dirname "$0")/lib.bash"
command -v chromium > /dev/null || { echo "SKIP: chromium is not installed (scripts/install-deps installs it)"; exit 77; }
[ -d "$SRC/tests/browser/node_modules/playwright-core" ] ||
  { echo "SKIP: playwright-core not installed (scripts/install-deps runs npm ci in tests/browser)"; exit 77; }
export TZ=UTC
printf 'country_code = 49\n' > earshot.conf
export EARSHOT_CONFIG=$WORK/earshot.conf
mkdir in
now=$(date +%s)
n=0
call() { # name caller
  n=$((n + 1))
  sox "$SOUNDS/vm-options.wav" "in/$1.wav" gain "-$n"
  printf '{"started_at": %d, "operator": "101", "caller": "%s", "callee": "101"}' $((now - 86400 * n)) "$2" > "in/$1.wav.json"
}
call a "030 5551234"
call b "+49 30 555 1234"
call held "+49305551234"
call other "+49309990000"
es -q ingest in > /dev/null
es hold "$(es ls --json | grep -F in/held.wav | sed -E 's/.*"id":"([^"]+)".*/\1/')" 2> /dev/null
printf 'subject pw 1\n' | es user add comp --role compliance
printf 'subject pw 1\n' | es user add sup --role supervisor
echo '{"password": "subject pw 1", "number": "030 555-1234", "calls": 3}' > fixture.json
source "$SRC/tests/tools/review-fixture-server.sh"
start_server
mkdir -p screenshots
timeout 240 node "$SRC/tests/browser/compliance.mjs" "http://127.0.0.1:$port" fixture.json screenshots > browser.out 2>&1 || true
cat browser.out
check "browser tests: $(tail -n1 browser.out)" grep -q ' 0 failed$' browser.out
check "the page's export: a ZIP with every call, their recordings (plain Ogg Opus) and a README" python3 - screenshots/export.zip <<'PY'
import io, json, subprocess, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = z.namelist()
calls = json.loads(z.read('calls.json'))
assert len(calls) == 3 and all('source_ref' in c for c in calls), len(calls)
opus = [n for n in names if n.endswith('.opus')]
assert len(opus) == 3, names
for n in opus:
    d = z.read(n)
    assert d[:4] == b'OggS', n
    p = subprocess.run(['ffprobe', '-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-'],
                       input=d, capture_output=True)
    assert p.stdout.strip() == b'opus', (n, p.stderr)
assert 'README.txt' in names and 'evaluations.json' in names and 'unreturned.json' in names, names
assert b'3 calls where the number' in z.read('README.txt')
PY
check "two recordings erased, the held one and the other caller's kept" test "$(find data/archive -name '*.opus' | wc -l)" = 2
login() { curl -s -c "jar-$1" -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"username\":\"$1\",\"password\":\"subject pw 1\"}" "http://127.0.0.1:$port/api/v1/session"; }
login sup
check "a supervisor cannot reach a data subject (403)" test "$(curl -s -b jar-sup -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/subject?number=%2B49305551234")" = 403
check "the page sends a supervisor home" sh -c "curl -s -b jar-sup -o /dev/null -w '%{redirect_url}' http://127.0.0.1:$port/compliance | grep -q '/calls$'"
check "logged out, the page asks for a login" sh -c "curl -s -o /dev/null -w '%{redirect_url}' http://127.0.0.1:$port/compliance | grep -q /login"
check "find, export, the erase preview (a look) and erase are audited by the user, under a pseudonym" test "$(catq data "SELECT group_concat(actor || ':' || action, ' ') FROM (SELECT actor, action FROM audit WHERE action LIKE 'subject.%' ORDER BY id) x")" = "comp:subject.find comp:subject.export comp:subject.find comp:subject.erase comp:subject.find"
check "the audit chain holds" es -q audit verify
finish
