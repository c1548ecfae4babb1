# Notifications that are never lost, against real receivers on loopback: a
# webhook receiver (counts, checks signatures, fails on demand, hangs) and
# Debian's aiosmtpd as the SMTP server. A missed call is notified to both; a
# receiver answering 500 gets it again with the same X-Earshot-Id once it
# recovers; kill -9 of the sender in the middle of a delivery loses nothing;
# deliveries that keep failing become dead letters and can be retried.
source "$(dirname "$0")/lib.bash"
PY=python3
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
echo ok > mode
$PY "$SRC/tests/tools/hook-receiver.py" hook.port hook.jsonl mode s3cret-for-tests & pids+=($!)
mkdir mail
$PY "$SRC/tests/tools/smtp-receiver.py" smtp.port mail & pids+=($!)
for i in $(seq 100); do [ -s hook.port ] && [ -s smtp.port ] && break; sleep 0.1; done
HOOK=http://127.0.0.1:$(cat hook.port)
cat > earshot.conf <<CONF
country_code = 49
business_hours = Mon-Sun 00:00-24:00
webhook_url = $HOOK/hook
webhook_secret = s3cret-for-tests
webhook_events = call.missed, missed.unreturned, recording.ready
email_to = ops@example.org, boss@example.org
email_events = call.missed
smtp_url = smtp://127.0.0.1:$(cat smtp.port)
smtp_from = earshot@shop.example
notify_timeout = 2
unreturned_after = 0
notify.night.channel = webhook
notify.night.url = $HOOK/night
notify.night.events = call.missed
notify.night.hours = after
notify.day.channel = webhook
notify.day.url = $HOOK/day
notify.day.events = call.missed
notify.day.hours = business
CONF
export EARSHOT_CONFIG=$WORK/earshot.conf
gen() { python3 "$SRC/tests/tools/mkpcap.py" "$@" --seconds 2 > /dev/null; }
now=$(date +%s)
hooks() { $PY -c "import json,sys; r=[json.loads(l) for l in open('hook.jsonl')] if __import__('os').path.exists('hook.jsonl') else []; print($1)"; }

# 1. a missed call, then an answered one; the receiver answers 500 at first
echo 500 > mode
gen m1.pcap --missed cancel --start $((now - 120)) --seed 1
gen a2.pcap --start $((now - 60)) --seed 2
es -q record -r m1.pcap
es -q record -r a2.pcap
es -q notify run --once
check "the first attempts failed with HTTP 500" test "$(hooks "sum(1 for x in r if x['status'] == 500)")" -ge 2
es notify list --pending --json > pending.jsonl
check "they wait for their next attempt, the error kept" $PY -c "
import json; d=[json.loads(l) for l in open('pending.jsonl')]
assert d and all(x['attempts'] == 1 and x['last_error'] == 'HTTP 500' for x in d), d"
check "the e-mail went out at once" test "$(ls mail/*.eml 2>/dev/null | wc -l)" = 1
check "to both addresses, from the configured sender" $PY -c "
import json; e=json.load(open('mail/1.json'))
assert e['from'] == 'earshot@shop.example' and sorted(e['to']) == ['boss@example.org', 'ops@example.org'], e"
check "its subject names the event and the caller" grep -q "^Subject: \[earshot\] call.missed: +49301000000" mail/1.eml
check "the missed call's attempts are in the message" grep -q "attempts *1" mail/1.eml

# 2. the receiver recovers: everything arrives, with the same ids as the failed tries
echo ok > mode
sleep 2.5
es -q notify run --once
ok_events=$(hooks "' '.join(sorted(x['event'] for x in r if x['status'] == 204 and x['path'] == '/hook'))")
check "call.missed and recording.ready arrived ($ok_events)" test "$ok_events" = "call.missed recording.ready"
check "every 500 was retried under the same X-Earshot-Id" $PY -c "
import json; r=[json.loads(l) for l in open('hook.jsonl')]
failed={x['id'] for x in r if x['status'] == 500}; good={x['id'] for x in r if x['status'] == 204}
assert failed and failed <= good, (failed, good)"
check "every request to the signed rule carried a valid signature" test "$(hooks "all(x['signed'] for x in r if x['path'] == '/hook')")" = True
check "the rule without a secret sends no signature" test "$(hooks "any(x['signed'] for x in r if x['path'] == '/day')")" = False
check "the body follows the contract" $PY -c "
import json; r=[json.loads(l) for l in open('hook.jsonl')]
b=[x['body'] for x in r if x['event'] == 'call.missed' and x['path'] == '/hook'][0]
assert set(b) == {'id', 'event', 'at', 'data'} and b['at'].endswith('Z'), b
d=b['data']
for k in ('id', 'started_at', 'direction', 'caller', 'callee', 'queue', 'operator', 'disposition', 'reason', 'after_hours', 'attempts'):
    assert k in d, k
