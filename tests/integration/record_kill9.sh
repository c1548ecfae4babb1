# kill -9 of a live `earshot record` at random moments while calls are played
# onto the loopback at their recorded pace, ten times; each next recorder
# takes over what the killed one left. Every call whose audio had been going
# for a second and a half when its recorder died is in the archive (complete,
# or marked interrupted and no more than about a second short), none twice,
# no temp file or spool left behind, verify green.
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: live capture needs root or CAP_NET_RAW"; exit 77; }
ip link show lo > /dev/null 2>&1 || { echo "SKIP: no loopback interface"; exit 77; }
REPLAY=$(dirname "${EARSHOT_REAL:-$EARSHOT}")/../bench/replay
[ -x "$REPLAY" ] || { echo "SKIP: bench/replay is not built"; exit 77; }
RANDOM=4242
: > expected
for round in $(seq 1 10); do
  # six calls of 3 s, 0.4 s apart, their Call-IDs this round's own
  python3 "$SRC/tests/tools/mkpcap.py" "r$round.pcap" --calls 6 --seconds 3 --stagger 400 \
    --seed "$round" > "r$round.info"
  "$EARSHOT" record -i lo --filter "udp and net 10.0.0.0/24" --rtp-timeout 2 --json \
    > "rec$round.json" 2> "rec$round.log" &
  rec=$!
  # capturing (after the takeover of the one before, which the log says first)
  for _ in $(seq 1 100); do grep -q "capturing on lo" "rec$round.log" && break; sleep 0.1; done
  sleep 0.3
  "$REPLAY" lo "r$round.pcap" > /dev/null &
  rep=$!
  began=$(date +%s.%N)
  sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
  kill -9 "$rec"
  killed=$(python3 -c "print($(date +%s.%N) - $began)")
  wait "$rec" 2> /dev/null || true
  wait "$rep" || true
  # the calls whose audio had been running for 1.5 s when the recorder died
  python3 - "r$round.info" "$killed" >> expected <<'PY'
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
t0 = min(c['start'] for c in calls) - 0.1   # the replay starts at the capture's first packet
for c in calls:
    if c['start'] - t0 + 1.5 < float(sys.argv[2]):
        print(c['call_id'])
PY
done
# the last one killed is taken over by the next recorder to start, whatever it reads
python3 "$SRC/tests/tools/mkpcap.py" none.pcap --calls 1 --seconds 1 --seed 99 > /dev/null
es record -r none.pcap --json > final.json 2> final.log
es ls --json > calls.jsonl
python3 - expected calls.jsonl rec*.log final.log > report.txt <<'PY' || true
import json, re, sys
expected = set(open(sys.argv[1]).read().split())
calls = [json.loads(l) for l in open(sys.argv[2])]
ids = [c['sip_call_id'] for c in calls]
interrupted = [c for c in calls if c.get('interrupted')]
# what each recorder said it took over from the one before
recovered = sum(int(m) for f in sys.argv[3:]
                for m in re.findall(r'calls in progress: (\d+) archived as interrupted', open(f).read()))
missing = sorted(expected - set(ids))
print('expected', len(expected), 'archived', len(ids), 'interrupted', len(interrupted),
      'recovered', recovered, 'missing', ' '.join(missing))
print('twice', len(ids) - len(set(ids)))
PY
cat report.txt
check "every call that had been going 1.5 s is archived: $(head -n1 report.txt)" \
  grep -q 'missing $' report.txt
check "none twice" grep -q '^twice 0$' report.txt
check "calls cut short are archived as interrupted, as each recorder said" \
  python3 -c "import sys; w=open('report.txt').read().split(); sys.exit(0 if int(w[w.index('interrupted')+1]) > 0 and w[w.index('interrupted')+1] == w[w.index('recovered')+1] else 1)"
check "no temp file left" test -z "$(find data/archive/.tmp -type f -name '*.tmp')"
check "no spool left" test -z "$(find data/spool -mindepth 1 2> /dev/null)"
check "verify passes" es verify
finish
