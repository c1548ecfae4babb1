# One call, one row: the demo's PBX recordings (MixMonitor queue legs that
# carry no operator) are ingested, then the PBX's queue_log is imported: every
# queue recording gets its operator, queue and wait from the log, the callers
# who hung up waiting become missed calls, and importing again changes nothing.
source "$(dirname "$0")/lib.bash"
"$SRC/tests/tools/make-calls" --days 2 --per-day 5 --seed 11 --out pbx --queue-log queue_log 2>/dev/null
es -q ingest pbx
q_calls() { catq data "SELECT count(*) FROM calls WHERE source_ref LIKE '%/q-600-%' $1"; }
n=$(q_calls "")
check "queue recordings are there, without an operator ($n)" sh -c "test $n -gt 0 && test $(q_calls "AND operator = ''") = $n"
es pbx import queue_log > import.txt
check "the import says what it joined ($(tail -n1 import.txt))" grep -q "calls: $n recordings given their operator and queue, 2 missed calls catalogued" import.txt
check "every queue recording has its operator from the queue_log" test "$(q_calls "AND operator IN ('101', '102', '103', '104') AND queue = '600' AND json_extract(meta_sources, '\$.operator') = 'queue_log' AND ring_ms > 0")" = "$n"
missed() { catq data "SELECT count(*) FROM calls WHERE disposition = 'missed' AND reason = 'abandoned' AND queue = '600' AND source = 'queue_log'"; }
check "the callers who hung up waiting are missed calls ($(missed))" test "$(missed)" = 2
before=$(catq data "SELECT count(*) FROM calls")
es pbx import queue_log > again.txt
check "importing again adds no row" test "$(catq data "SELECT count(*) FROM calls")" = "$before"
es ls --json > calls.jsonl
check "ls shows the operator of a queue recording" python3 -c "
import json
calls = [json.loads(l) for l in open('calls.jsonl')]
q = [c for c in calls if '/q-600-' in c['source_ref']]
assert q and all(c['operator'] for c in q), q[:1]"
finish
