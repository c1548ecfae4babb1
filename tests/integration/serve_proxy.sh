# `earshot serve` behind a reverse proxy: only for connections from a trusted
# proxy do X-Forwarded-For and X-Forwarded-Proto count (the right-most hop
# that is not a proxy is the client), so throttling and the audit log see
# clients, not the proxy, and the cookie gets Secure; from anyone else the
# headers are ignored.
source "$(dirname "$0")/lib.bash"
printf 'supervisor pw 1\n' | es user add sup --role supervisor
printf 'compliance pw 1\n' | es user add comp --role compliance
set +e; es serve --trusted-proxies 10.0.0.0/33 2> bad.err; rc=$?; set -e
check "a bad CIDR is refused, named ($(cat bad.err))" bash -c "test $rc = 2 && grep -q '10.0.0.0/33' bad.err"

start() { # $1: extra arguments
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$EARSHOT" serve --listen "127.0.0.1:$port" $1 > "serve-$port.log" 2>&1 &
  srv=$!
  for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
login() { # $1 user $2 password $3.. extra curl arguments; prints the status
  local u=$1 p=$2; shift 2
  curl -s -o /dev/null -D "h-$u.txt" -w '%{http_code}' -H 'Content-Type: application/json' "$@" \
    -d "{\"username\":\"$u\",\"password\":\"$p\"}" "http://127.0.0.1:$port/api/v1/session"
}
last_login_address() {
  catq data "SELECT json_extract(detail, '$.address') FROM audit WHERE action LIKE 'login%' ORDER BY id DESC LIMIT 1"
}

# 1. behind a trusted proxy (the config file's serve.trusted_proxies)
printf 'serve.trusted_proxies = 127.0.0.1, ::1\n' > earshot.conf
export EARSHOT_CONFIG=$PWD/earshot.conf
start ""
trap 'kill $srv 2>/dev/null || true' EXIT
st=$(login sup 'supervisor pw 1' -H 'X-Forwarded-For: 203.0.113.99, 198.51.100.7' -H 'X-Forwarded-Proto: https')
check "login through the proxy: $st" test "$st" = 200
check "the client is the right-most hop the proxy added ($(last_login_address))" test "$(last_login_address)" = 198.51.100.7
check "X-Forwarded-Proto: https gives the cookie Secure" grep -qi '^Set-Cookie: earshot_session=.*; Secure' h-sup.txt
check "... and HSTS" grep -qi '^Strict-Transport-Security' h-sup.txt
for i in $(seq 1 20); do login "nobody$i" wrong -H 'X-Forwarded-For: 198.51.100.66' > /dev/null; done
st=$(login nobody21 wrong -H 'X-Forwarded-For: 198.51.100.66')
check "20 failures from one client lock that client: $st" test "$st" = 429
st=$(login sup 'supervisor pw 1' -H 'X-Forwarded-For: 198.51.100.8')
check "... not everyone behind the proxy: $st" test "$st" = 200
kill $srv; wait $srv 2>/dev/null || true
unset EARSHOT_CONFIG

# 2. the same headers from a client that is not a trusted proxy count for nothing
start "--trusted-proxies 192.0.2.1"
st=$(login sup 'supervisor pw 1' -H 'X-Forwarded-For: 198.51.100.9' -H 'X-Forwarded-Proto: https')
check "untrusted: login $st" test "$st" = 200
check "untrusted: the connection's own address is audited ($(last_login_address))" test "$(last_login_address)" = 127.0.0.1
check "untrusted: no Secure cookie on plain HTTP" bash -c "! grep -qi '; Secure' h-sup.txt"
for i in $(seq 1 20); do login "x$i" wrong -H "X-Forwarded-For: 198.51.100.$i" > /dev/null; done
st=$(login sup 'supervisor pw 1' -H 'X-Forwarded-For: 198.51.100.200')
check "untrusted: forged addresses do not spread the failures ($st)" test "$st" = 429
kill $srv; wait $srv 2>/dev/null || true
finish
