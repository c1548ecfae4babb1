# The rubric, eval and report commands on the real binary: the example
# rubrics check clean, a broken one is reported line by line, scoring matches
# the rules, versions stay immutable, and reports count what was evaluated
# on calls ingested from generated PBX recordings.
source "$(dirname "$0")/lib.bash"
EX=$SRC/scripts-rubric/examples
ORDER=$EX/inbound-order.yaml

# ---- check
es rubric check "$EX"/*.yaml > check.out 2>&1
check "examples check clean and silently: $(cat check.out)" test ! -s check.out
es rubric check --verbose "$ORDER" > verbose.out
check "--verbose summary" grep -q "inbound-order.yaml: ok: rubric inbound-order" verbose.out
cat > bad.yaml <<'YAML'
id: order
title: Order
pass_score: 180
sections:
  - id: s
    title: S
    items:
      - id: a
        text: A
        type: yes_no
        wieght: 2
      - id: a
        text: again
        type: scale
        scale: {min: 3, max: 1}
YAML
set +e; es rubric check bad.yaml "$ORDER" > bad.out 2>&1; rc=$?; set -e
check "a bad file exits 1 (rc=$rc)" test "$rc" = 1
check "pass_score at 3:13" grep -qx "bad.yaml:3:13: pass_score 180 is out of range 0-100" bad.out
check "unknown key at 11:9" grep -qx "bad.yaml:11:9: unknown key 'wieght' in item (did you mean 'weight'?)" bad.out
check "duplicate id at 12:13" grep -qx "bad.yaml:12:13: duplicate item id 'a' (first at line 8)" bad.out
check "scale bounds at 15:22" grep -qx "bad.yaml:15:22: scale min 3 must be less than max 1" bad.out
check "exactly four problems: $(cat bad.out)" test "$(wc -l < bad.out)" = 4

# ---- score: the numbers of docs/rubrics.md's worked example
cat > answers.json <<'JSON'
{"greeting": "yes", "customer-type": "no", "needs-questions": 4, "price-correct": "yes",
 "specs-correct": "na", "stock-delivery": "yes", "read-back": "yes", "no-rudeness": "yes",
 "polite-close": "yes"}
JSON
es rubric score "$ORDER" answers.json > score.json
check "score 90.0, passed: $(cat score.json)" grep -q '^{"score":90.0,"passed":true,"critical_failed":false,' score.json
check "section scores" grep -q '"sections":\[{"id":"opening","score":50.0},{"id":"needs","score":75.0}' score.json
check "error tags" grep -q '"errors":\["no-b2b-b2c-check"\]}$' score.json
sed 's/"no-rudeness": "yes"/"no-rudeness": "no"/' answers.json > rude.json
es rubric score "$ORDER" rude.json > rude.out
check "critical failure: $(cat rude.out)" grep -q '^{"score":0.0,"passed":false,"critical_failed":true,' rude.out
sed 's/"polite-close": "yes"//; s/"no-rudeness": "yes",/"no-rudeness": "yes"/' answers.json > missing.json
set +e; es rubric score "$ORDER" missing.json > /dev/null 2> missing.err; rc=$?; set -e
check "unanswered item refused by name (rc=$rc): $(cat missing.err)" grep -q "item 'polite-close' is not answered" missing.err
set +e; es rubric score --tags b2b "$ORDER" answers.json > /dev/null 2> b2b.err; set -e
check "b2b call needs the b2b item" grep -q "'b2b-terms' is not answered" b2b.err

# ---- calls to evaluate: generated PBX recordings with operators in sidecars
"$SRC/tests/tools/make-calls" --days 2 --per-day 6 --seed 11 --out in 2>/dev/null
es ingest in > /dev/null
es ls --json > calls.jsonl
ncalls=$(wc -l < calls.jsonl)
check "calls ingested ($ncalls)" test "$ncalls" -ge 10
ids=($(sed -E 's/.*"id":"([^"]+)".*/\1/' calls.jsonl))
ops=($(sed -E 's/.*"operator":"([^"]*)".*/\1/' calls.jsonl))

