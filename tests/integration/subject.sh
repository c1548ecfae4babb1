# A data subject by phone number (GDPR), on real recordings with sidecars and a
# missed call from a capture: find lists every call where the number is the
# caller or the callee in any spelling (and not a foreign number ending in the
# same digits), with evaluations, unreturned entries and undelivered
# notifications; export writes JSON, the Opus files and a README; erase
# deletes the audio, blanks the numbers and the free text, keeps the scores,
# leaves a held call untouched (exit 1), and the audit log names the subject
# only by a keyed pseudonym.
source "$(dirname "$0")/lib.bash"
printf 'country_code = 49\nwebhook_url = http://127.0.0.1:1/hook\nwebhook_events = call.missed\n' > earshot.conf
export EARSHOT_CONFIG=$WORK/earshot.conf
mkdir in
now=$(date +%s)
n=0
call() { # name caller callee
  n=$((n + 1))
  sox "$SOUNDS/vm-options.wav" "in/$1.wav" gain "-$n"
  printf '{"started_at": %d, "operator": "101", "caller": "%s", "callee": "%s", "direction": "%s"}' \
    $((now - 86400 * n)) "$2" "$3" "$4" > "in/$1.wav.json"
}
call national "030 1000000" 101 inbound
call spaced "+49 30 100 0000" 102 inbound
call outbound 101 "0049301000000" outbound
call held "+49301000000" 103 inbound
call foreign "+33 301000000" 101 inbound   # the same last nine digits, another number
call other "+49309999999" 101 inbound
es -q ingest in > /dev/null
python3 "$SRC/tests/tools/mkpcap.py" m.pcap --missed noanswer --seconds 1 --start $(( now - 600 )) > /dev/null
es -q record -r m.pcap
es -q missed sync
# the PBX's queue_log (the number waited and hung up; another caller too) and the directory
t=$((now - 3000))
printf '%s\n' "$t|q1|sales|NONE|ENTERQUEUE||0301000000|1" "$((t + 30))|q1|sales|NONE|ABANDON|1|1|30" \
  "$((t + 60))|q2|sales|NONE|ENTERQUEUE||+49309999999|1" "$((t + 90))|q2|sales|NONE|ABANDON|1|1|30" > queue_log
es -q pbx import queue_log > /dev/null
printf 'number,name,segment,account_manager\n+49301000000,Erika Muster,b2c,\n+49309999999,Other GmbH,b2b,\n' > customers.csv
es -q customers import customers.csv > /dev/null
id() { es ls --json | grep -F "in/$1.wav" | sed -E 's/.*"id":"([^"]+)".*/\1/'; }
es -q rubric import "$SRC/scripts-rubric/examples/inbound-order.yaml" > /dev/null
cat > answers.json <<'JSON'
{"greeting": "yes", "customer-type": "no", "needs-questions": 4, "price-correct": "yes",
 "specs-correct": "na", "stock-delivery": "yes", "read-back": "yes", "no-rudeness": "yes",
 "polite-close": "yes"}
JSON
ev=$(es eval add "$(id national)" --rubric inbound-order --reviewer sue --comment "Frau Schmidt, Kundennummer 4711" answers.json)
es -q eval comment "$ev" --by sue --at 5000 "she repeats her card number here"
es hold "$(id held)" 2> /dev/null

