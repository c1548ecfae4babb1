# earshot record on the real captures in tests/data/pcap: call outcomes,
# RTP statistics equal to tshark's (run here as the oracle), the G.722 call's
# audio on the right channel with the right length, RTP-only captures as
# unknown calls, DTMF markers, masking, idempotent re-runs, verify.
source "$(dirname "$0")/lib.bash"
command -v tshark > /dev/null || { echo "SKIP: tshark is not installed (scripts/install-deps installs it)"; exit 77; }
PCAPS=$SRC/tests/data/pcap
for f in aaa sip-rtp-g722 g711a-rtp-only; do
  es -q record -r "$PCAPS/$f.pcap" --json > "rec-$f.json"
done
# 0.14 s of DTMF without SIP: stray RTP by default, a call when asked
es --data stray -q record -r "$PCAPS/dtmf-2833-digit1-rtp-only.pcap" --json > stray.json
check "a 0.14 s RTP-only burst is stray RTP, not a call" python3 -c "
import json, sys; c = json.load(open('stray.json'))
sys.exit(0 if c['stray_rtp_packets'] == 10 and c['calls_archived'] == 0 else 1)"
check "... and nothing is catalogued" test "$(es --data stray ls --json | grep -c '\"id\"' || true)" = 0
es -q record --min-unknown 0 -r "$PCAPS/dtmf-2833-digit1-rtp-only.pcap" --json > rec-dtmf-2833-digit1-rtp-only.json
es ls --json > calls.jsonl
field() { python3 -c "
import json, sys
for l in open('calls.jsonl'):
    c = json.loads(l)
    if $1: print($2)"; }

# aaa.pcap: the four INVITE dialogs end as the message flow says
check "abandoned" test "$(field "c['sip_call_id'] == '105090259-446faf7a@192.168.1.2'" "c['reason']")" = abandoned
check "no-answer after 183" test "$(field "c['sip_call_id'] == '11894297-4432a9f8@192.168.1.2'" "c['reason'], c['ring_ms']")" = "no-answer 17846"
check "missed calls have no audio" test "$(field "c['disposition'] == 'missed' and c['path'] is None" "1" | wc -l)" = 2
# the phone's two calls the provider refused (407, then 403 wrong password):
# rejected, not missed, and listed only when asked for
check "rejected calls are not in the default list" test "$(field "c['disposition'] == 'rejected'" "1" | wc -l)" = 0
es ls --json --disposition rejected > rejected.jsonl
check "forbidden twice, rejected" test "$(grep -c '"disposition":"rejected","reason":"forbidden"' rejected.jsonl)" = 2
check "... with the final status and the address that sent the INVITE" \
  test "$(grep -c '"sip_source":"192.168.1.2","sip_status":403' rejected.jsonl)" = 2
check "user agents kept" sh -c "grep -q 'Nero SIPPS IP Phone' calls.jsonl"

# RTP statistics equal tshark's on every stream
stats_rc=0
python3 - "$PCAPS" > stats-check.txt <<'PY' || stats_rc=$?
import json, subprocess, sys, re
pcaps = sys.argv[1]
ours = {}
for l in open('calls.jsonl'):
    for s in json.loads(l).get('rtp', []):
        ours[s['ssrc']] = s
bad = 0
for f in ['aaa', 'sip-rtp-g722', 'g711a-rtp-only', 'dtmf-2833-digit1-rtp-only']:
    out = subprocess.run(['tshark', '-r', f'{pcaps}/{f}.pcap', '-q', '-o', 'rtp.heuristic_rtp:TRUE',
                          '-z', 'rtp,streams'], capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(r'\s*[\d.]+\s+[\d.]+\s+\S+\s+\d+\s+\S+\s+\d+\s+0x([0-9A-F]+)\s+\S+\s+(\d+)\s+(-?\d+)\s+\(.*?\)\s+'
                     r'([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(-?[\d.]+)\s+([\d.]+)\s+([\d.]+)', line)
        if not m:
            continue
        ssrc = int(m.group(1), 16)
        s = ours.get(ssrc)
        if not s:
            print(f'{f}: stream 0x{ssrc:08X} missing'); bad += 1; continue
        want = dict(packets=int(m.group(2)), lost=int(m.group(3)), max_delta_ms=float(m.group(6)))
        got = dict(packets=s['packets'], lost=s['lost'], max_delta_ms=s['max_delta_ms'])
        if float(m.group(7)) >= 0:  # tshark knows the clock: compare jitter too
            want.update(jitter_ms=float(m.group(8)), max_jitter_ms=float(m.group(9)))
            got.update(jitter_ms=s['jitter_ms'], max_jitter_ms=s['max_jitter_ms'])
        for k in want:
            if abs(want[k] - got[k]) > 0.0015:
                print(f'{f} 0x{ssrc:08X} {k}: ours {got[k]} tshark {want[k]}'); bad += 1
        print(f'{f} 0x{ssrc:08X}: {got}')
sys.exit(1 if bad else 0)
PY
check "RTP statistics equal tshark's: $(tr '\n' ' ' < stats-check.txt)" test "$stats_rc" -eq 0
check "every tshark stream compared" test "$(grep -c '0x' stats-check.txt)" -ge 4

# the G.722 call: answered, 16 kHz stereo, one-way audio from the callee on the right
g=$(field "c['sip_call_id'] == '1-2161@10.0.2.20'" "c['path']")
check "G.722 call archived" test -f "data/$g"
ffmpeg -v error -y -i "data/$g" g722.wav
d=$(soxi -D g722.wav)
check "G.722 call length $d s (RTP 0.0227..8.5026 s + one frame)" near "$d" 8.5 0.02
left=$(sox g722.wav -n remix 1 stat 2>&1 | awk '/RMS.*amp/ {print $3}')
right=$(sox g722.wav -n remix 2 stat 2>&1 | awk '/RMS.*amp/ {print $3}')
check "audio on the operator (right) channel only: left $left right $right" python3 -c "import sys; sys.exit(0 if $right > 0.005 and $left < $right / 100 else 1)"
check "talk time from 200 OK to BYE" test "$(field "c['sip_call_id'] == '1-2161@10.0.2.20'" "c['talk_ms'], c['codecs']")" = "8499 ['G722']"

# RTP without SIP: unknown calls
check "RTP-only G.711A capture archived as an unknown call" test "$(field "c['sip_call_id'] is None and c['codecs'] == ['PCMA'] and c['duration_ms'] > 7000" "c['direction']")" = unknown
check "DTMF digit 1 marked" test "$(field "c['dtmf']" "c['dtmf'][0]['digit'], c['dtmf'][0]['duration_ms']")" = "1 280"

# re-running a capture archives nothing twice; masking hides digits
es -q record -r "$PCAPS/aaa.pcap" --json > again.json
check "re-run skips every call" python3 -c "import json,sys; c=json.load(open('again.json')); sys.exit(0 if c['calls_skipped'] == 4 and c['calls_archived'] + c['calls_missed'] == 0 else 1)"
es --data masked -q record --min-unknown 0 --mask-dtmf -r "$PCAPS/dtmf-2833-digit1-rtp-only.pcap" > /dev/null
check "--mask-dtmf stores markers without digits" sh -c "$EARSHOT --data masked ls --json | grep -q '\"digit\":null'"
# A real fax call through a proxy (nDPI's capture): one call per Call-ID
# although the capture saw it at four hops; the refused T.38 offer (488)
# leaves the audio as it was, so no fax and no UDPTL; the streams as
# tshark's, but for the 27 RTP packets tshark takes for T.38 after that
# refused offer.
es --data fax -q record -r "$PCAPS/fax-t38-refused-proxy-hops.pcap" --json > fax.json
es --data fax ls --json > fax.jsonl
check "fax capture: two calls, one per Call-ID" test "$(grep -c '"id"' fax.jsonl)" = 2
check "fax capture: a refused T.38 offer is no fax" \
  test "$(python3 -c "import json; print(sorted(str(json.loads(l).get('fax')) for l in open('fax.jsonl')))")" = "['None', 'None']"
check "fax capture: streams as tshark's, but for its T.38 misreading" \
  python3 "$SRC/tests/tools/compare-streams.py" "$PCAPS/fax-t38-refused-proxy-hops.pcap" fax.jsonl --except 0EAF0EAF
check "fax capture: SSRC 0x0EAF0EAF has tshark's 132 RTP packets plus the 27 it read as T.38" \
  test "$(python3 -c "import json; print([s['packets'] for l in open('fax.jsonl') for s in json.loads(l)['rtp'] if s['ssrc'] == 0x0EAF0EAF])")" = "[159]"
# SIP inside PPTP's GRE with PPP, behind a VLAN tag; a PPP link-type capture
es --data gre -q record -r "$PCAPS/pptp-gre-ppp-sip.pcapng" --json > gre.json
check "PPTP GRE + PPP: the SIP message inside is found" \
  python3 -c "import json,sys; c=json.load(open('gre.json')); sys.exit(0 if c['sip_messages'] == 1 and c['bad_packets'] == 0 else 1)"
es --data ppp -q record -r "$PCAPS/dlt-ppp.pcap" --json > ppp.json
check "PPP link type: decoded, nothing bad" \
  python3 -c "import json,sys; c=json.load(open('ppp.json')); sys.exit(0 if c['packets'] == 1 and c['bad_packets'] == 0 and c['not_ip'] == 0 else 1)"
check "verify clean" es verify
set +e; es record -r /nonexistent.pcap 2> err.txt; rc=$?; set -e
check "unreadable capture: exit 1 with the reason ($rc)" sh -c "test $rc = 1 && grep -q nonexistent.pcap err.txt"
finish