# ---- import and versions
es rubric import "$EX"/*.yaml > import.out
check "three rubrics imported as version 1" test "$(grep -c 'imported as version 1' import.out)" = 3
es rubric import "$ORDER" > again.out
check "re-import unchanged" grep -q "unchanged: still version 1" again.out
es rubric list --json > list.jsonl
check "list shows three" test "$(grep -c '"version":1' list.jsonl)" = 3
es rubric export inbound-order > exported.yaml
check "export is the imported file byte for byte" cmp -s exported.yaml "$ORDER"

# ---- evaluations
ev1=$(es eval add "${ids[0]}" --rubric inbound-order --reviewer sue answers.json)
check "eval add prints the id ($ev1)" grep -qE '^[0-9a-f-]{36}$' <<< "$ev1"
es eval show "$ev1" --json > ev1.json
check "stored score and version" grep -q '"score":90.0' ev1.json
check "status submitted" grep -q '"status":"submitted"' ev1.json
sed 's/pass_score: 80/pass_score: 85/' "$ORDER" > order-v2.yaml
es rubric import order-v2.yaml > v2.out
check "changed rubric becomes version 2" grep -q "imported as version 2" v2.out
es rubric show inbound-order --version 1 --json > v1.json
check "version 1 keeps pass_score 80" grep -q '"pass_score":80.0' v1.json
es eval show "$ev1" --json > ev1b.json
check "evaluation keeps version 1" grep -q '"rubric_version":1' ev1b.json

# wrong price on two calls: the first acknowledged, the second a draft until submitted
sed 's/"price-correct": "yes"/"price-correct": "no"/' answers.json > wrong-price.json
e_first=$(es eval add "${ids[1]}" --rubric inbound-order --reviewer sue wrong-price.json)
set +e; es eval dispute "$e_first" --by "${ops[1]:-op}" 2> noreason.err; rc=$?; set -e
check "dispute without a reason refused (rc=$rc)" test "$rc" = 1
es eval ack "$e_first" --by "${ops[1]:-op}"
set +e; es eval dispute "$e_first" --by x --reason late 2> illegal.err; rc=$?; set -e
check "acknowledged cannot be disputed: $(cat illegal.err)" grep -q "is acknowledged; it cannot become disputed" illegal.err
e_draft=$(es eval add "${ids[2]}" --rubric inbound-order --reviewer sue --draft wrong-price.json)
es eval list --status draft --json > drafts.jsonl
check "one draft" test "$(wc -l < drafts.jsonl)" = 1
es eval comment "$e_draft" --by sue --item price-correct --at 20500 "quoted 19.90, list says 21.90"
set +e; es eval comment "$e_draft" --by sue --at 3600000 "after the end" 2> late.err; rc=$?; set -e
check "comment past the end refused: $(cat late.err)" grep -q "outside the call" late.err
es eval submit "$e_draft" --by sue
es eval show "$e_draft" --json --history > draft.json
check "pinned comment kept" grep -q '"at_ms":20500' draft.json
check "history has created and submitted" grep -q '"action":"created".*"action":"submitted"' draft.json

# ---- reports (the window covers the generated calls)
es report errors --since 2000-01-01 --until 2100-01-01 --json > errors.jsonl
check "error lines have the contract fields: $(head -n1 errors.jsonl)" \
  grep -q '^{"operator":"[^"]*","error_tag":"wrong-price","count":[0-9]*,"previous_count":0,"repeat":false' errors.jsonl
total=$(python3 -c "import json,sys; print(sum(json.loads(l)['count'] for l in open('errors.jsonl') if json.loads(l)['error_tag']=='wrong-price'))")
check "two wrong-price errors counted, the draft's once submitted ($total)" test "$total" = 2
es report errors --since 2000-01-01 --until 2100-01-01 > errors.txt
check "text report has fail rates" grep -q "price-correct" errors.txt
es report scores --since 2000-01-01 --until 2100-01-01 --json > scores.jsonl
n=$(python3 -c "import json; print(sum(json.loads(l)['evaluations'] for l in open('scores.jsonl')))")
check "three submitted evaluations in the score report ($n)" test "$n" = 3
es eval sample 2 --since 2000-01-01 --until 2100-01-01 --seed 5 --json > s1.jsonl
es eval sample 2 --since 2000-01-01 --until 2100-01-01 --seed 5 --json > s2.jsonl
check "sample reproducible" cmp -s s1.jsonl s2.jsonl
check "sample skips evaluated calls" bash -c "! grep -q -e '${ids[0]}' -e '${ids[1]}' -e '${ids[2]}' s1.jsonl"
check "sample not empty" test -s s1.jsonl
finish