assert d['disposition'] == 'missed' and d['reason'] == 'abandoned' and d['attempts'] == 1 and d['caller'] == '+49301000000', d"
check "the rules' filters: the business-hours rule got the missed call, the after-hours one not" test "$(hooks "sum(x['path'] == '/day' for x in r if x['status'] == 204), sum(x['path'] == '/night' for x in r)")" = "1 0"
check "nothing is waiting any more" test "$(es notify list --pending --json | wc -l)" = 0

# 3. kill -9 of the sender while a receiver hangs: nothing lost
echo hang > mode
gen m3.pcap --missed busy --start $((now - 30)) --seed 3
es -q record -r m3.pcap
before=$(hooks "len(r)")
"$EARSHOT" -q notify run --interval 0.1 & sender=$!
for i in $(seq 50); do sleep 0.1; done
kill -9 $sender; wait $sender 2>/dev/null || true
echo ok > mode
sleep 13 # the hung deliveries' lease (attempts x (timeout + 1) + 5 s) runs out
es -q notify run --once
check "after kill -9, the missed call was delivered once the sender came back" $PY -c "
import json; r=[json.loads(l) for l in open('hook.jsonl')][$before:]
ids={x['body']['data']['id'] for x in r if x['status'] == 204 and x['event'] == 'call.missed' and x['path'] == '/hook'}
assert len(ids) == 1, r"
check "and the entry still open after unreturned_after was notified as missed.unreturned" test "$(hooks "sum(1 for x in r[$before:] if x['status'] == 204 and x['event'] == 'missed.unreturned')")" = 1
check "the killed sender is gone" sh -c "! kill -0 $sender 2>/dev/null"
check "nothing waiting, nothing dead" test "$(es notify list --pending --json | wc -l) $(es notify list --dead --json | wc -l)" = "0 0"

# 4. a receiver that stays down: dead letters after notify_give_up, then a retry
echo 500 > mode
printf 'notify_give_up = 2\n' >> earshot.conf
gen m4.pcap --missed noanswer --start $((now - 10)) --seed 4
es -q record -r m4.pcap
for i in 1 2 3; do es -q notify run --once; sleep 1.2; done
es notify list --dead --json > dead.jsonl
check "deliveries that kept failing are dead letters ($(wc -l < dead.jsonl))" test "$(wc -l < dead.jsonl)" -ge 1
echo ok > mode
for id in $($PY -c "import json; print(' '.join(str(json.loads(l)['id']) for l in open('dead.jsonl')))"); do
  es -q notify retry "$id" > /dev/null
done
es -q notify run --once
check "retried dead letters are delivered" test "$(es notify list --dead --json | wc -l)" = 0
if es notify retry 999999 2> retry.err; then fail "retrying nothing"; else ok; fi
check "retrying an unknown delivery says so in one line" sh -c "test $(wc -l < retry.err) = 1 && grep -q 'delivery 999999' retry.err"

# 5. a configuration mistake is one line naming the key
printf 'notify.x.channel = pigeon\n' > bad.conf
if EARSHOT_CONFIG=$WORK/bad.conf es notify run --once 2> bad.txt; then fail "a bad channel accepted"; else ok; fi
check "bad channel named ($(cat bad.txt))" grep -q "notify.x.channel 'pigeon': webhook or email" bad.txt
printf 'webhook_url = http://127.0.0.1:1/\nwebhook_events = call.mised\n' > bad.conf
if EARSHOT_CONFIG=$WORK/bad.conf es notify run --once 2> bad.txt; then fail "an unknown event accepted"; else ok; fi
check "unknown event named ($(cat bad.txt))" grep -q "unknown event 'call.mised'" bad.txt
finish
