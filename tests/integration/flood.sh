# SIP scanners: a flood of INVITEs never answered (or only challenged) cannot
# push real calls out of a full call table, and nothing that is not tracked
# goes by silently (the summary's reasons, one warning per episode). What the
# PBX refused is `rejected`, not missed: counted per source, catalogued as
# rows only within a source's allowance per minute.
source "$(dirname "$0")/lib.bash"
gen() { python3 "$SRC/tests/tools/mkpcap.py" "$@"; }
sum() { python3 -c "import json,sys; c=json.load(open('$1.json')); print($2)"; }
answered() { es --data "data-$1" ls --json | python3 -c "
import json, sys
calls = [json.loads(l) for l in sys.stdin]
ok = [c for c in calls if c['disposition'] == 'answered' and c['sip_call_id'].startswith('call')]
print(len(ok), min((c['duration_ms'] for c in ok), default=0))"; }

# 1. 2,000 unanswered INVITEs from 50 addresses around 5 real calls, a table of 20
gen flood.pcap --calls 5 --seconds 4 --stagger 500 --scanners 2000 --scanner-hosts 50 > /dev/null
es --data data-flood record -r flood.pcap --max-calls 20 --json > flood.json 2> flood.log
check "flood: the 5 real calls archived whole ($(answered flood))" \
  sh -c "test \"\$(echo '$(answered flood)' | cut -d' ' -f1)\" = 5 && test \"\$(echo '$(answered flood)' | cut -d' ' -f2)\" -ge 3990"
check "flood: every INVITE that did not fit is counted, as evicted ($(sum flood "c['calls_dropped'], c['calls_dropped_reasons']"))" \
  test "$(sum flood "c['calls_dropped'], c['calls_dropped_reasons']['evicted'], c['calls_dropped_reasons']['table_full']")" = "1985 1985 0"
check "flood: one warning for the episode" test "$(grep -c 'call table full' flood.log)" = 1
check "flood: its end summed up" grep -q 'call table has room again: dropped_or_evicted=1985' flood.log
es --data data-flood-text record -r flood.pcap --max-calls 20 2> flood-text.log
check "flood: the summary line names the reasons" grep -q 'dropped=1985 (table_full=0 evicted=1985)' flood-text.log

# 2. scanners the PBX challenges (401) and that never come back give way too
gen flood401.pcap --calls 5 --seconds 4 --stagger 500 --scanners 2000 --scanner-code 401 > /dev/null
es --data data-flood401 -q record -r flood401.pcap --max-calls 20 --json > flood401.json
check "challenged flood: the 5 real calls archived whole ($(answered flood401))" \
  test "$(answered flood401 | cut -d' ' -f1)" = 5

# 3. a table full of calls being handled: newcomers are dropped and counted,
#    no call in progress is evicted
gen busy.pcap --calls 30 --seconds 4 --stagger 100 > /dev/null  # each rings before the next
es --data data-busy -q record -r busy.pcap --max-calls 10 --json > busy.json
check "full of real calls: the 10 tracked archived whole ($(answered busy))" \
  sh -c "test \"\$(echo '$(answered busy)' | cut -d' ' -f1)\" = 10 && test \"\$(echo '$(answered busy)' | cut -d' ' -f2)\" -ge 3990"
check "full of real calls: 20 newcomers dropped as table_full ($(sum busy "c['calls_dropped_reasons']"))" \
  test "$(sum busy "c['calls_dropped'], c['calls_dropped_reasons']['table_full'], c['calls_dropped_reasons']['evicted']")" = "20 20 0"
check "full of real calls: their RTP counted as untracked packets, not as calls ($(sum busy "c['untracked_rtp_packets']"))" \
  test "$(sum busy "c['untracked_rtp_packets'] > 0")" = True
check "flood: the tracked scanner INVITEs end rejected (no response), none missed ($(sum flood "c['calls_rejected'], c['calls_missed']"))" \
  test "$(sum flood "c['calls_rejected'], c['calls_missed']")" = "15 0"
check "flood: 50 sources, each with its 40 attempts ($(sum flood "c['rejected_sources']['sources'], c['rejected_sources']['top'][0]['attempts']"))" \
  test "$(sum flood "c['rejected_sources']['sources'], c['rejected_sources']['top'][0]['attempts'], sum(t['attempts'] for t in c['rejected_sources']['top'])")" = "50 40 400"
catalogued() { catq "data-$1" "SELECT (SELECT count(*) FROM calls WHERE disposition = 'rejected'), (SELECT coalesce(sum(attempts), 0) || ' ' || coalesce(sum(catalogued), 0) || ' ' || coalesce(sum(untracked), 0) FROM rejected_sources)"; }
check "flood: the catalog counts every attempt per source ($(catalogued flood))" \
  test "$(catalogued flood)" = "15|2000 15 1985"
check "flood: rejected calls are not in ls" test "$(es --data data-flood ls --json | grep -c '"rejected"' || true)" = 0
es --data data-flood sources --limit 1 --json > top.json
check "flood: earshot sources names them ($(cat top.json))" grep -q '"attempts":40' top.json

# 4. each answer's disposition: refused before handling is rejected; a
#    customer who did not get through (busy) stays missed
for code in 401 403 404 484 486 603; do
  gen "code$code.pcap" --calls 0 --seconds 2 --scanners 3 --scanner-hosts 1 --scanner-code "$code" > /dev/null
  es --data "data-code$code" -q record -r "code$code.pcap" --json > "code$code.json"
done
outcome() { catq "data-code$1" "SELECT group_concat(DISTINCT disposition || ':' || reason) FROM calls"; }
check "401 never retried: rejected challenged ($(outcome 401))" test "$(outcome 401)" = rejected:challenged
check "403: rejected forbidden ($(outcome 403))" test "$(outcome 403)" = rejected:forbidden
check "404: rejected not-found ($(outcome 404))" test "$(outcome 404)" = rejected:not-found
check "484: rejected address-incomplete ($(outcome 484))" test "$(outcome 484)" = rejected:address-incomplete
check "486: missed busy ($(outcome 486))" test "$(outcome 486)" = missed:busy
check "603: missed declined ($(outcome 603))" test "$(outcome 603)" = missed:declined
es --data data-code403-cfg -q record -r code403.pcap --rejected-codes 401,407 > /dev/null
check "--rejected-codes without 403: a 403 is a missed call ($(outcome 403-cfg))" test "$(outcome 403-cfg)" = missed:failed:403
rc=0; es record -r code403.pcap --rejected-codes 486 > /dev/null 2> busy.txt || rc=$?
check "--rejected-codes refuses busy, saying why ($(cat busy.txt))" sh -c "test $rc = 2 && grep -q 'stays a missed call' busy.txt"

# 5. challenged, then retried with credentials: a normal call
gen auth.pcap --calls 3 --seconds 3 --stagger 500 --challenge 407 > /dev/null
es --data data-auth -q record -r auth.pcap --json > auth.json
check "challenged then retried: the 3 calls archived whole ($(answered auth))" \
  sh -c "test \"\$(echo '$(answered auth)' | cut -d' ' -f1)\" = 3 && test \"\$(echo '$(answered auth)' | cut -d' ' -f2)\" -ge 2990"
check "... and nothing rejected ($(sum auth "c['calls_rejected']"))" test "$(sum auth "c['calls_rejected']")" = 0

# 6. one scanner, 500 INVITEs refused in a minute: 100 rows (its allowance),
#    the rest only counted; --rejected rows keeps all, counts:0 none
gen one.pcap --calls 0 --seconds 30 --scanners 500 --scanner-hosts 1 --scanner-code 403 > /dev/null
es --data data-one -q record -r one.pcap --max-calls 1000 --json > one.json
check "a scanner's 500 refusals: 100 catalogued, all counted ($(catalogued one))" test "$(catalogued one)" = "100|500 100 0"
check "... the summary says so ($(sum one "c['calls_rejected'], c['rejected_rows']"))" \
  test "$(sum one "c['calls_rejected'], c['rejected_rows']")" = "500 100"
es --data data-one -q record -r one.pcap --max-calls 1000 --json > one-again.json
check "... re-reading the capture adds no rows" test "$(catq data-one 'SELECT count(*) FROM calls')" = 100
es --data data-rows -q record -r one.pcap --max-calls 1000 --rejected rows > /dev/null
check "--rejected rows: every one a row ($(catalogued rows))" test "$(catalogued rows)" = "500|500 500 0"
es --data data-counts -q record -r one.pcap --max-calls 1000 --rejected counts:0 > /dev/null
check "--rejected counts:0: none a row ($(catalogued counts))" test "$(catalogued counts)" = "0|500 0 0"
rc=0; es record -r one.pcap --rejected sometimes > /dev/null 2> bad.txt || rc=$?
check "--rejected nonsense is refused ($(cat bad.txt))" sh -c "test $rc = 2 && grep -q 'bad --rejected sometimes' bad.txt"
finish
