#!/bin/sh
# 2032-office-encrypted: ECMA-376 encrypted OOXML built in the test
# (python3-cryptography, to MS-OFFCRYPTO; each scheme checked against
# msoffcrypto-tool's decryption) and packed with gsf createole: agile
# (SHA-512, AES-256-CBC per 4096-byte segment) and standard (AES-128
# and AES-256 ECB, 50,000 SHA-1 rounds).  A macro .xlsm or .docm
# encrypted with the default password "VelvetSweatshop" or with the
# password written in the body is decrypted and quarantined for its
# VBA; a clean .xlsx or .docx with its password in the body is
# accepted; an unknown password leaves OFFICE_ENCRYPTED, which tags;
# a spinCount no candidate can finish is not tried (logged), one of
# 1,000,000 stops at the key derivation budget (logged) instead of
# running for seconds, one above the spec's maximum is malformed.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
d=$(tmpdir 2032-office-encrypted)
F=$CORPUS/files
PY=/usr/bin/python3
default_config || bail "config"
command -v gsf > /dev/null || bail "gsf missing: run contrib/install-deps"
$PY -c 'import cryptography, msoffcrypto' 2> /dev/null ||
    bail "python3-cryptography or python3-msoffcrypto-tool missing: run contrib/install-deps"
[ -f "$F/SimpleMacro.xlsm" ] || bail "no corpus at $CORPUS"

