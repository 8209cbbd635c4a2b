# Sourced by the broker scripts that serve TLS from PEM files (Mosquitto, RabbitMQ): one test CA,
# a server certificate for 127.0.0.1 / localhost and a client certificate, made once with openssl.
# (Kafka needs PKCS12 stores as well: scripts/brokers/kafka/make-ssl.sh.) Expects `log`.

# make_test_certs DIR: writes DIR/ca.{key,crt}, server.{key,crt}, client.{key,crt} unless present.
make_test_certs() {
  local certs="$1"
  [ -s "$certs/client.crt" ] && return 0
  log "generating a CA, a server and a client certificate in $certs"
  mkdir -p "$certs"
  local tmp; tmp="$(mktemp -d)"
  (
    cd "$tmp"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=tbi test CA" \
      -keyout ca.key -out ca.crt 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.crt 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl req -newkey rsa:2048 -nodes -subj "/CN=tbi-client" -keyout client.key -out client.csr 2>/dev/null
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile client.ext -out client.crt 2>/dev/null
    chmod 644 ./*.key ./*.crt
    # client.crt last: its presence marks a complete set.
    mv ca.key ca.crt server.key server.crt client.key "$certs/"
    mv client.crt "$certs/"
  )
  rm -rf "$tmp"
}
