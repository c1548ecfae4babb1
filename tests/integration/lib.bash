# Shared by the integration tests: each runs the real earshot binary ($EARSHOT)
# in its own scratch directory ($WORK). Sourced, not run.
set -euo pipefail
: "${EARSHOT:?EARSHOT must point to the binary}" "${SRC:?}" "${WORK:?}"
source "$SRC/scripts/system-files"
SOUNDS=$ES_SOUNDS
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
export EARSHOT_DATA=$WORK/data TZ=UTC
failures=0
passes=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { passes=$((passes + 1)); }
check() { # description, command...
  local what=$1; shift
  if "$@"; then ok; else fail "$what"; fi
}
es() { "$EARSHOT" "$@"; }
# Count of catalogued calls.
ncalls() { es ls --json | grep -c '"id"' || true; }
# Duration in seconds of any audio file, by ffprobe.
duration() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }
# |a - b| <= tol (floats)
near() { python3 -c "import sys; sys.exit(0 if abs($1 - ($2)) <= $3 else 1)"; }
# Archived path of the call whose source_ref contains $1.
archived_path() { es ls --json | grep -F "$1" | sed -E 's/.*"path":"([^"]+)".*/\1/' | head -n1; }
finish() {
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}
