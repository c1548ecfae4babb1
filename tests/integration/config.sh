# The configuration file: data dir, time zone for PBX names, ingest defaults;
# command-line options win; an unknown key is a usage error naming the line.
source "$(dirname "$0")/lib.bash"
unset EARSHOT_DATA
mkdir in
sox "$SOUNDS/vm-options.wav" "in/101_5550123_x.wav"
sox "$SOUNDS/vm-options.wav" "in/out-5551234-101-20261120-143015-1.2.wav" gain -1
cat > earshot.conf <<CONF
data = $WORK/from-config   # comment
timezone = America/New_York
ingest.pattern = ^(?<operator>[0-9]+)_(?<caller>[0-9]+)_
CONF
"$EARSHOT" --config earshot.conf ingest in > out.txt
check "data dir from the config" test "$(catq from-config 'SELECT count(*) FROM calls')" -gt 0
ls_cfg() { "$EARSHOT" --config earshot.conf ls --json; }
check "pattern from the config" sh -c "$EARSHOT --config earshot.conf ls --json | grep -F 101_5550123 | grep -q '\"caller\":\"5550123\"'"
# 14:30:15 in New York (EST, UTC-5) is 19:30:15 UTC
check "time zone from the config" sh -c "$EARSHOT --config earshot.conf ls --json | grep -F out-5551234 | grep -q '\"started_at\":\"2026-11-20T19:30:15.000Z\"'"
"$EARSHOT" --config earshot.conf --data other ingest in > /dev/null
check "--data wins over the config" test "$(catq other 'SELECT count(*) FROM calls')" -gt 0
echo "ingest.bitrat = 9" >> earshot.conf
set +e; "$EARSHOT" --config earshot.conf ls > /dev/null 2> err.txt; rc=$?; set -e
check "unknown key is a usage error (rc=$rc)" test "$rc" = 2
check "the error names file, line and key: $(cat err.txt)" grep -q "earshot.conf:4: unknown key 'ingest.bitrat'" err.txt
finish
