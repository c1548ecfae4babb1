# Calibration through the JSON API and the CLI on a real recording: a lead
# picks a call and two reviewers; each scores blind (the API gives a reviewer
# nobody's answers, not even how many agree, before their own are in); then
# both see the answers side by side with the per-item agreement and
# Krippendorff's alpha; only the lead sets the reference; the report follows
# each reviewer's agreement with it; roles enforced; nothing reaches the
# evaluations; every step audited.
source "$(dirname "$0")/lib.bash"
mkdir in
sox "$SOUNDS/vm-options.wav" in/call.wav
printf '{"operator": "101", "caller": "+4930555000", "callee": "101"}' > in/call.wav.json
es -q ingest in > /dev/null
es rubric import "$SRC/scripts-rubric/examples/inbound-order.yaml" > /dev/null
call=$(es ls --json | sed -E 's/.*"id":"([^"]+)".*/\1/' | head -n1)
for u in lead rev1 rev2 other; do printf 'calibrate pw 1\n' | es user add "$u" --role supervisor; done
printf 'operator pw 101\n' | es user add op101 --role operator --operator 101
source "$SRC/tests/tools/review-fixture-server.sh"
start_server
base=http://127.0.0.1:$port/api/v1
login() { # user password
  curl -s -c "jar-$1" -o /dev/null -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}" "$base/session"
  curl -s -b "jar-$1" "$base/session" | python3 -c "import json,sys; print(json.load(sys.stdin)['csrf'])" > "csrf-$1"
}
post() { # user path body -> status; body in out.json
  curl -s -o out.json -w '%{http_code}' -b "jar-$1" -H "X-CSRF-Token: $(cat "csrf-$1")" -H 'Content-Type: application/json' -d "$3" "$base$2"
}
get() { curl -s -o out.json -w '%{http_code}' -b "jar-$1" "$base$2"; }
for u in lead rev1 rev2 other; do login "$u" 'calibrate pw 1'; done
login op101 'operator pw 101'
A1='{"greeting":"yes","customer-type":"yes","needs-questions":5,"price-correct":"no","specs-correct":"yes","stock-delivery":"yes","read-back":"yes","no-rudeness":"yes","polite-close":"yes"}'
A2='{"greeting":"yes","customer-type":"no","needs-questions":4,"price-correct":"no","specs-correct":"yes","stock-delivery":"yes","read-back":"no","no-rudeness":"yes","polite-close":"yes"}'

