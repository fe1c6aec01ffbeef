#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerates the test-only certificates and keys in this directory (no upstream ECDSA/PS512 vectors exist).
# Fixed validity windows (2020-01-01 .. 2120-01-01) so tests at the pinned clock 2025-06-01 are stable.
# Usage: sh generate.sh   (needs openssl >= 3.0). The keys are throwaway test keys; never trust them.
set -eu
cd "$(dirname "$0")"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
touch "$W/index.txt"
echo 1000 > "$W/serial"
cat > "$W/ca.cnf" <<CNF
[ ca ]
default_ca = CA_default
[ CA_default ]
database = $W/index.txt
new_certs_dir = $W
serial = $W/serial
default_md = sha256
policy = policy_any
unique_subject = no
preserve = yes
email_in_dn = no
[ policy_any ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ root ]
basicConstraints = critical,CA:true,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ root_pl0 ]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ intermediate ]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf ]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf_self ]
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
[ leaf_ku_noncritical ]
keyUsage = digitalSignature
authorityKeyIdentifier = keyid
[ leaf_eku_server ]
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
[ leaf_is_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,digitalSignature
authorityKeyIdentifier = keyid
CNF

key() { # name alg-args...
  n=$1; shift
  openssl genpkey "$@" -out "$W/$n.key" 2>/dev/null
}
# cert NAME SUBJECT EXT ISSUER(self|name) [MD]
cert() {
  n=$1 subj=$2 ext=$3 iss=$4 md=${5:-sha256}
  openssl req -new -key "$W/$n.key" -subj "$subj" -out "$W/$n.csr" 2>/dev/null
  if [ "$iss" = self ]; then
    openssl ca -batch -config "$W/ca.cnf" -selfsign -keyfile "$W/$n.key" -in "$W/$n.csr" -extensions "$ext" \
      -startdate 20200101000000Z -enddate 21200101000000Z -md "$md" -notext -out "$n.pem" 2>/dev/null
  else
    openssl ca -batch -config "$W/ca.cnf" -cert "$iss.pem" -keyfile "$W/$iss.key" -in "$W/$n.csr" -extensions "$ext" \
      -startdate 20200101000000Z -enddate 21200101000000Z -md "$md" -notext -out "$n.pem" 2>/dev/null
  fi
}
keep() { cp "$W/$1.key" "$1.key"; }

EC256="-algorithm EC -pkeyopt ec_paramgen_curve:P-256"
key ec-root $EC256;   cert ec-root "/C=US/ST=WA/O=Trustgate Test/CN=Trustgate Test Root" root self
key ec-leaf $EC256;   cert ec-leaf "/C=US/ST=WA/O=Trustgate Test/OU=Release/CN=release-bot" leaf ec-root; keep ec-leaf
key ec-leaf2 $EC256;  cert ec-leaf2 "/C=US/ST=WA/O=Trustgate Test/OU=Security/CN=security-bot" leaf ec-root; keep ec-leaf2
key ec-leaf3 $EC256;  cert ec-leaf3 "/C=US/ST=WA/O=Trustgate Test/OU=Release/CN=release-bot-2" leaf ec-root; keep ec-leaf3
key ec-int $EC256;    cert ec-int "/C=US/ST=WA/O=Trustgate Test/CN=Trustgate Test Intermediate" intermediate ec-root
key ec-int-leaf $EC256; cert ec-int-leaf "/C=US/ST=WA/O=Trustgate Test/CN=int-leaf" leaf ec-int; keep ec-int-leaf
key pl0-root $EC256;  cert pl0-root "/C=US/ST=WA/O=Trustgate Test/CN=Pathlen0 Root" root_pl0 self
key pl0-int $EC256;   cert pl0-int "/C=US/ST=WA/O=Trustgate Test/CN=Pathlen0 Intermediate" intermediate pl0-root
key pl0-leaf $EC256;  cert pl0-leaf "/C=US/ST=WA/O=Trustgate Test/CN=pl0-leaf" leaf pl0-int; keep pl0-leaf
key other-root $EC256; cert other-root "/C=US/ST=WA/O=Other/CN=Other Root" root self
key other-leaf $EC256; cert other-leaf "/C=US/ST=WA/O=Trustgate Test/OU=Release/CN=release-bot" leaf other-root; keep other-leaf
key bad-ku $EC256;    cert bad-ku "/C=US/ST=WA/O=Trustgate Test/CN=bad-ku" leaf_ku_noncritical ec-root; keep bad-ku
key bad-eku $EC256;   cert bad-eku "/C=US/ST=WA/O=Trustgate Test/CN=bad-eku" leaf_eku_server ec-root; keep bad-eku
key bad-ca $EC256;    cert bad-ca "/C=US/ST=WA/O=Trustgate Test/CN=bad-ca" leaf_is_ca ec-root; keep bad-ca
key sha1-leaf $EC256; cert sha1-leaf "/C=US/ST=WA/O=Trustgate Test/CN=sha1-leaf" leaf ec-root sha1; keep sha1-leaf
key p384-self -algorithm EC -pkeyopt ec_paramgen_curve:P-384; cert p384-self "/C=US/ST=WA/O=Trustgate Test/CN=p384" leaf_self self; keep p384-self
key p521-self -algorithm EC -pkeyopt ec_paramgen_curve:P-521; cert p521-self "/C=US/ST=WA/O=Trustgate Test/CN=p521" leaf_self self; keep p521-self
key rsa4096-self -algorithm RSA -pkeyopt rsa_keygen_bits:4096; cert rsa4096-self "/C=US/ST=WA/O=Trustgate Test/CN=rsa4096" leaf_self self; keep rsa4096-self
key rsa2560-self -algorithm RSA -pkeyopt rsa_keygen_bits:2560; cert rsa2560-self "/C=US/ST=WA/O=Trustgate Test/CN=rsa2560" leaf_self self; keep rsa2560-self
key ed25519-self -algorithm ED25519; cert ed25519-self "/C=US/ST=WA/O=Trustgate Test/CN=ed25519" leaf_self self; keep ed25519-self

# Subjects for DN handling only (validity irrelevant): multi-valued RDN, repeated OU, emailAddress, escapes.
dn() { # NAME SUBJECT [extra req args]
  n=$1 subj=$2; shift 2
  openssl req -x509 -new -key "$W/ec-leaf.key" -subj "$subj" "$@" -days 1 -out "dn-$n.pem" 2>/dev/null
}
dn multivalued "/C=US/ST=WA/O=Trustgate Test/OU=Release+CN=release-bot" -multivalue-rdn
dn repeated-ou "/C=US/ST=WA/O=Trustgate Test/OU=A/OU=B/CN=x"
dn email "/C=US/ST=WA/O=Trustgate Test/CN=x/emailAddress=x@example.com"
dn escapes "/C=US/ST=WA/O=Acme\, Inc./CN=#1 \"quoted\" "
