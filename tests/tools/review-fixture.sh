# Sourced by the review-server tests (after lib.bash): generated PBX calls plus
# one whose caller name is markup, the example rubric, one user per role, five
# evaluations (two with a wrong price), and fixture.json describing it all.
"$SRC/tests/tools/make-calls" --days 2 --per-day 8 --seed 21 --out in 2>/dev/null
XSS_CALLER='<img src=x onerror=alert(1)>'
sox "$SOUNDS/vm-options.wav" -c 2 in/xss.wav 2>/dev/null
printf '{"started_at":"2026-11-01T10:00:00Z","direction":"inbound","caller":"%s","callee":"600","operator":"104"}\n' \
  "$XSS_CALLER" > in/xss.wav.json
es ingest in > /dev/null
# a scanner the PBX refused (403) three times: rejected rows, listed only when asked for
python3 "$SRC/tests/tools/mkpcap.py" scan.pcap --calls 0 --seconds 2 --scanners 3 --scanner-hosts 1 \
  --scanner-code 403 > /dev/null
es -q record -r scan.pcap > /dev/null
es rubric import "$SRC/scripts-rubric/examples/inbound-order.yaml" > /dev/null
printf 'supervisor pw 1\n' | es user add sup --role supervisor
printf 'operator pw 102\n' | es user add op102 --role operator --operator 102
printf 'compliance pw 1\n' | es user add comp --role compliance
printf 'compliance pw 2\n' | es user add comp2 --role compliance
printf 'throttled pw 1\n' | es user add victim --role supervisor
printf 'admin pw 12345\n' | es user add root --role admin
es ls --json > calls.jsonl

# three of operator 102's calls and two of 103's are evaluated; two with a wrong price
python3 - "$EARSHOT" "$XSS_CALLER" "$SRC" <<'PY' > fixture.json
import json, os, subprocess, sys, tempfile
es, xss = sys.argv[1], sys.argv[2]
calls = [json.loads(l) for l in open('calls.jsonl')]
ans = {"greeting": "yes", "customer-type": "yes", "needs-questions": 5, "price-correct": "yes",
       "specs-correct": "yes", "stock-delivery": "yes", "read-back": "yes", "no-rudeness": "yes",
       "polite-close": "yes", "b2b-terms": "yes"}
evaluated, wrong = [], 0
for op, n in (("102", 3), ("103", 2)):
    mine = [c for c in calls if c["operator"] == op and c["disposition"] == "answered"][:n]
    for i, c in enumerate(mine):
        a = dict(ans)
        if i < 1:
            a["price-correct"] = "no"; wrong += 1
        if "b2b" not in c["tags"]:
            del a["b2b-terms"]
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(a, f); f.flush()
            subprocess.run([es, "eval", "add", c["id"], "--rubric", "inbound-order",
                            "--reviewer", "sup", f.name], check=True, capture_output=True)
        evaluated.append(c["id"])
own = [c for c in calls if c["operator"] == "102" and c["path"] and "b2b" not in c["tags"]]
other = [c for c in calls if c["operator"] == "103"]
missed = [c for c in calls if c["disposition"] == "missed"]
print(json.dumps({
    "users": {"supervisor": {"name": "sup", "password": "supervisor pw 1"},
              "operator": {"name": "op102", "password": "operator pw 102", "operator": "102"},
              "compliance": {"name": "comp", "password": "compliance pw 1"},
              "compliance2": {"name": "comp2", "password": "compliance pw 2"},
              "throttled": {"name": "victim", "password": "throttled pw 1"},
              "admin": {"name": "root", "password": "admin pw 12345"}},
    "calls": [{"id": c["id"], "operator": c["operator"], "caller": c["caller"]} for c in calls],
    "evaluated": evaluated, "wrong_price": wrong, "operator": "102", "other_operator": "103",
    "own_call": own[0]["id"], "other_call": other[0]["id"], "xss_caller": xss,
    "missed_call": missed[0]["id"] if missed else None, "rejected": 3,
    "sounds": os.environ["ES_SOUNDS"], "src": sys.argv[3]}))
PY

source "$SRC/tests/tools/review-fixture-server.sh"
