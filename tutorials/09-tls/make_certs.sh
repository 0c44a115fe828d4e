#!/usr/bin/env bash
# Regenerates the certificates tutorial 9 ships (run it from anywhere):
#
#   ca.pem          a small certificate authority; the demo's trusting client
#                   trusts it, and nothing else should
#   server.pem      the server's certificate, for localhost and 127.0.0.1,
#                   signed by that CA
#   server-key.pem  the server's private key
#
# Both certificates are valid from 2000 to 2100, so the tutorial neither
# expires nor depends on a clock being right. The CA's own key is deleted at
# the end: nobody can sign anything else with this CA, so trusting ca.pem
# trusts this one server certificate only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `openssl ca` is the command that can set both dates; it wants a config and
# a database, which live in $work and are thrown away.
touch "$work/index.txt"
cat > "$work/ca.cnf" <<CNF
[ca]
default_ca = tutorial
[tutorial]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
CNF
sign=(openssl ca -batch -notext -config "$work/ca.cnf" -rand_serial
      -startdate 20000101000000Z -enddate 21000101000000Z)
request=(openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc)  # small keys

# The CA: a certificate signed by its own key, whose only job is to sign the
# server's.
"${request[@]}" -keyout "$work/ca-key.pem" -out "$work/ca.csr" -subj "/CN=tornado-cpp tutorial CA"
printf '%s\n' "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" \
  "subjectKeyIdentifier=hash" > "$work/ca.ext"
"${sign[@]}" -selfsign -keyfile "$work/ca-key.pem" -in "$work/ca.csr" -extfile "$work/ca.ext" \
  -out ca.pem

# The server: its key, a request, and the CA's signature. A client checks the
# name it dialed against subjectAltName (not against the CN).
"${request[@]}" -keyout server-key.pem -out "$work/server.csr" -subj "/CN=localhost"
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
  "authorityKeyIdentifier=keyid" > "$work/server.ext"
"${sign[@]}" -cert ca.pem -keyfile "$work/ca-key.pem" -in "$work/server.csr" \
  -extfile "$work/server.ext" -out server.pem

openssl verify -CAfile ca.pem server.pem