es subject find 0301000000 --json > find.jsonl
calls() { python3 -c "
import json
ids = {json.loads(l)['id']: json.loads(l)['source_ref'].split('/')[-1] for l in open('ls.jsonl')}
rows = [json.loads(l) for l in open('$1')]
print(' '.join(sorted(ids.get(r['id'], '?') for r in rows if 'started_at' in r)))"; }
es ls --json > ls.jsonl
check "find: every spelling, caller or callee, not the foreign number ($(calls find.jsonl))" test "$(calls find.jsonl)" = "held.wav m.pcap national.wav outbound.wav q1 spaced.wav"
check "find: the evaluation and its two comments, the entry, the notification, the PBX log and the directory" python3 -c "
import json; s = json.loads(open('find.jsonl').readlines()[-1])
assert s['subject'] == '+49301000000' and s['evaluations'] == 1 and s['comments'] == 2, s
assert len(s['unreturned']) == 1 and s['unreturned'][0]['number'] == '+49301000000', s['unreturned']
assert len(s['notifications']) == 1 and s['notifications'][0]['event'] == 'call.missed', s['notifications']
assert s['legal_hold'] == 1
assert s['pbx_queue_calls'] == 1 and s['customer_directory'] is True, s"

es subject export +49301000000 --out export > export.txt
check "export: calls.json, evaluations.json, unreturned.json, README and the Opus files" sh -c "test -s export/calls.json && test -s export/evaluations.json && test -s export/unreturned.json && test -s export/README.txt && test \$(ls export/*.opus | wc -l) = 4"
check "the exported audio plays" sh -c "for f in export/*.opus; do ffprobe -v error -show_entries stream=codec_name -of csv=p=0 \"\$f\" | grep -qx opus || exit 1; done"
check "the exported evaluation carries its comments" grep -q "she repeats her card number here" export/evaluations.json

es subject erase 0301000000 --reason "request 2026-117" --dry-run > dry.txt || true
check "a dry run erases nothing" test "$(find data/archive -name '*.opus' | wc -l)" = 6
declare -A ids
for c in national spaced outbound held other foreign; do ids[$c]=$(id $c); done
set +e; es subject erase 0301000000 --reason "request 2026-117" --json > erase.jsonl; rc=$?; set -e
check "erase exits 1 when a call was held ($rc)" test "$rc" = 1
check "the summary counts the PBX row and the directory entry" python3 -c "
import json
s = [json.loads(l) for l in open('erase.jsonl')][-1]
assert s['pbx_rows'] == 1 and s['customer_directory'] is True and s['dry_run'] is False, s"
check "it names the held call" grep -q "\"id\":\"${ids[held]}\",\"action\":\"held, left untouched\"" erase.jsonl
check "three recordings deleted, the held and the others kept" test "$(find data/archive -name '*.opus' | wc -l)" = 3
check "the held call keeps its audio and its number" sh -c "'$EARSHOT' show ${ids[held]} --json | grep -q '\"caller\":\"+49301000000\"'"
for c in national spaced outbound; do
  check "$c: numbers and file name blanked, audio purged" sh -c "'$EARSHOT' show ${ids[$c]} --json | python3 -c \"import json,sys; c=json.load(sys.stdin); assert c['caller'] == '' and c['callee'] == '' and c['source_ref'] == 'erased' and c['purged_at'], c\""
done
check "the evaluation keeps its score, loses its text" sh -c "es() { '$EARSHOT' \"\$@\"; }; es eval show $ev --json | python3 -c \"import json,sys; e=json.load(sys.stdin); assert e['score'] == 90.0 and e['comment'] == '' and all(c['text'] == '' for c in e['comments']), e\""
check "its unreturned entries are gone, the other caller's stays" test "$(es missed list --number +49301000000 --json | wc -l) $(es missed list --number +49309999999 --json | wc -l)" = "0 1"
check "so are its undelivered notifications, the other's stay" test "$(catq data "SELECT count(*) FROM outbox WHERE body LIKE '%1000000%'") $(catq data "SELECT count(*) FROM outbox WHERE body LIKE '%9999999%'")" = "0 1"
check "the other caller is untouched" sh -c "'$EARSHOT' show ${ids[other]} --json | grep -q '\"caller\":\"+49309999999\"'"
check "the foreign number is untouched" sh -c "'$EARSHOT' show ${ids[foreign]} --json | grep -q '\"caller\":\"+33 301000000\"'"
check "the PBX log's queue call lost the number, the other kept its own" test "$(catq data "SELECT group_concat(callid || '=' || caller, ' ') FROM (SELECT callid, caller FROM queue_calls ORDER BY callid) x")" = "q1= q2=+49309999999"
check "the customer directory entry is gone, the other stays" test "$(catq data "SELECT group_concat(number) FROM customers")" = "+49309999999"
check "verify stays green" es -q verify
check "the audit log: find, export, the dry run (a look), erase under one pseudonym, never the number" python3 - <<'PY'
import json, os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
db = catalog.connect("data")
rows = db.execute("SELECT action, target, detail FROM audit WHERE action LIKE 'subject.%' ORDER BY id").fetchall()
assert [r[0] for r in rows] == ['subject.find', 'subject.export', 'subject.find', 'subject.erase'], rows
assert json.loads(rows[2][2])['dry_run'] is True, rows
assert len({r[1] for r in rows}) == 1 and len(rows[0][1]) == 32, rows
assert not any('1000000' in (r[1] + r[2]) for r in rows), rows
assert 'request 2026-117' in rows[3][2]
PY
check "the audit chain holds" es -q audit verify
es subject find 0301000000 --json > after.jsonl
check "found again: only the held call" test "$(calls after.jsonl)" = "held.wav"
if es subject find 101 2> ext.txt; then fail "an extension is a subject"; else ok; fi
check "an extension is refused in one line ($(cat ext.txt))" grep -q "not a phone number" ext.txt
if es subject erase 0301000000 2> noreason.txt; then fail "erase without a reason"; else ok; fi
check "erase wants a reason" grep -q -- "--reason" noreason.txt
finish
