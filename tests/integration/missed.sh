# Missed calls nobody has called back: calls recorded from captures and the
# PBX's queue_log become one entry per caller and line, closed when the
# customer calls again and is answered, or by hand with a note; the report
# gives the time to callback. Bad input gets a one-line error.
source "$(dirname "$0")/lib.bash"
printf 'country_code = 49\nbusiness_hours = Mon-Fri 09:00-18:00\n' > earshot.conf
export EARSHOT_CONFIG=$WORK/earshot.conf
gen() { python3 "$SRC/tests/tools/mkpcap.py" "$@" --seconds 2 > /dev/null; }
# the same caller (+49301000000): two misses on a Tuesday evening (after hours),
# answered 10 minutes later, missed again an hour after that
gen m1.pcap --missed cancel --start 1700000000 --seed 1
gen m2.pcap --missed busy --start 1700000600 --seed 2
gen a3.pcap --start 1700001200 --seed 3
gen m4.pcap --missed noanswer --start 1700004800 --seed 4
for p in m1 m2 a3 m4; do es -q record -r "$p.pcap"; done
field() { python3 -c "import json,sys; e=[json.loads(l) for l in open('$1')]; print($2)"; }

es missed list --open --json > open.jsonl
check "one open entry, the last miss ($(cat open.jsonl))" test "$(field open.jsonl "len(e), e[0]['number'], e[0]['attempts'], e[0]['reasons'], e[0]['status'], e[0]['queue']")" = "1 +49301000000 1 {'no-answer': 1} open 100"
es missed list --closed --json > closed.jsonl
check "the first two misses are one entry, closed when the customer called again ($(cat closed.jsonl))" test "$(field closed.jsonl "len(e), e[0]['attempts'], sorted(e[0]['reasons']), e[0]['closed_by'], e[0]['time_to_callback_s'], e[0]['after_hours'], e[0]['first_missed_at']")" = "1 2 ['abandoned', 'busy'] customer_called_again 1200 True 2023-11-14T22:13:20Z"
check "the closing call is the answered one" test "$(field closed.jsonl "e[0]['callback_call_id']")" = "$(es ls --json | python3 -c "import json,sys; print([c['id'] for c in map(json.loads, sys.stdin) if c['disposition'] == 'answered'][0])")"
es missed list > list.txt
check "the text list shows the waiting entry first" sh -c "head -n1 list.txt | grep -q '^+49301000000 .*open'"

# closing by hand
es missed close 0301000000 --note "wrong number, the customer said" --by anna > close.txt
check "a manual close by national number ($(cat close.txt))" grep -q "closed 1 unreturned call" close.txt
check "nothing open after it" test "$(es missed list --open --json | wc -l)" = 0
check "the note is kept" test "$(es missed list --closed --json | field /dev/stdin "[x['note'] for x in e if x['closed_by'] == 'manual']")" = "['wrong number, the customer said']"
if es missed close +49301000000 --note again 2> again.txt; then fail "closing a closed entry succeeds"; else ok; fi
check "closing nothing says so in one line ($(cat again.txt))" sh -c "test $(wc -l < again.txt) = 1 && grep -q 'no open unreturned call' again.txt"
if es missed close 12 --note x 2> ext.txt; then fail "an extension closes"; else ok; fi
check "an extension is not a customer ($(cat ext.txt))" grep -q "12: not a customer's phone number" ext.txt
if es missed close +49301000000 2> nonote.txt; then fail "a close without a note"; else ok; fi
check "a close needs a note" grep -q -- "--note" nonote.txt

# queue abandons from the PBX's queue_log become entries of their queue
"$SRC/tests/tools/make-calls" --days 2 --per-day 5 --seed 11 --out pbx --queue-log queue_log 2>/dev/null
es -q ingest pbx > /dev/null
es -q pbx import queue_log > /dev/null || true
abandons=$(catq data "SELECT count(DISTINCT caller) FROM calls WHERE source = 'queue_log' AND disposition = 'missed'")
es missed list --open --queue 600 --json > q.jsonl
check "each caller who hung up in queue 600 has an open entry ($abandons)" sh -c "test $abandons -gt 0 && test $(wc -l < q.jsonl) = $abandons"

# the report
es missed report --from 2023-11-14 --to 2023-11-14 --json > report.json
check "the report: two entries, one called again after 20 min, one closed by hand ($(cat report.json))" test "$(field report.json "e[0]['missed'], e[0]['customer_called_again'], e[0]['manual'], e[0]['median_s'], e[0]['within_1h']")" = "2 1 1 1200.0 0.5"

# bad configuration: one line naming the key
printf 'business_hours = Mon-Fri 9-18\n' > bad.conf
if EARSHOT_CONFIG=$WORK/bad.conf es missed list 2> bad.txt; then fail "bad business_hours accepted"; else ok; fi
check "bad business hours named in one line ($(cat bad.txt))" sh -c "test $(wc -l < bad.txt) = 1 && grep -q business_hours bad.txt"
finish
