# earshot pbx import and the reports on a generated week of queue_log and CDR
# (the generator writes the true counts beside them): the report equals the
# truth, buckets add up to the summary, a second import counts nothing, bad
# lines are named FILE:LINE and fail the run without stopping it, and the
# Erlang calculator gives the published example.
source "$(dirname "$0")/lib.bash"
export TZ=UTC
python3 "$SRC/tests/tools/mkqueuelog.py" queue_log --days 7 --calls-per-day 300 --seed 5 \
  --cdr Master.csv --truth truth.json
es pbx import queue_log > import1.txt
check "queue_log imported ($(cat import1.txt))" grep -q ' 0 bad' import1.txt
es pbx import Master.csv > import2.txt
check "the CDR told from its first line ($(cat import2.txt))" grep -q '(cdr)' import2.txt
es report calls --from 2026-11-30 --to 2026-12-06 --by weekday-hour --json > calls.jsonl
check "the report equals the generator's truth" python3 - truth.json calls.jsonl <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
rows = [json.loads(l) for l in open(sys.argv[2])]
s = rows[0]
assert s['type'] == 'summary', s
cdr_missed = sum(t['cdr_missed'].values())
assert s['offered'] == t['offered'] + t['cdr_calls'], (s['offered'], t)
assert s['answered'] == t['answered'] + t['cdr_calls'] - cdr_missed, (s['answered'], t)
want = dict(t['missed_reasons']); want.update(t['cdr_missed'])
assert s['missed_reasons'] == want, (s['missed_reasons'], want)
buckets = [r for r in rows if r['type'] == 'bucket']
assert len(buckets) == 168
assert sum(b['offered'] for b in buckets) == s['offered']
assert all(b['offered'] == 0 for b in buckets if b['weekday'] == 7), 'closed on Sundays'
assert 0 < s['service_level'] <= 1 and s['asa_s'] > 0 and s['aht_s'] > 0
PY
es pbx import queue_log Master.csv > again.txt
check "a second import counts nothing ($(tr '\n' ' ' < again.txt))" test "$(grep -c ' 0 new lines' again.txt)" = 2
es report calls --from 2026-11-30 --to 2026-12-06 --json | head -n1 > calls2.json
check "... the report is the same" test "$(head -n1 calls.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["offered"])')" = "$(python3 -c 'import json; print(json.load(open("calls2.json"))["offered"])')"

es report presence --from 2026-11-30 --to 2026-12-06 --json > presence.jsonl
check "presence for the 6 operators" python3 - presence.jsonl <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert sorted(r['operator'] for r in rows) == [str(101 + i) for i in range(6)], rows
for r in rows:
    # six working days of about nine hours, with half an hour of lunch
    assert 6 * 8.5 * 3600 < r['logged_in_s'] < 6 * 9.6 * 3600, r
    assert r['paused_s'] == 6 * 1800 and r['pauses'] == {'lunch': 6 * 1800}, r
    assert r['sessions'] == 6 and r['answered'] > 0 and 0 < r['occupancy'] < 1, r
PY

# customers: three callers of the week as B2B customers of operator 101
python3 - queue_log > customers.csv <<'PY'
import sys
callers = []
for l in open(sys.argv[1]):
    f = l.rstrip('\n').split('|')
    if len(f) > 6 and f[4] == 'ENTERQUEUE' and f[6] not in callers:
        callers.append(f[6])
print('number,name,segment,account_manager')
for c in callers[:3]:  # written the way people write them: national, with blanks
    print(f'0{c[3:5]} {c[5:]},"Customer, {c}",b2b,101')
print('not a number,Bad,b2b,101')
PY
set +e; "$EARSHOT" --data data --config <(echo 'country_code = 49') customers import customers.csv > cust.out 2> cust.err; rc=$?; set -e
check "customers imported, the bad line named and exit 1 ($(cat cust.out) $(cat cust.err))" \
  sh -c "test $rc = 1 && grep -q '3 customers, 1 bad' cust.out && grep -q 'customers.csv:5: ' cust.err"
