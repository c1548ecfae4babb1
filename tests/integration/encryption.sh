# Encryption at rest end to end on real recordings (Asterisk prompts and a
# generated capture): a key file made once (0600, never overwritten); with it
# configured new recordings are sealed (not Ogg streams) and play back
# byte-identical through `earshot audio` and Range requests; encrypt-existing
# converts an archive recorded in the clear, killed with SIGKILL partway and run
# again; a key rotation rewraps every data key without touching the audio; a
# wrong or missing key file stops commands at start-up; a flipped byte is
# reported for its call and chunk; erasure and redaction destroy data keys;
# and after the rotation Chromium plays and seeks an encrypted call.
source "$(dirname "$0")/lib.bash"
mkdir in
for i in $(seq 1 24); do
  sox "$SOUNDS/vm-options.wav" "in/c$i.wav" gain "-$((i % 9))" trim 0 "$((3 + i % 5))"
  printf '{"operator": "101", "caller": "+4930555%04d", "callee": "101"}' "$i" > "in/c$i.wav.json"
done
es -q ingest in > /dev/null
python3 "$SRC/tests/tools/mkpcap.py" clear.pcap --seconds 3 > /dev/null
es -q record -r clear.pcap
check "25 recordings in the clear" test "$(find data/archive -name '*.opus' | wc -l)" = 25
mkdir plain
for id in $(es ls --json | sed -E 's/.*"id":"([^"]+)".*/\1/'); do
  cp "data/$(es show "$id" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['path'])")" "plain/$id.opus"
done

# the key file
es keys init master.key > init.out
check "keys init: mode 0600" test "$(stat -c %a master.key)" = 600
cp master.key master.copy
set +e; es keys init master.key 2> again.err; rc=$?; set -e
check "keys init never overwrites ($rc: $(cat again.err))" sh -c "test $rc = 1 && grep -q 'never overwritten' again.err && cmp -s master.key master.copy"
printf 'encryption_key_file = %s/master.key\n' "$WORK" > earshot.conf
export EARSHOT_CONFIG=$WORK/earshot.conf

# new recordings are sealed
mkdir in2
sox "$SOUNDS/vm-options.wav" in2/new.wav
es -q ingest in2 > /dev/null
python3 "$SRC/tests/tools/mkpcap.py" sealed.pcap --seconds 3 --start 1790000000 > /dev/null
es -q record -r sealed.pcap
new=$(es ls --json | grep -F in2/new.wav | sed -E 's/.*"id":"([^"]+)".*/\1/')
newpath=$(es show "$new" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['path'])")
check "a new recording is sealed ($newpath)" sh -c "case '$newpath' in *.opus.enc) head -c 8 'data/$newpath' | grep -q ESAUDIO1;; *) false;; esac"
check "the recorder's too" test "$(find data/archive -name '*.opus.enc' | wc -l)" = 2
check "a sealed file is not an Ogg stream" sh -c "! ffprobe -v error 'data/$newpath' 2> /dev/null"
es audio "$new" --out new.opus
check "earshot audio gives plain Ogg Opus of the right length" near "$(duration new.opus)" "$(soxi -D in2/new.wav)" 0.05
check "verify authenticates every chunk" sh -c "es() { '$EARSHOT' \"\$@\"; }; '$EARSHOT' verify 2>&1 | grep -q 'sealed=2 ok'"