# encrypt SCHEME SRC PASSWORD OUT [SPIN]: SCHEME agile (SHA-512,
# AES-256; spinCount 1000 by default, so that a loaded machine stays
# inside the key derivation budget), std128 or std256 (version 3.2
# and 4.2 standard encryption)
encrypt() {
	rm -rf "$d/ole" && mkdir -p "$d/ole"
	$PY - "$1" "$2" "$3" "$d/ole" "${5:-1000}" <<'PY' || return 1
import os, sys, hashlib, struct, base64
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
scheme, src, pw, outdir, spin = sys.argv[1:5] + [int(sys.argv[5])]
def H(*p, h=hashlib.sha512):
    h = h()
    for x in p:
        h.update(x)
    return h.digest()
def enc(key, iv, data):
    m = modes.CBC(iv) if iv is not None else modes.ECB()
    c = Cipher(algorithms.AES(key), m).encryptor()
    return c.update(data) + c.finalize()
b64 = lambda b: base64.b64encode(b).decode()
pkg = open(src, "rb").read()
u16 = pw.encode("utf-16-le")
if scheme.startswith("std"):
    bits = int(scheme[3:])
    salt, ver = os.urandom(16), os.urandom(16)
    h = H(salt, u16, h=hashlib.sha1)
    for i in range(50000):
        h = H(struct.pack("<I", i), h, h=hashlib.sha1)
    hf = H(h, struct.pack("<I", 0), h=hashlib.sha1)
    x1 = H(bytes(b ^ 0x36 for b in hf) + b"\x36" * 44, h=hashlib.sha1)
    x2 = H(bytes(b ^ 0x5c for b in hf) + b"\x5c" * 44, h=hashlib.sha1)
    key = (x1 + x2)[:bits // 8]
    csp = "Microsoft Enhanced RSA and AES Cryptographic Provider\0"
    hdr = struct.pack("<IIIIIIII", 0x24, 0, {128: 0x660e, 256: 0x6610}[bits],
        0x8004, bits, 0x18, 0, 0) + csp.encode("utf-16-le")
    verifier = struct.pack("<I", 16) + salt + enc(key, None, ver) + \
        struct.pack("<I", 20) + enc(key, None, H(ver, h=hashlib.sha1) + b"\0" * 12)
    info = struct.pack("<HHII", 3 if bits == 128 else 4, 2, 0x24, len(hdr)) + \
        hdr + verifier
    out = struct.pack("<Q", len(pkg)) + enc(key, None, pkg + b"\0" * (-len(pkg) % 16))
    open(os.path.join(outdir, "EncryptionInfo"), "wb").write(info)
    open(os.path.join(outdir, "EncryptedPackage"), "wb").write(out)
    sys.exit(0)
secret, kds, eks = os.urandom(32), os.urandom(16), os.urandom(16)
out = struct.pack("<Q", len(pkg))
for i, off in enumerate(range(0, len(pkg), 4096)):
    seg = pkg[off:off + 4096]
    seg += b"\0" * (-len(seg) % 16)
    out += enc(secret, H(kds, struct.pack("<I", i))[:16], seg)
h = H(eks, u16)
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
	if [ -n "${LIE:-}" ]; then	# StreamSize claims 2^62 bytes
		printf '\000\000\000\000\000\000\000\100' |
		    dd of="$d/ole/EncryptedPackage" bs=8 count=1 conv=notrunc \
		    2> /dev/null || return 1
	fi
	( cd "$d/ole" && gsf createole "$4" * > /dev/null 2>&1 )
}
# decrypts FILE PASSWORD ORIGINAL: msoffcrypto-tool gives ORIGINAL back
decrypts() {
	$PY -c '
import io, sys, msoffcrypto
f = msoffcrypto.OfficeFile(open(sys.argv[1], "rb"))
f.load_key(password=sys.argv[2])
o = io.BytesIO()
f.decrypt(o)
sys.exit(o.getvalue()[:len(open(sys.argv[3], "rb").read())] !=
    open(sys.argv[3], "rb").read())' "$@"
}
scan() {	# scan FILE NAME BODY
	attach "$@" > "$d/m.eml" || bail "mail"
	verdict "$d/m.eml"
}

encrypt agile "$F/SimpleMacro.xlsm" VelvetSweatshop "$d/vs.xlsm" || bail "encrypt"
decrypts "$d/vs.xlsm" VelvetSweatshop "$F/SimpleMacro.xlsm"
ok $? "agile: the generated file decrypts with msoffcrypto-tool to the original"
out=$(scan "$d/vs.xlsm" book.xlsm "See the figures.")
like "^quarantine .*OFFICE_VBA@2/book.xlsm/EncryptedPackage/xl/vbaProject.bin" "$out" \
    "VelvetSweatshop .xlsm: decrypted, its VBA quarantines"
unlike "OFFICE_ENCRYPTED" "$out" "... and no OFFICE_ENCRYPTED once opened"

encrypt agile "$F/SimpleMacro.xlsm" 8462 "$d/pw.xlsm" || bail "encrypt"
out=$(scan "$d/pw.xlsm" book.xlsm "Password: 8462")
like "^quarantine .*OFFICE_VBA@2/book.xlsm/EncryptedPackage" "$out" \
    "password in the body: decrypted, its VBA quarantines"
like "opened with a password candidate" "$(cat "$d/err")" "... and logged"

encrypt agile "$F/Formatting.xlsx" 8462 "$d/clean.xlsx" || bail "encrypt"
out=$(scan "$d/clean.xlsx" report.xlsx "Password: 8462")
like "^accept 0" "$out" "clean .xlsx with its password in the body: accepted"

out=$(scan "$d/pw.xlsm" book.xlsm "Password: 1111")
like "^tag .*OFFICE_ENCRYPTED@2/book.xlsm" "$out" \
    "unknown password: OFFICE_ENCRYPTED, tagged"

encrypt agile "$F/SimpleMacro.docm" 8462 "$d/pw.docm" || bail "encrypt"
out=$(scan "$d/pw.docm" letter.docm "Password: 8462")
like "^quarantine .*OFFICE_VBA@2/letter.docm/EncryptedPackage" "$out" \
    "agile .docm, password in the body: its VBA quarantines"
out=$(scan "$d/pw.docm" letter.docm "Password: 4711")
like "^tag .*OFFICE_ENCRYPTED@2/letter.docm" "$out" \
    "agile .docm, wrong password in the body: tagged, not accepted"

# Standard encryption: AES-128 (version 3.2) and AES-256 (4.2).
encrypt std128 "$F/SimpleMacro.docm" 8462 "$d/std.docm" || bail "encrypt"
decrypts "$d/std.docm" 8462 "$F/SimpleMacro.docm"
ok $? "standard: the generated file decrypts with msoffcrypto-tool to the original"
out=$(scan "$d/std.docm" letter.docm "Kennwort: 8462")
like "^quarantine .*OFFICE_VBA@2/letter.docm/EncryptedPackage/word/vbaProject.bin" \
    "$out" "standard AES-128 .docm, password in the body: its VBA quarantines"
like "[(]standard encryption[)] opened with a password candidate" \
    "$(cat "$d/err")" "... and logged"
out=$(scan "$d/std.docm" letter.docm "Kennwort: 0000")
like "^tag .*OFFICE_ENCRYPTED@2/letter.docm" "$out" \
    "standard .docm, wrong password: OFFICE_ENCRYPTED, tagged"
encrypt std256 "$F/SimpleMacro.xlsm" VelvetSweatshop "$d/std.xlsm" ||
    bail "encrypt"
out=$(scan "$d/std.xlsm" book.xlsm "See the figures.")
like "^quarantine .*OFFICE_VBA@2/book.xlsm/EncryptedPackage/xl/vbaProject.bin" \
    "$out" "standard AES-256 VelvetSweatshop .xlsm: its VBA quarantines"
encrypt std128 "$F/footnotes.docx" "a1b2c3" "$d/std.docx" || bail "encrypt"
out=$(scan "$d/std.docx" notes.docx "The password is a1b2c3")
like "^accept 0" "$out" "standard clean .docx, password in the body: accepted"

encrypt agile "$F/SimpleMacro.xlsm" 8462 "$d/spin.xlsm" 1000000 || bail "encrypt"
out=$(scan "$d/spin.xlsm" book.xlsm "Password: 8462")
like "OFFICE_ENCRYPTED@2/book.xlsm" "$out" "spinCount 1,000,000: OFFICE_ENCRYPTED"
like "budget spent, [0-9]+ password candidates not tried" "$(cat "$d/err")" \
    "... the derivation stopped at the budget and says so"

encrypt agile "$F/SimpleMacro.xlsm" 8462 "$d/spin.xlsm" 10000000 || bail "encrypt"
out=$(scan "$d/spin.xlsm" book.xlsm "Password: 8462")
like "OFFICE_ENCRYPTED@2/book.xlsm" "$out" "spinCount ten million: OFFICE_ENCRYPTED"
like "spinCount 10000000 above 1000000, password candidates not tried" \
    "$(cat "$d/err")" "... not even tried, and says so"
encrypt agile "$F/SimpleMacro.xlsm" 8462 "$d/spin.xlsm" 20000000 || bail "encrypt"
out=$(scan "$d/spin.xlsm" book.xlsm "Password: 8462")
like "^tag .*OFFICE_MALFORMED@2/book.xlsm" "$out" \
    "spinCount above the spec's 10,000,000: OFFICE_MALFORMED ..."
like "OFFICE_ENCRYPTED@2/book.xlsm" "$out" "... and OFFICE_ENCRYPTED: tagged"

# Memory bound (memlimited, t/lib.sh): a package claiming 2^62 bytes,
# and one that decrypts to a zip of 256 MiB of zeros (analysed as any
# attachment: its entry is cut).
RUN=memlimited
LIE=1 encrypt std128 "$F/SimpleMacro.xlsm" VelvetSweatshop "$d/lie.xlsm" ||
    bail "encrypt"
out=$(scan "$d/lie.xlsm" lie.xlsm "See the figures.")
like "^quarantine .*OFFICE_VBA@2/lie.xlsm/EncryptedPackage" "$out" \
    "StreamSize of 2^62: under ulimit -v, what is there is decrypted and analysed"
$PY - "$d/zeros.xlsx" <<'PY' || bail "zeros.xlsx"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("zeros.bin", "w", force_zip64=True) as f:
        block = bytes(1 << 20)
        for i in range(256):
            f.write(block)
PY
encrypt agile "$d/zeros.xlsx" VelvetSweatshop "$d/zeros.enc.xlsx" ||
    bail "encrypt"
out=$(scan "$d/zeros.enc.xlsx" zeros.xlsx "See the figures.")
like "ARCHIVE_ENTRY_CUT@2/zeros.xlsx/EncryptedPackage/zeros.bin" \
    "$out" "256 MiB of zeros in a package: under ulimit -v, the entry is cut"

rm -rf "$d"
done_testing
