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
# The PostgreSQL pass (ctest's integration-pg/*): every earshot run gets a
# database of the test cluster, one per data directory.
if [ -n "${EARSHOT_TEST_PG_DIR:-}" ]; then
  EARSHOT_REAL=$EARSHOT
  EARSHOT=$SRC/tests/tools/earshot-pg
  export EARSHOT_REAL EARSHOT_TEST_PG_DIR
fi
es() { "$EARSHOT" "$@"; }
# catq DATA_DIR SQL: a query on DATA_DIR's catalog, rows as "a|b" lines on
# either engine. SQLite-only statements (PRAGMA) do nothing on PostgreSQL.
catq() {
  if [ -n "${EARSHOT_TEST_PG_DIR:-}" ]; then
    case "$2" in PRAGMA*) return 0 ;; esac
    "$ES_PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 "$("$SRC/tests/tools/pg-catalog" "$1")" -c "$2"
  else
    sqlite3 -cmd '.timeout 5000' "$1/catalog.db" "$2"
  fi
}
export -f catq
export SRC ES_PGBIN
# copy_data FROM TO: a copy of a data directory, its catalog included.
copy_data() {
  rm -rf "$2"; cp -a "$1" "$2"
  if [ -n "${EARSHOT_TEST_PG_DIR:-}" ]; then "$SRC/tests/tools/pg-catalog" "$2" --from "$1" > /dev/null; fi
}
# catalog_of DATA_DIR: what --catalog names for DATA_DIR's catalog, so that
# processes with other data directories share it.
catalog_of() {
  if [ -n "${EARSHOT_TEST_PG_DIR:-}" ]; then "$SRC/tests/tools/pg-catalog" "$1"; else echo "$(realpath -m "$1")/catalog.db"; fi
}
# The engine this pass runs on: sqlite or postgresql.
engine() { if [ -n "${EARSHOT_TEST_PG_DIR:-}" ]; then echo postgresql; else echo sqlite; fi; }
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
