# Every input format the issue names, made from real Asterisk prompts: each is
# archived, and ffprobe finds the source duration within 20 ms.
source "$(dirname "$0")/lib.bash"
mkdir in
src=$SOUNDS/vm-options.wav # 8 kHz 16-bit mono, 16.37 s of real speech
sox "$src" -b 8 -e unsigned in/pcm8.wav
sox "$src" -b 24 in/pcm24.wav
sox "$src" -b 32 -e signed in/pcm32.wav
sox "$src" -b 32 -e floating-point -r 44100 in/float44k.wav
sox "$src" -r 16000 in/wide16k.wav
sox "$src" -r 22050 -c 2 in/stereo22k.wav
sox "$src" -r 48000 in/full48k.wav
sox "$src" -r 11025 in/odd11k.wav
sox "$src" -e u-law in/ulaw.wav
sox "$src" -e a-law in/alaw.wav
sox "$src" -e gsm-full-rate in/gsm.wav
sox "$src" -e gsm-full-rate -t wav in/call.wav49 gain -1
sox "$src" -t raw -e u-law in/raw.ulaw
sox "$src" -t raw -e a-law in/raw.alaw
sox "$src" -t raw -e signed -b 16 in/raw.sln
sox "$src" -t raw -e signed -b 16 -r 16000 in/raw.sln16
cp "$SOUNDS/vm-options.gsm" in/asterisk.gsm
cp "$SOUNDS/vm-options.g722" in/asterisk.g722
ffmpeg -v error -i "$src" -ar 44100 in/mp3.mp3
ffmpeg -v error -i "$src" -c:a libvorbis in/vorbis.ogg
ffmpeg -v error -i "$src" in/flac.flac
ffmpeg -v error -i "$src" -c:a pcm_s16le in/matroska.mka

set +e
es ingest -j 2 --json in > out.jsonl 2> err.log
rc=$?
set -e
check "ingest exits 0 (rc=$rc): $(cat err.log)" test "$rc" -eq 0
want=$(ls in | wc -l)
got=$(grep -c '"status":"archived"' out.jsonl || true)
skipped=$(grep -c '"status":"skipped"' out.jsonl || true)
check "all $want inputs archived (got $got, skipped $skipped)" test "$got" -eq "$want"

for f in in/*; do
  p=$(archived_path "$f")
  [ -n "$p" ] || { fail "$f not catalogued"; continue; }
  want_d=$(duration "$f" 2>/dev/null || true)
  case "$f" in *.ulaw|*.alaw|*.sln) want_d=$(python3 -c "print($(stat -c %s "$f") / (8000 * (2 if '$f'.endswith('.sln') else 1)))") ;;
               *.sln16) want_d=$(python3 -c "print($(stat -c %s "$f") / 32000)") ;;
               # ffprobe's MP3 duration counts encoder padding; the decoded length is the truth
               *.mp3) ffmpeg -v error -i "$f" -y dec.wav && want_d=$(soxi -D dec.wav) ;; esac
  got_d=$(duration "data/$p")
  check "$f: duration $got_d vs source $want_d" near "$got_d" "$want_d" 0.020
  ch=$(ffprobe -v error -show_entries stream=channels -of csv=p=0 "data/$p")
  want_ch=$([ "$f" = in/stereo22k.wav ] && echo 2 || echo 1)
  check "$f: channels $ch, want $want_ch" test "$ch" = "$want_ch"
done
# mono 8 kHz at 16 kb/s: about 2 kB per second
bytes=$(es ls --json | grep -F in/pcm24.wav | sed -E 's/.*"bytes":([0-9]+).*/\1/')
check "16 kb/s mono size ($bytes bytes for 16.4 s)" near "$bytes" 33000 4000
finish
