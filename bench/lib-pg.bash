# Sourced by the benchmarks that run on PostgreSQL next to SQLite: a durable
# PostgreSQL 15 cluster beside a benchmark's data set (DATA-pg), holding a
# copy of its SQLite catalog made by `earshot catalog migrate-to`, kept for
# the next run like the data set itself.
# pg_catalog DATA EARSHOT -> the copy's URL (cluster started, copy made once)
pg_catalog() {
  local data=$1 es=$2 dir=$1-pg url
  [ ${#dir} -lt 90 ] || { echo "bench: $dir: too long for a socket path" >&2; return 1; }
  tests/tools/pg-cluster start "$dir" --durable > /dev/null
  url=$(tests/tools/pg-cluster url "$dir" bench)
  if [ ! -f "$dir/.copied" ]; then
    "$ES_PGBIN/psql" -X -qAt -h "$dir" -U earshot -d postgres -c "DROP DATABASE IF EXISTS bench" > /dev/null
    "$ES_PGBIN/psql" -X -qAt -h "$dir" -U earshot -d postgres -c "CREATE DATABASE bench" > /dev/null
    echo "bench: copying the catalog into PostgreSQL (earshot catalog migrate-to)" >&2
    local t0=$(date +%s)
    "$es" --data "$data" -q catalog migrate-to "$url" --batch 20000 > "$dir/migrate.out"
    echo "bench: copied in $(( $(date +%s) - t0 )) s" >&2
    "$ES_PGBIN/psql" -X -qAt "$url" -c "VACUUM ANALYZE" > /dev/null
    touch "$dir/.copied"
  fi
  echo "$url"
}
pg_halt() { tests/tools/pg-cluster halt "$1-pg"; }
