# Sourced by the tests that drive `earshot serve` (after lib.bash).
# starts `earshot serve` on a free loopback port (its arguments added): $port, $srv
start_server() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$EARSHOT" serve --listen "127.0.0.1:$port" "$@" > serve.log 2>&1 &
  srv=$!
  trap 'kill $srv 2>/dev/null || true; audit_promise_kept' EXIT
  for _ in $(seq 1 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "the server did not start: $(cat serve.log)" >&2
  return 1
}

# The route table promises an audit row for every successful answer of an audited
# route; the server logs a route that broke it. Any such line fails the test.
audit_promise_kept() {
  if grep -q 'without an audit row' serve.log 2>/dev/null; then
    echo "FAIL: routes answered without their audit row:" >&2
    grep 'without an audit row' serve.log >&2
    exit 1
  fi
}
