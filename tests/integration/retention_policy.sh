# Retention by category on real recordings (Asterisk prompts) dated over six
# years with sidecars: `retention = tag:b2b 1095d, queue:sales 730d,
# evaluated 730d, default 365d`. The dry run lists what each rule would delete
# and the held call it may not; the run deletes exactly those files, audits
# each with its rule, keeps every row and every evaluation (their audio marked
# purged), and verify stays green. A bad policy is one line naming it.
source "$(dirname "$0")/lib.bash"
mkdir in
now=$(date +%s)
n=0
call() { # name age_days extra-sidecar-fields
  n=$((n + 1))
  sox "$SOUNDS/vm-options.wav" "in/$1.wav" gain "-$n"
  printf '{"started_at": %d, "operator": "101"%s}' $((now - $2 * 86400)) "$3" > "in/$1.wav.json"
}
call b2b-old 2000 ', "tags": ["b2b"]'
call b2b-young 800 ', "tags": ["b2b"]'
call sales-old 800 ', "queue": "sales"'
call sales-young 500 ', "queue": "sales"'
call scored-young 400 ''
call scored-old 900 ''
call plain-old 400 ''
call plain-held 400 ''
call plain-new 10 ''
es -q ingest in > /dev/null
id() { es ls --json | grep -F "in/$1.wav" | sed -E 's/.*"id":"([^"]+)".*/\1/'; }
es -q rubric import "$SRC/scripts-rubric/examples/inbound-order.yaml" > /dev/null
cat > answers.json <<'JSON'
{"greeting": "yes", "customer-type": "no", "needs-questions": 4, "price-correct": "yes",
 "specs-correct": "na", "stock-delivery": "yes", "read-back": "yes", "no-rudeness": "yes",
 "polite-close": "yes"}
JSON
ev_young=$(es eval add "$(id scored-young)" --rubric inbound-order --reviewer sue answers.json)
ev_old=$(es eval add "$(id scored-old)" --rubric inbound-order --reviewer sue answers.json)
es hold "$(id plain-held)"
printf 'retention = tag:b2b 1095d, queue:sales 730d, evaluated 730d, default 365d\n' > earshot.conf
export EARSHOT_CONFIG=$WORK/earshot.conf

es retention --policy --dry-run --json > dry.jsonl
names() { python3 -c "
import json, subprocess, sys
calls = {json.loads(l)['id']: json.loads(l)['source_ref'].split('/')[-1][:-4] for l in open('calls.jsonl')}
rows = [json.loads(l) for l in open('$1') if '\"action\"' in l]
print(' '.join(sorted(calls[r['id']] + ':' + r['action'] for r in rows)))"; }
es ls --json > calls.jsonl
check "the dry run: each rule's expired calls, the held one apart ($(names dry.jsonl))" test "$(names dry.jsonl)" = "b2b-old:would delete plain-held:held plain-old:would delete sales-old:would delete scored-old:would delete"
check "the dry run deletes nothing" test "$(find data/archive -name '*.opus' | wc -l)" = 9
check "its summary per rule" python3 -c "
import json; s = json.loads(open('dry.jsonl').readlines()[-1])
r = {x['rule']: (x['matched'], x['expired'], x['would_delete'], x['held']) for x in s['rules']}
assert r == {'tag:b2b 1095d': (2, 1, 1, 0), 'queue:sales 730d': (2, 1, 1, 0), 'evaluated 730d': (2, 1, 1, 0), 'default 365d': (3, 1, 1, 1)}, r  # held ones apart from the expired
assert s['dry_run'] is True and s['unmatched'] == 0"

es retention --policy > run.txt
check "the run deleted the four ($(grep -c '^deleted' run.txt))" test "$(grep -c '^deleted' run.txt)" = 4
check "their files are gone, the others stay" test "$(find data/archive -name '*.opus' | wc -l)" = 5
for c in b2b-old sales-old scored-old plain-old; do
  check "$c marked purged" sh -c "'$EARSHOT' show $(id $c) --json | grep -q '\"purged_at\":\"20'"
done
check "the held call keeps its audio" test -f "data/$(archived_path in/plain-held.wav)"
check "the evaluation outlives its audio" sh -c "es() { '$EARSHOT' \"\$@\"; }; es eval show $ev_old --json | grep -q '\"score\"'"
check "verify stays green" es -q verify
check "each deletion audited with its rule, oldest first" test "$(catq data "SELECT group_concat(json_extract(detail, '\$.rule'), '|') FROM (SELECT detail FROM audit WHERE action = 'retention.delete' ORDER BY id) x")" = "tag:b2b 1095d|evaluated 730d|queue:sales 730d|default 365d"
check "the audit chain holds" es -q audit verify
es retention --policy --json > again.jsonl
check "a second run deletes nothing" test "$(grep -c '"action":"deleted"' again.jsonl || true)" = 0

# a bad policy: one line naming it
printf 'retention = tag:b2b 3 years, default 365d\n' > bad.conf
if EARSHOT_CONFIG=$WORK/bad.conf es retention --policy 2> bad.txt; then fail "a bad policy accepted"; else ok; fi
check "named ($(cat bad.txt))" sh -c "test $(wc -l < bad.txt) = 1 && grep -q \"retention 'tag:b2b 3 years'\" bad.txt"
printf 'retention = colour:red 30d\n' > bad.conf
if EARSHOT_CONFIG=$WORK/bad.conf es retention --policy 2> bad.txt; then fail "an unknown selector accepted"; else ok; fi
check "unknown selector named ($(cat bad.txt))" grep -q "the selector is tag:" bad.txt
: > none.conf
if EARSHOT_CONFIG=$WORK/none.conf es retention --policy 2> none.txt; then fail "no policy accepted"; else ok; fi
check "no policy says how to set one" grep -q "set \`retention = ...\`" none.txt
finish
