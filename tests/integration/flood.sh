# SIP scanners: a flood of INVITEs never answered (or only challenged) cannot
# push real calls out of a full call table, and nothing that is not tracked
# goes by silently (the summary's reasons, one warning per episode).
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
finish
