# `earshot serve` over HTTPS (GnuTLS through libmicrohttpd) with a self-signed
# certificate: the session cookie gains Secure, plain HTTP is not answered,
# and a missing key file is a clear error.
source "$(dirname "$0")/lib.bash"
command -v openssl > /dev/null || { echo "SKIP: openssl is not installed (needed only to make a test certificate)"; exit 77; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
printf 'supervisor pw 1\n' | es user add sup --role supervisor
set +e; es serve --listen 127.0.0.1:1 --tls-cert cert.pem --tls-key missing.pem 2> nokey.err; rc=$?; set -e
check "a missing key file: exit 1 naming it ($(cat nokey.err))" bash -c "test $rc = 1 && grep -q 'missing.pem' nokey.err"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$EARSHOT" serve --listen "127.0.0.1:$port" --tls-cert cert.pem --tls-key key.pem > serve.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done
curl -s --cacert cert.pem -D headers.txt -o body.json -X POST -H 'Content-Type: application/json' \
  -d '{"username":"sup","password":"supervisor pw 1"}' "https://127.0.0.1:$port/api/v1/session"
check "login over HTTPS: $(head -n1 headers.txt)" grep -q '^HTTP/1.1 200' headers.txt
check "the cookie is Secure under TLS" grep -qi '^Set-Cookie: earshot_session=.*; Secure' headers.txt
check "HSTS under TLS" grep -qi '^Strict-Transport-Security: max-age=31536000' headers.txt
set +e; curl -s -m 5 -o /dev/null "http://127.0.0.1:$port/login"; plain=$?; set -e
check "plain HTTP on the TLS port gets no page (curl exit $plain)" test "$plain" != 0
kill -TERM $srv
set +e; wait $srv; rc=$?; set -e
check "clean exit on SIGTERM ($rc)" test "$rc" = 0
finish
