# Per-item disputes on /feedback in Debian's chromium (tests/browser/coaching.mjs):
# the operator disputes one item, the supervisor changes its answer and the
# score follows; roles enforced; dispute_days turns an old submitted evaluation
# into "acknowledged (deadline)"; every step audited with the items it names;
# /progress for the operator (no one else's name) and a goal a supervisor sets.
source "$(dirname "$0")/lib.bash"
command -v chromium > /dev/null || { echo "SKIP: chromium is not installed (scripts/install-deps installs it)"; exit 77; }
[ -d "$SRC/tests/browser/node_modules/playwright-core" ] ||
  { echo "SKIP: playwright-core not installed (scripts/install-deps runs npm ci in tests/browser)"; exit 77; }
source "$SRC/tests/tools/review-fixture.sh"
printf 'dispute_days = 2\n' > earshot.conf
export EARSHOT_CONFIG=$WORK/earshot.conf
# operator 102's evaluation with the wrong price, and another of theirs submitted three days ago
read -r wrong late other < <(python3 - <<'PY'
import os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
db = catalog.connect("data")
rows = db.execute("SELECT id, answers FROM evaluations WHERE operator = '102' ORDER BY n").fetchall()
wrong = [i for i, a in rows if '"price-correct":"no"' in a][0]
late = [i for i, a in rows if i != wrong][0]
other = db.execute("SELECT id FROM evaluations WHERE operator = '103' ORDER BY n").fetchone()[0]
db.execute("UPDATE evaluations SET submitted_at = submitted_at - 3 * 86400000 WHERE id = ?", (late,))
db.commit()
print(wrong, late, other)
PY
)
python3 - "$wrong" "$late" "$other" <<'PY' > coaching.json
import json, sys
f = json.load(open('fixture.json'))
print(json.dumps({"wrong": sys.argv[1], "late": sys.argv[2], "other": sys.argv[3],
                  "operator": f["users"]["operator"], "supervisor": f["users"]["supervisor"],
                  "other_operator": f["other_operator"]}))
PY
start_server
mkdir -p screenshots
timeout 240 node "$SRC/tests/browser/coaching.mjs" "http://127.0.0.1:$port" coaching.json screenshots > browser.out 2>&1 || true
cat browser.out
check "browser tests: $(tail -n1 browser.out)" grep -q ' 0 failed$' browser.out
check "the dispute and the resolution are audited with their items" python3 - "$wrong" "$late" <<'PY'
import json, os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
rows = catalog.connect("data").execute(
    "SELECT actor, action, detail FROM audit WHERE target = ? AND action LIKE 'evaluation.%' ORDER BY id", (sys.argv[1],)).fetchall()
acts = [(a, b) for a, b, _ in rows]
assert ('op102', 'evaluation.dispute') in acts and ('sup', 'evaluation.resolve') in acts, rows
assert all(json.loads(d)['items'] == ['price-correct'] for a, b, d in rows if b in ('evaluation.dispute', 'evaluation.resolve')), rows
late = catalog.connect("data").execute(
    "SELECT actor FROM audit WHERE target = ? AND action = 'evaluation.acknowledge'", (sys.argv[2],)).fetchall()
assert late == [('deadline',)], late
PY
check "the goal is audited without its note" python3 - <<'PY'
import json, os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
rows = catalog.connect("data").execute("SELECT actor, target, detail FROM audit WHERE action = 'coaching.goal'").fetchall()
assert len(rows) == 1 and rows[0][0] == 'sup' and rows[0][1] == '102', rows
d = json.loads(rows[0][2])
assert d['error_tag'] == 'wrong-price' and 'note' not in d, d
PY
check "the history holds each step" sh -c "'$EARSHOT' eval show $wrong --history --json | python3 -c \"import json,sys; h=[x['action'] for x in json.load(sys.stdin)['history']]; assert h[-4:] == ['item disputed', 'edited', 'item resolved', 'resolved'], h\""
finish