want=$(python3 - queue_log customers.csv <<'PY'
import sys
nums = ['+49' + l.split(',')[0][1:].replace(' ', '') for l in open(sys.argv[2]).read().splitlines()[1:4]]
print(sum(1 for l in open(sys.argv[1]) if l.split('|')[4:5] == ['ENTERQUEUE'] and l.rstrip('\n').split('|')[6] in nums))
PY
)
"$EARSHOT" --data data --config <(echo 'country_code = 49') report calls --from 2026-11-30 --to 2026-12-06 --segment b2b --json | head -n1 > b2b.json
check "report calls --segment b2b: their $want calls ($(cat b2b.json | cut -c1-80))" \
  python3 -c "import json; s=json.load(open('b2b.json')); assert s['offered'] == $want and 0 <= s.get('answered_by_account_manager', 0) <= 1, s"

# bad lines: named, counted, the rest imported, exit 1
printf '%s\n' "1796050000|b1|q1|NONE|ENTERQUEUE||+49|1" "not a line" "1796050010|b1|q1|NONE|ABANDON|1|1|10" \
  "1796050020||q1|NONE|ABANDON|1|1|3" > bad_log
set +e; es pbx import --format queue_log bad_log > bad.out 2> bad.err; rc=$?; set -e
check "bad lines: exit 1 ($rc), each as FILE:LINE: reason ($(tr '\n' ' ' < bad.err))" \
  sh -c "test $rc = 1 && grep -q '^bad_log:2: ' bad.err && grep -q '^bad_log:4: ' bad.err"
check "... the good lines imported" grep -q '2 events, 2 bad' bad.out

# the JSON-lines format
printf '%s\n' '{"event":"enter","at":"2026-12-07T09:00:00Z","call":"j1","queue":"web","caller":"+4930"}' \
  '{"event":"connect","at":"2026-12-07T09:00:12Z","call":"j1","queue":"web","agent":"Alice","hold_s":12}' \
  '{"event":"complete","at":"2026-12-07T09:03:12Z","call":"j1","queue":"web","agent":"Alice","hold_s":12,"talk_s":180}' > events.jsonl
es operator map Alice 150
es pbx import events.jsonl > events.out
es report calls --from 2026-12-07 --to 2026-12-07 --queue web --json | head -n1 > web.json
check "JSON events: one answered call, AHT 180 ($(cat web.json))" \
  python3 -c "import json; s=json.load(open('web.json')); assert (s['offered'], s['answered'], s['aht_s']) == (1, 1, 180)"
es report presence --from 2026-12-07 --to 2026-12-07 --operator 150 --json > alice.json
check "... a mapped agent counts as its operator ($(cat alice.json))" grep -q '"operator":"150","logged_in_s":0' alice.json

# Erlang C: the published example; Erlang A asks for fewer agents when callers give up
es erlang --calls 100 --period-s 1800 --aht-s 180 --target-s 20 --service-level 0.8 --json > c.json
check "Erlang C: 14 agents, SL 0.888, occupancy 0.714, P(wait) 0.174 ($(cat c.json))" \
  grep -q '"agents":14,"load":10.0,"service_level":0.888[0-9]*,"asa_s":[0-9.]*,"occupancy":0.714[0-9]*,"p_wait":0.174' c.json
es erlang --calls 100 --period-s 1800 --aht-s 180 --target-s 20 --agents 10 > impossible.txt 2>&1 || true
check "Erlang C: as many agents as Erlangs is refused, said why" grep -q 'grows without end' impossible.txt
es staffing --from 2026-11-30 --to 2026-12-06 --json > staffing.jsonl
check "staffing: a row per open weekday-hour, observed against required" python3 - staffing.jsonl <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) >= 6 * 9, len(rows)
for r in rows:
    assert r['agents'] >= 1 and r['agents_with_shrinkage'] >= r['agents'], r
    assert 0 <= r['observed_agents'] <= 6.01, r
assert any(r['observed_agents'] > 5 for r in rows if 9 <= r['hour'] <= 11), rows[:3]
PY
finish
