#!/bin/sh
# 2032-office-encrypted: ECMA-376 agile-encrypted OOXML built in the
# test (python3-cryptography; checked against msoffcrypto-tool's
# decryption) and packed with gsf createole.  A macro .xlsm encrypted
# with the default password "VelvetSweatshop" or with the password
# written in the body is decrypted and quarantined for its VBA; a clean
# .xlsx with its password in the body is accepted; an unknown password
# leaves OFFICE_ENCRYPTED; a spinCount of ten million stops at the key
# derivation budget (logged) instead of running for seconds.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
d=$(tmpdir 2032-office-encrypted)
F=$CORPUS/files
PY=/usr/bin/python3
command -v gsf > /dev/null || bail "gsf missing: run contrib/install-deps"
$PY -c 'import cryptography, msoffcrypto' 2> /dev/null ||
    bail "python3-cryptography or python3-msoffcrypto-tool missing: run contrib/install-deps"
[ -f "$F/SimpleMacro.xlsm" ] || bail "no corpus at $CORPUS"
mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' > "$d/lurewall.yaml"

# encrypt SRC PASSWORD OUT [SPIN]: agile encryption (SHA-512, AES-256;
# spinCount 1000 by default, so that a loaded machine stays inside the
# key derivation budget)
encrypt() {
	rm -rf "$d/ole" && mkdir -p "$d/ole"
	$PY - "$1" "$2" "$d/ole" "${4:-1000}" <<'PY' || return 1
import os, sys, hashlib, struct, base64
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
src, pw, outdir, spin = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def H(*p):
    h = hashlib.sha512()
    for x in p:
        h.update(x)
    return h.digest()
def enc(key, iv, data):
    c = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return c.update(data) + c.finalize()
b64 = lambda b: base64.b64encode(b).decode()
pkg = open(src, "rb").read()
secret, kds, eks = os.urandom(32), os.urandom(16), os.urandom(16)
out = struct.pack("<Q", len(pkg))
for i, off in enumerate(range(0, len(pkg), 4096)):
    seg = pkg[off:off + 4096]
    seg += b"\0" * (-len(seg) % 16)
    out += enc(secret, H(kds, struct.pack("<I", i))[:16], seg)
h = H(eks, pw.encode("utf-16-le"))
for i in range(min(spin, 100000)):
    h = H(struct.pack("<I", i), h)
bk = lambda b: H(h, b)[:32]
vin = os.urandom(16)
ev = enc(bk(bytes.fromhex("fea7d2763b4b9e79")), eks, vin)
evh = enc(bk(bytes.fromhex("d7aa0f6d3061344e")), eks, H(vin))
ek = enc(bk(bytes.fromhex("146e0be7abacd0d6")), eks, secret)
attrs = ('saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
    'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512"')
xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    '<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption" '
    'xmlns:p="http://schemas.microsoft.com/office/2006/keyEncryptor/password">'
    '<keyData %s saltValue="%s"/>'
    '<dataIntegrity encryptedHmacKey="" encryptedHmacValue=""/>'
    '<keyEncryptors><keyEncryptor uri="http://schemas.microsoft.com/office/2006/keyEncryptor/password">'
    '<p:encryptedKey spinCount="%d" %s saltValue="%s" encryptedVerifierHashInput="%s" '
    'encryptedVerifierHashValue="%s" encryptedKeyValue="%s"/>'
    '</keyEncryptor></keyEncryptors></encryption>') % (attrs, b64(kds), spin,
    attrs, b64(eks), b64(ev), b64(evh), b64(ek))
open(os.path.join(outdir, "EncryptionInfo"), "wb").write(
    struct.pack("<HHI", 4, 4, 0x40) + xml.encode())
open(os.path.join(outdir, "EncryptedPackage"), "wb").write(out)
PY
	( cd "$d/ole" && gsf createole "$3" * > /dev/null 2>&1 )
}
mail() {
	$PY - "$@" <<'PY'
import sys, base64
b = base64.encodebytes(open(sys.argv[1], "rb").read()).decode()
sys.stdout.write("From: a@example.com\r\nTo: b@example.net\r\n"
    "Subject: figures\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
    "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + sys.argv[3] +
    "\r\n--XX\r\nContent-Type: application/vnd.ms-excel; name=\"" + sys.argv[2] +
    "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b + "--XX--\r\n")
PY
}
scan() {	# scan FILE NAME BODY
	mail "$@" > "$d/m.eml" || bail "mail"
	bounded "$LUREWALL" -v scan -c "$d/lurewall.yaml" --json "$d/m.eml" \
	    2> "$d/err" | $PY -c '
import json, sys
r = json.load(sys.stdin)
print(r["action"], r["score"], " ".join(f["rule"] + "@" + f["part"]
    for f in r["findings"]))'
}

encrypt "$F/SimpleMacro.xlsm" VelvetSweatshop "$d/vs.xlsm" || bail "encrypt"
$PY -c '
import io, sys, msoffcrypto
f = msoffcrypto.OfficeFile(open(sys.argv[1], "rb"))
f.load_key(password="VelvetSweatshop")
o = io.BytesIO()
f.decrypt(o)
sys.exit(o.getvalue() != open(sys.argv[2], "rb").read())' "$d/vs.xlsm" "$F/SimpleMacro.xlsm"
ok $? "the generated file decrypts with msoffcrypto-tool to the original"
out=$(scan "$d/vs.xlsm" book.xlsm "See the figures.")
like "^quarantine .*OFFICE_VBA@2/book.xlsm/EncryptedPackage/xl/vbaProject.bin" "$out" \
    "VelvetSweatshop .xlsm: decrypted, its VBA quarantines"
unlike "OFFICE_ENCRYPTED" "$out" "... and no OFFICE_ENCRYPTED once opened"

encrypt "$F/SimpleMacro.xlsm" 8462 "$d/pw.xlsm" || bail "encrypt"
out=$(scan "$d/pw.xlsm" book.xlsm "Password: 8462")
like "^quarantine .*OFFICE_VBA@2/book.xlsm/EncryptedPackage" "$out" \
    "password in the body: decrypted, its VBA quarantines"

encrypt "$F/Formatting.xlsx" 8462 "$d/clean.xlsx" || bail "encrypt"
out=$(scan "$d/clean.xlsx" report.xlsx "Password: 8462")
like "^accept 0" "$out" "clean .xlsx with its password in the body: accepted"

out=$(scan "$d/pw.xlsm" book.xlsm "Password: 1111")
like "OFFICE_ENCRYPTED@2/book.xlsm" "$out" "unknown password: OFFICE_ENCRYPTED"

encrypt "$F/SimpleMacro.xlsm" 8462 "$d/spin.xlsm" 10000000 || bail "encrypt"
out=$(scan "$d/spin.xlsm" book.xlsm "Password: 8462")
like "OFFICE_ENCRYPTED@2/book.xlsm" "$out" "spinCount ten million: OFFICE_ENCRYPTED"
like "password candidates not tried" "$(cat "$d/err")" \
    "... the derivation stopped at the budget and says so"

rm -rf "$d"
done_testing
