# Sourced by the tests that drive `earshot serve` (after lib.bash).
# starts `earshot serve` on a free loopback port (its arguments added): $port, $srv
start_server() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$EARSHOT" serve --listen "127.0.0.1:$port" "$@" > serve.log 2>&1 &
  srv=$!
  trap 'kill $srv 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "the server did not start: $(cat serve.log)" >&2
  return 1
}