check "an operator cannot create one (403)" test "$(post op101 /calibrations "{\"call_id\":\"$call\",\"rubric\":\"inbound-order\",\"reviewers\":[\"rev1\",\"rev2\"]}")" = 403
check "one reviewer is not a calibration (400)" test "$(post lead /calibrations "{\"call_id\":\"$call\",\"rubric\":\"inbound-order\",\"reviewers\":[\"rev1\"]}")" = 400
check "the lead creates one (201)" test "$(post lead /calibrations "{\"call_id\":\"$call\",\"rubric\":\"inbound-order\",\"reviewers\":[\"rev1\",\"rev2\"]}")" = 201
id=$(python3 -c "import json; print(json.load(open('out.json'))['id'])")
check "rev1 submits" test "$(post rev1 "/calibrations/$id/answers" "{\"answers\":$A1}")" = 200
check "blind: rev2 gets nobody's answers and no agreement" sh -c "test \"\$(curl -s -o blind.json -w '%{http_code}' -b jar-rev2 '$base/calibrations/$id')\" = 200 && python3 -c \"
import json; o = json.load(open('blind.json'))
assert o['blind'] is True and 'agreement' not in o and 'reference' not in o, o
assert all('answers' not in r for r in o['reviewers']), o
assert [r['submitted'] for r in o['reviewers']] == [True, False], o\""
check "blind in the list too" sh -c "curl -s -b jar-rev2 '$base/calibrations' | python3 -c \"import json,sys; o=json.load(sys.stdin); assert 'price-correct' not in json.dumps(o), o\""
check "someone not in it gets a 404" test "$(get other "/calibrations/$id")" = 404
check "an operator gets a 403" test "$(get op101 "/calibrations/$id")" = 403
check "bad answers: 400 naming the item" sh -c "test \"\$(curl -s -o bad.json -w '%{http_code}' -b jar-rev2 -H \"X-CSRF-Token: \$(cat csrf-rev2)\" -H 'Content-Type: application/json' -d '{\"answers\":{\"greeting\":\"maybe\"}}' '$base/calibrations/$id/answers')\" = 400 && grep -q greeting bad.json"
check "rev2 submits" test "$(post rev2 "/calibrations/$id/answers" "{\"answers\":$A2}")" = 200
check "once only (409)" test "$(post rev2 "/calibrations/$id/answers" "{\"answers\":$A2}")" = 409
get rev1 "/calibrations/$id" > /dev/null
check "side by side, with the agreement and alpha" python3 - <<'PY'
import json
o = json.load(open('out.json'))
assert o['blind'] is False and all('answers' in r for r in o['reviewers']), o
per = o['agreement']['per_item']
assert per['greeting'] == 1.0 and per['customer-type'] == 0.5 and per['price-correct'] == 1.0, per
a = o['agreement']['alpha']
assert a is not None and -1 <= a < 1, a
PY
alpha_api=$(python3 -c "import json; print(json.load(open('out.json'))['agreement']['alpha'])")
check "only the lead sets the reference (409 for a reviewer)" test "$(post rev1 "/calibrations/$id/reference" "{\"answers\":$A1}")" = 409
check "the lead sets it" test "$(post lead "/calibrations/$id/reference" "{\"answers\":$A1}")" = 200
get lead "/calibrations/report" > /dev/null
check "the report: rev1 agrees with the reference fully, rev2 on 6 of 9" python3 - <<'PY'
import json
o = json.load(open('out.json'))
assert o['rev1'][0]['agreement'] == 1.0, o
assert abs(o['rev2'][0]['agreement'] - 6 / 9) < 1e-9, o
PY
check "the CLI shows the same alpha" python3 -c "
import json, subprocess
o = json.loads(subprocess.run(['$EARSHOT', 'calibrate', 'show', '$id', '--json'], capture_output=True, check=True).stdout)
assert abs(o['agreement']['alpha'] - $alpha_api) < 1e-12, o"
check "nothing reaches the evaluations" test "$(es eval list --json | wc -l)" = 0
check "create, submits and reference audited" python3 - "$id" <<'PY'
import os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
rows = catalog.connect("data").execute(
    "SELECT actor, action FROM audit WHERE target = ? AND action LIKE 'calibration.%' ORDER BY id", (sys.argv[1],)).fetchall()
assert rows == [('lead', 'calibration.create'), ('rev1', 'calibration.submit'), ('rev2', 'calibration.submit'),
                ('lead', 'calibration.reference')], rows
PY
# the CLI on its own
cid=$(es calibrate create --call "$call" --reviewers rev1,rev2)   # the only rubric; lead: cli
echo "$A1" > a1.json
es calibrate submit "$cid" --reviewer rev1 a1.json > /dev/null
check "CLI: blind as rev2" sh -c "'$EARSHOT' calibrate show $cid --as rev2 --json | python3 -c \"import json,sys; o=json.load(sys.stdin); assert o['blind'] and all('answers' not in r for r in o['reviewers']), o\""
set +e; "$EARSHOT" calibrate submit "$cid" --reviewer nobody a1.json 2> nobody.err; rc=$?; set -e
check "CLI: a stranger's answers refused in one line ($rc)" sh -c "test $rc = 1 && grep -q 'is not a reviewer' nobody.err"
check "CLI: the default lead is cli" sh -c "'$EARSHOT' calibrate show $cid --json | grep -q '\"lead\":\"cli\"'"
finish
