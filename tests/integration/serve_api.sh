# The JSON API of `earshot serve` on loopback, driven by tests/api/api-test.mjs
# (Node's fetch): sessions, CSRF, roles and owners, filters, pagination, audio
# ranges, malformed requests, throttling; then SIGTERM ends the server cleanly.
source "$(dirname "$0")/lib.bash"
command -v node > /dev/null || { echo "SKIP: node is not installed (scripts/install-deps installs it)"; exit 77; }
source "$SRC/tests/tools/review-fixture.sh"
start_server --max-upload 1   # 1 MB: a chunked push past it is refused as it streams
timeout 120 node "$SRC/tests/api/api-test.mjs" "http://127.0.0.1:$port" fixture.json > api.out 2>&1 || true
cat api.out
check "API tests: $(tail -n1 api.out)" grep -q ' 0 failed$' api.out
# the XLSX export opens as a workbook: one row per call plus the header, typed cells
check "XLSX export parses with the right rows" python3 - fixture.json.xlsx "$(wc -l < calls.jsonl)" <<'PY'
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
sheet = z.read("xl/worksheets/sheet1.xml").decode()
rows = re.findall(r"<row ", sheet)
assert len(rows) == int(sys.argv[2]) + 1, (len(rows), sys.argv[2])
assert 'call_id' in sheet  # constant-memory mode writes strings inline
assert re.search(r'<c r="B2" s="\d+"><v>\d+\.\d+</v></c>', sheet), "start time is a date number"
assert re.search(r'<c r="C2"[^>]*><v>[\d.]+</v>', sheet), "duration is a number"
PY
check "no partial upload left in the spool" test "$(find data/spool -name 'upload-*' 2>/dev/null | wc -l)" = 0
kill -TERM $srv
for _ in $(seq 1 50); do kill -0 $srv 2>/dev/null || break; sleep 0.1; done
check "SIGTERM ends the server" bash -c "! kill -0 $srv 2>/dev/null"
set +e; wait $srv; rc=$?; set -e
check "clean exit status ($rc)" test "$rc" = 0
check "the audit log is intact" es audit verify
check "the submitted and the disputed evaluations went to the notification outbox with their step" python3 - <<'PY'
import json, os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
db = catalog.connect("data")
rows = [json.loads(b) for (b,) in db.execute("SELECT body FROM outbox WHERE event LIKE 'evaluation.%'")]
subs = [r for r in rows if r['event'] == 'evaluation.submitted']
disp = [r for r in rows if r['event'] == 'evaluation.disputed']
steps = dict(db.execute("SELECT action, count(*) FROM audit WHERE action IN ('evaluation.submit', 'evaluation.dispute') GROUP BY action"))
# through the server (the fixture's own, made with the CLI, are not): created as
# submitted (not a draft), or submitted later
submitted = db.execute("SELECT count(*) FROM evaluations WHERE submitted_at IS NOT NULL AND id IN"
                       " (SELECT target FROM audit WHERE action IN ('evaluation.create', 'evaluation.submit'))").fetchone()[0]
assert len(subs) == submitted and len(disp) == steps.get('evaluation.dispute'), (len(subs), submitted, len(disp), steps)
assert all(r['data']['operator'] and r['data']['call_id'] and r['data']['by'] for r in rows), rows[:1]
assert any('price list' in r['data'].get('reason', '') for r in disp), disp
PY
check "logins were audited" bash -c "catq data \"SELECT count(*) FROM audit WHERE action = 'login.failed'\" | grep -qv '^0$'"
check "no session token in the log" bash -c "! grep -qE '[0-9a-f]{64}' serve.log"
finish
