# Two review servers on one catalog, as behind a load balancer: each with a
# data directory of its own (the audit key copied), one catalog between them
# (the same SQLite file, or one PostgreSQL database). A session made on one
# works on the other and a logout on either ends it; a user name locked by
# failed logins on one is locked on the other; concurrent audit rows from
# both keep one valid chain.
source "$(dirname "$0")/lib.bash"
source "$SRC/tests/tools/review-fixture-server.sh"
cat=$(catalog_of data-a)
a() { "$EARSHOT" --data data-a --catalog "$cat" "$@"; }
printf 'supervisor pw 1\n' | a user add sup --role supervisor
printf 'supervisor pw 2\n' | a user add sue --role supervisor
mkdir -p data-b && cp data-a/audit.key data-b/

start() { # $1 data dir; sets port_$1
  local p
  p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$EARSHOT" --data "$1" --catalog "$cat" serve --listen "127.0.0.1:$p" > "serve-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $p))" 2>/dev/null && break
    sleep 0.1
  done
  eval "port_${1//-/_}=$p"
}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
start data-a
start data-b
A=http://127.0.0.1:$port_data_a B=http://127.0.0.1:$port_data_b
login() { # base user password [jar]: the status
  curl -s -o /dev/null -w '%{http_code}' ${4:+-c "$4"} -H 'Content-Type: application/json' \
    -H "Origin: $1" -d "{\"username\":\"$2\",\"password\":\"$3\"}" "$1/api/v1/session"
}

check "login on A" test "$(login "$A" sup 'supervisor pw 1' jar)" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' -b jar "$B/api/v1/calls")
check "A's session works on B ($code)" test "$code" = 200
csrf=$(curl -s -b jar "$A/api/v1/session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
curl -s -o /dev/null -b jar -X DELETE -H "X-CSRF-Token: $csrf" -H "Origin: $B" "$B/api/v1/session"
code=$(curl -s -o /dev/null -w '%{http_code}' -b jar "$A/api/v1/calls")
check "logged out on B, the session is gone on A too ($code)" test "$code" = 401

for i in 1 2 3 4 5; do login "$A" sue wrong > /dev/null; done
check "five failures on A: B refuses sue" test "$(login "$B" sue wrong)" = 429
check "... even with the right password" test "$(login "$B" sue 'supervisor pw 2')" = 429
check "sup is not locked" test "$(login "$B" sup 'supervisor pw 1')" = 200

# both servers append audit rows at once: failed logins of many names
before=$(catq data-a "SELECT count(*) FROM audit")
for i in $(seq 1 15); do
  login "$A" "ghost-a$i" x > /dev/null &
  login "$B" "ghost-b$i" x > /dev/null &
done
wait_jobs() { for j in $(jobs -p); do case " ${pids[*]} " in *" $j "*) ;; *) wait "$j" || true ;; esac; done; }
wait_jobs
# and commands on both hosts: 40 processes appending at once
for i in $(seq 1 20); do
  a user enable sup > /dev/null 2>&1 &
  "$EARSHOT" --data data-b --catalog "$cat" user enable sue > /dev/null 2>&1 &
done
wait_jobs
after=$(catq data-a "SELECT count(*) FROM audit")
check "30 failed logins and 40 commands at once: 70 audit rows ($before -> $after)" test "$after" = $((before + 70))
check "one chain: no two rows follow the same one" \
  test "$(catq data-a "SELECT count(*) FROM (SELECT prev_hash FROM audit GROUP BY prev_hash HAVING count(*) > 1) x")" = 0
check "the audit log verifies from A's side" a audit verify
check "... and from B's" "$EARSHOT" --data data-b --catalog "$cat" audit verify
finish