# encrypt-existing, killed at random moments, then run to the end
RANDOM=77
for round in 1 2 3 4; do
  "$EARSHOT" encrypt-existing > /dev/null 2>&1 &
  pid=$!
  sleep "0.0$((RANDOM % 10))"
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
done
es encrypt-existing > again.out
check "encrypt-existing finishes after a SIGKILL ($(cat again.out))" grep -q ', 0 left in the clear' again.out
check "no recording left in the clear" test "$(find data/archive -name '*.opus' | wc -l)" = 0
check "nothing left over in the temp dir" test "$(find data/archive/.tmp -type f -name '*.tmp' | wc -l)" = 0
check "no pending marks left" test "$(catq data 'SELECT count(*) FROM pending_files')" = 0
check "verify: every file authenticated" sh -c "'$EARSHOT' verify 2>&1 | grep -q 'sealed=27 ok'"
same_audio() { # every converted recording decrypts to its bytes from before
  for f in plain/*.opus; do
    id=$(basename "$f" .opus)
    es audio "$id" --out out.opus 2> /dev/null && cmp -s out.opus "$f" || { echo "$id differs"; return 1; }
  done
}
check "byte-identical plaintext after encryption" same_audio

# rotation
keys_before=$(catq data "SELECT group_concat(hex(wrapped)) FROM audio_keys")
files_before=$(find data/archive -name '*.enc' -exec sha256sum {} + | sort | sha256sum)
es keys rotate > rotate.out
check "rotate: two keys in the file, still 0600" sh -c "test \$(grep -c '^key ' master.key) = 2 && test \$(stat -c %a master.key) = 600"
check "every data key wrapped again, under the new key" python3 - "$keys_before" "$(grep -m1 '^key ' master.key | cut -d' ' -f2)" <<'PY'
import os, sys; sys.path.insert(0, os.environ["SRC"] + "/tests/tools"); import catalog
before = set(sys.argv[1].split(','))
rows = catalog.connect("data").execute('SELECT key_id, hex(wrapped) FROM audio_keys').fetchall()
assert len(rows) == len(before) == 27, (len(rows), len(before))
assert {r[0] for r in rows} == {sys.argv[2]}, rows[:2]
assert not before & {r[1] for r in rows}, 'a data key kept its old wrapping'
PY
check "the audio files untouched" test "$(find data/archive -name '*.enc' -exec sha256sum {} + | sort | sha256sum)" = "$files_before"
check "all still byte-identical" same_audio
check "keys.rotate audited" test "$(catq data "SELECT count(*) FROM audit WHERE action = 'keys.rotate'")" = 1

# a wrong or missing key file stops a command at start-up, in one line
es keys init other.key > /dev/null
printf 'encryption_key_file = %s/other.key\n' "$WORK" > wrong.conf
set +e; EARSHOT_CONFIG=$WORK/wrong.conf "$EARSHOT" audio "$new" --out x.opus 2> wrong.err; rc=$?; set -e
check "the wrong key file: refused at start ($rc): $(cat wrong.err)" sh -c "test $rc = 2 && grep -q 'does not hold key' wrong.err && test \$(wc -l < wrong.err) = 1 && test ! -s x.opus"
set +e; EARSHOT_CONFIG=/dev/null "$EARSHOT" verify 2> none.err; rc=$?; set -e
check "no key file: refused at start ($rc): $(cat none.err)" sh -c "test $rc = 2 && grep -q 'no encryption_key_file is configured' none.err"
chmod 644 master.key
set +e; es verify 2> mode.err; rc=$?; set -e
chmod 600 master.key
check "a key file others can read is refused: $(cat mode.err)" sh -c "test $rc = 2 && grep -q 'chmod 600' mode.err"

# a flipped byte is reported for its call and chunk
f=$(find data/archive -name "$new*.enc")
cp "$f" flip.bak
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[9000]^=4; open(p,'wb').write(b)" "$f"
set +e; es verify > flip.out 2>&1; rc=$?; set -e
check "verify names the call and the chunk ($rc)" sh -c "test $rc = 1 && grep -q \"call $new: chunk 1 fails authentication\" flip.out"
cp flip.bak "$f"

# the server decrypts Range requests
source "$SRC/tests/tools/review-fixture-server.sh"
printf 'sealed pw 12\n' | es user add sup --role supervisor
start_server
base=http://127.0.0.1:$port
curl -s -c jar -o /dev/null -H 'Content-Type: application/json' -d '{"username":"sup","password":"sealed pw 12"}' "$base/api/v1/session"
curl -s -b jar -H 'Range: bytes=100-5000' -o part.bin -w '%{http_code} %header{content-range}' "$base/api/v1/calls/$new/audio" > range.out
size=$(stat -c %s new.opus)
check "a Range request: 206 over the plaintext's size ($(cat range.out))" test "$(cat range.out)" = "206 bytes 100-5000/$size"
check "its bytes are the plaintext's" cmp -s part.bin <(tail -c +101 new.opus | head -c 4901)
curl -s -b jar -o whole.bin "$base/api/v1/calls/$new/audio"
check "the whole file too" cmp -s whole.bin new.opus
check "past the end: 416" test "$(curl -s -b jar -H "Range: bytes=$((size + 10))-" -o /dev/null -w '%{http_code}' "$base/api/v1/calls/$new/audio")" = 416
if command -v chromium > /dev/null && [ -d "$SRC/tests/browser/node_modules/playwright-core" ]; then
  printf '{"password": "sealed pw 12", "call": "%s", "duration": %s}\n' "$new" "$(soxi -D in2/new.wav)" > fixture.json
  timeout 120 node "$SRC/tests/browser/sealed_play.mjs" "$base" fixture.json > browser.out 2>&1 || true
  cat browser.out
  check "Chromium plays and seeks an encrypted call after the rotation: $(tail -n1 browser.out)" grep -q ' 0 failed$' browser.out
else
  echo "SKIP (browser part): chromium or playwright-core is not installed"
fi
kill $srv 2>/dev/null || true
wait $srv 2>/dev/null || true # its connections closed before the catalog is read below

# erasure and redaction destroy data keys (crypto-shredding)
victim=$(es ls --json | grep -F '"caller":"+49305550003"' | sed -E 's/.*"id":"([^"]+)".*/\1/')
wrapped=$(catq data "SELECT hex(wrapped) FROM audio_keys WHERE call_id = '$victim'")
vfile=$(find data/archive -name "$victim*.enc")
es -q subject erase +49305550003 --reason "request 7" > /dev/null
check "erased: its data key is gone" test "$(catq data "SELECT count(*) FROM audio_keys WHERE call_id = '$victim'")" = 0
check "and its file" test ! -e "$vfile"
if [ "$(engine)" = sqlite ]; then
catq data 'PRAGMA wal_checkpoint(TRUNCATE)' > /dev/null
check "the wrapped key's bytes are not left in the catalog's files" python3 - "$wrapped" <<'PY'
import glob, sys
w = bytes.fromhex(sys.argv[1])
assert len(w) == 72
for f in glob.glob('data/catalog.db*'):
    assert w[24:56] not in open(f, 'rb').read(), f
PY
else
  echo "skipped on PostgreSQL: the server's files keep a deleted row until VACUUM (docs/operations.md)"
fi
r=$(es ls --json | grep -F '"caller":"+49305550004"' | sed -E 's/.*"id":"([^"]+)".*/\1/')
old_wrapped=$(catq data "SELECT hex(wrapped) FROM audio_keys WHERE call_id = '$r'")
es -q redact "$r" --from 0.5 --to 1.5 --reason "card" > /dev/null
check "redacted: a sealed file of its own (.r1.opus.enc)" test -n "$(find data/archive -name "$r.r1.opus.enc")"
check "and a new data key" bash -c "test -n \"\$(catq data \"SELECT hex(wrapped) FROM audio_keys WHERE call_id = '$r'\")\" && test \"\$(catq data \"SELECT hex(wrapped) FROM audio_keys WHERE call_id = '$r'\")\" != '$old_wrapped'"
check "verify stays green" sh -c "'$EARSHOT' verify 2>&1 | grep -q ' ok$'"
finish
