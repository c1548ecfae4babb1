# Every kind of bad input gets a one-line reason naming the file, a copy in
# failed/ with a .reason file and a catalog row, while the good file in the
# same run is archived and the run exits 1.
source "$(dirname "$0")/lib.bash"
mkdir in
src=$SOUNDS/vm-options.wav
cp "$src" in/good.wav
: > in/empty.wav
head -c 60000 "$src" > in/truncated.wav
python3 - "$src" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(b'fmt ')
lie = bytearray(d); struct.pack_into('<HH', lie, i + 10, 6, 0)  # 6 channels, no rate change
open('in/lying.wav', 'wb').write(lie)
open('in/zero-length.wav', 'wb').write(d[:d.find(b'data') + 8] + b'')
big = bytearray(d); struct.pack_into('<I', big, i + 12, 4000000000)  # absurd rate
open('in/absurd-rate.wav', 'wb').write(big)
PY
printf 'hello, this is not audio\n' > in/notes.wav
printf '\x89PNG\r\n\x1a\n0000000000000000' > in/picture.mp3
sox -n -r 8000 -c 1 -b 16 in/silent.wav trim 0 5
ln -s /nonexistent/recording.wav in/unreadable.wav
ffmpeg -v error -i "$src" -f mp3 in/really-mp3.wav   # wrong extension, real audio
printf '{"direction": "sideways"}' > in/badmeta.wav.json
sox "$src" in/badmeta.wav gain -1

set +e
es ingest in > out.txt 2> err.txt
rc=$?
set -e
check "exit 1 when an input failed (rc=$rc)" test "$rc" = 1
check "good file archived" grep -q "^archived in/good.wav" out.txt
check "wrong extension with real audio is archived" grep -q "^archived in/really-mp3.wav" out.txt
for f in empty truncated lying zero-length absurd-rate notes silent unreadable badmeta; do
  line=$(grep -F "in/$f." err.txt || true)
  check "$f: one error line naming the file" test "$(echo "$line" | grep -c .)" = 1
  check "$f: reason file" test -s "data/failed/$f.wav.reason"
done
check "picture.mp3 rejected" grep -q "in/picture.mp3: not a readable audio file" err.txt
check "truncated reason is explicit" grep -q "truncated: header declares" data/failed/truncated.wav.reason
check "lying header reason" grep -q "lying header" data/failed/lying.wav.reason
check "silent reason" grep -q "silent" data/failed/silent.wav.reason
check "bad sidecar names the field" grep -q "direction" data/failed/badmeta.wav.reason
check "failed copies are byte-identical" cmp -s in/truncated.wav data/failed/truncated.wav
check "inputs kept by default" test -f in/truncated.wav
rows=$(catq data "select count(*) from ingest_failures")
check "a catalog row per failure ($rows)" test "$rows" = 10
# running again counts attempts instead of duplicating rows
es ingest in > /dev/null 2>&1 || true
check "failures are not duplicated" test "$(catq data 'select count(*) from ingest_failures')" = 10
check "attempts counted" test "$(catq data "select attempts from ingest_failures where source_path='in/notes.wav'")" = 2
set +e; es ingest 2>/dev/null; rc=$?; es ingest --bitrate nope x 2>/dev/null; rc2=$?; set -e
check "usage errors exit 2 ($rc, $rc2)" test "$rc$rc2" = 22
finish
