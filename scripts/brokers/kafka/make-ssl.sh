#!/usr/bin/env bash
# Makes the TLS material of the test broker once: a CA, a broker certificate for 127.0.0.1 /
# localhost in a PKCS12 keystore, a PKCS12 truststore holding the CA, and a client certificate
# (PEM) for mutual-TLS tests. Node clients use ca.pem (+ client.pem / client-key.pem).
# Usage: make-ssl.sh <dir>   (does nothing when <dir>/broker.p12 already exists)
set -euo pipefail
dir="$1"
pass=tbi-test-pass
[ -f "$dir/broker.p12" ] && [ -f "$dir/truststore.p12" ] && [ -f "$dir/ca.pem" ] && exit 0
mkdir -p "$dir"
cd "$dir"
rm -f ./*.pem ./*.p12 ./*.csr ./*.srl ./*.ext

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=tbi test CA" \
  -keyout ca-key.pem -out ca.pem 2>/dev/null

sign() { # name subject extfile-content
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1-key.pem" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
sign broker "/CN=localhost" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
sign client "/CN=tbi-client" "extendedKeyUsage=clientAuth"

openssl pkcs12 -export -name broker -in broker.pem -inkey broker-key.pem -certfile ca.pem \
  -passout "pass:$pass" -out broker.p12
keytool -importcert -noprompt -alias tbi-ca -file ca.pem -storetype PKCS12 \
  -keystore truststore.p12 -storepass "$pass" >/dev/null 2>&1
rm -f ./*.csr ./*.ext ./*.srl
echo "[kafka] TLS material written to $dir" >&2
