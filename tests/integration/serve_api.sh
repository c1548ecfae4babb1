# The JSON API of `earshot serve` on loopback, driven by tests/api/api-test.mjs
# (Node's fetch): sessions, CSRF, roles and owners, filters, pagination, audio
# ranges, malformed requests, throttling; then SIGTERM ends the server cleanly.
source "$(dirname "$0")/lib.bash"
command -v node > /dev/null || { echo "SKIP: node is not installed (scripts/install-deps installs it)"; exit 77; }
"$SRC/tests/tools/make-calls" --days 2 --per-day 8 --seed 21 --out in 2>/dev/null
es ingest in > /dev/null
es rubric import "$SRC/scripts-rubric/examples/inbound-order.yaml" > /dev/null
printf 'supervisor pw 1\n' | es user add sup --role supervisor
printf 'operator pw 102\n' | es user add op102 --role operator --operator 102
printf 'compliance pw 1\n' | es user add comp --role compliance
printf 'compliance pw 2\n' | es user add comp2 --role compliance
printf 'throttled pw 1\n' | es user add victim --role supervisor
es ls --json > calls.jsonl

# evaluate three of operator 102's calls and two of 103's; two with a wrong price
python3 - "$EARSHOT" <<'PY' > fixture.json
import json, subprocess, sys, tempfile
es = sys.argv[1]
calls = [json.loads(l) for l in open('calls.jsonl')]
ans = {"greeting": "yes", "customer-type": "yes", "needs-questions": 5, "price-correct": "yes",
       "specs-correct": "yes", "stock-delivery": "yes", "read-back": "yes", "no-rudeness": "yes",
       "polite-close": "yes", "b2b-terms": "yes"}
evaluated, wrong = [], 0
for op, n in (("102", 3), ("103", 2)):
    mine = [c for c in calls if c["operator"] == op and c["disposition"] == "answered"][:n]
    for i, c in enumerate(mine):
        a = dict(ans)
        if i < 1:
            a["price-correct"] = "no"; wrong += 1
        if "b2b" not in c["tags"]:
            del a["b2b-terms"]
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(a, f); f.flush()
            subprocess.run([es, "eval", "add", c["id"], "--rubric", "inbound-order",
                            "--reviewer", "sup", f.name], check=True, capture_output=True)
        evaluated.append(c["id"])
own = [c for c in calls if c["operator"] == "102" and c["path"]]
other = [c for c in calls if c["operator"] == "103"]
missed = [c for c in calls if c["disposition"] == "missed"]
print(json.dumps({
    "users": {"supervisor": {"name": "sup", "password": "supervisor pw 1"},
              "operator": {"name": "op102", "password": "operator pw 102", "operator": "102"},
              "compliance": {"name": "comp", "password": "compliance pw 1"},
              "compliance2": {"name": "comp2", "password": "compliance pw 2"},
              "throttled": {"name": "victim", "password": "throttled pw 1"}},
    "calls": [{"id": c["id"], "operator": c["operator"], "caller": c["caller"]} for c in calls],
    "evaluated": evaluated, "wrong_price": wrong, "operator": "102", "other_operator": "103",
    "own_call": own[0]["id"], "other_call": other[0]["id"],
    "missed_call": missed[0]["id"] if missed else None}))
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$EARSHOT" serve --listen "127.0.0.1:$port" > serve.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done
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
kill -TERM $srv
for _ in $(seq 1 50); do kill -0 $srv 2>/dev/null || break; sleep 0.1; done
check "SIGTERM ends the server" bash -c "! kill -0 $srv 2>/dev/null"
set +e; wait $srv; rc=$?; set -e
check "clean exit status ($rc)" test "$rc" = 0
check "the audit log is intact" es audit verify
check "logins were audited" bash -c "sqlite3 data/catalog.db \"SELECT count(*) FROM audit WHERE action = 'login.failed'\" | grep -qv '^0$'"
check "no session token in the log" bash -c "! grep -qE '[0-9a-f]{64}' serve.log"
finish
