#!/bin/sh
# 2033-office-doc-rc4: Word 97-2003 documents encrypted with CryptoAPI
# RC4 (and RC4 with MD5), built in the test to MS-OFFCRYPTO 2.3.5/2.3.6
# and MS-DOC 2.2.6 from corpus documents (python3-olefile rewrites the
# streams in place; msoffcrypto-tool confirms the password).  The
# password written in the body opens it: a macro .doc is quarantined
# for its VBA, a clean one accepted, and neither gets OFFICE_ENCRYPTED;
# a password not in the message leaves OFFICE_ENCRYPTED, which tags.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
d=$(tmpdir 2033-office-doc-rc4)
F=$CORPUS/files
PY=/usr/bin/python3
default_config || bail "config"
$PY -c 'import olefile, msoffcrypto' 2> /dev/null ||
    bail "python3-olefile or python3-msoffcrypto-tool missing: run contrib/install-deps"
[ -f "$F/SimpleMacro.doc" ] || bail "no corpus at $CORPUS"

# encrypt SCHEME SRC PASSWORD OUT: SCHEME cryptoapi (version 4.2, RC4
# 128-bit keys from SHA-1) or rc4 (1.1, MD5); the WordDocument stream
# after the FIB and the Table stream after the header are encrypted in
# 512-byte blocks, as Word does.
encrypt() {
	cp "$2" "$4" && $PY - "$1" "$3" "$4" <<'PY'
import os, sys, struct, hashlib, olefile
scheme, pw, out = sys.argv[1:4]
def rc4(key, data):
    s = list(range(256)); j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 255
        s[i], s[j] = s[j], s[i]
    o = bytearray(); i = j = 0
    for c in data:
        i = (i + 1) & 255; j = (j + s[i]) & 255
        s[i], s[j] = s[j], s[i]
        o.append(c ^ s[(s[i] + s[j]) & 255])
    return bytes(o)
u16 = pw.encode("utf-16-le")
salt, ver = os.urandom(16), os.urandom(16)
if scheme == "cryptoapi":
    h0 = hashlib.sha1(salt + u16).digest()
    key = lambda b: hashlib.sha1(h0 + struct.pack("<I", b)).digest()[:16]
    csp = "Microsoft Enhanced Cryptographic Provider v1.0\0".encode("utf-16-le")
    hdr = struct.pack("<IIIIIIII", 4, 0, 0x6801, 0x8004, 128, 1, 0, 0) + csp
    ev = rc4(key(0), ver + hashlib.sha1(ver).digest())
    info = struct.pack("<HHII", 4, 2, 4, len(hdr)) + hdr + \
        struct.pack("<I", 16) + salt + ev[:16] + struct.pack("<I", 20) + ev[16:]
else:
    h = hashlib.md5(u16).digest()[:5]
    base = hashlib.md5((h + salt) * 16).digest()[:5]
    key = lambda b: hashlib.md5(base + struct.pack("<I", b)).digest()
    ev = rc4(key(0), ver + hashlib.md5(ver).digest())
    info = struct.pack("<HH", 1, 1) + salt + ev
def crypt(data, start):
    o = bytearray(data)
    for b in range(start // 512, (len(o) + 511) // 512):
        lo, hi = max(b * 512, start), min(b * 512 + 512, len(o))
        ks = rc4(key(b), bytes(512))
        for p in range(lo, hi):
            o[p] ^= ks[p - b * 512]
    return bytes(o)
ole = olefile.OleFileIO(out, write_mode=True)
wd = bytearray(ole.openstream("WordDocument").read())
flags = struct.unpack("<H", wd[10:12])[0] | 0x0100
wd[10:12] = struct.pack("<H", flags)
wd[14:18] = struct.pack("<I", len(info))
tname = "1Table" if flags & 0x0200 else "0Table"
tbl = ole.openstream(tname).read()
tbl = info + tbl[len(info):]
ole.write_stream("WordDocument", bytes(wd[:68]) + crypt(bytes(wd), 68)[68:])
ole.write_stream(tname, info + crypt(tbl, len(info))[len(info):])
ole.close()
PY
}
# opens FILE PASSWORD: msoffcrypto-tool accepts the password
opens() {
	$PY -c '
import sys, msoffcrypto
f = msoffcrypto.OfficeFile(open(sys.argv[1], "rb"))
f.load_key(password=sys.argv[2])' "$@" 2> /dev/null
}
scan() {	# scan FILE NAME BODY
	attach "$@" application/msword > "$d/m.eml" || bail "mail"
	verdict "$d/m.eml"
}

encrypt cryptoapi "$F/SimpleMacro.doc" 8462 "$d/macro.doc" || bail "encrypt"
opens "$d/macro.doc" 8462
ok $? "CryptoAPI RC4: msoffcrypto-tool opens the generated file with its password"
opens "$d/macro.doc" 8463
ok $((! $?)) "... and refuses another"
out=$(scan "$d/macro.doc" letter.doc "Passwort: 8462")
like "^quarantine .*OFFICE_VBA@2/letter.doc" "$out" \
    "CryptoAPI RC4 .doc with a macro, password in the body: OFFICE_VBA, quarantined"
unlike "OFFICE_ENCRYPTED" "$out" "... opened: no OFFICE_ENCRYPTED"
like "encrypted Word document 2/letter.doc [(]CryptoAPI RC4[)] opened with a password candidate" \
    "$(cat "$d/err")" "... and the log says so"
out=$(scan "$d/macro.doc" letter.doc "Passwort: 1234")
like "^quarantine .*OFFICE_ENCRYPTED@2/letter.doc" "$out" \
    "wrong password: OFFICE_ENCRYPTED (and its plain VBA storage still quarantines)"

encrypt cryptoapi "$F/simple.doc" a1b2c3 "$d/clean.doc" || bail "encrypt"
out=$(scan "$d/clean.doc" report.doc "The password is a1b2c3")
like "^accept 0" "$out" "clean CryptoAPI RC4 .doc, password in the body: accepted"
out=$(scan "$d/clean.doc" report.doc "The password follows by phone.")
like "^tag .*OFFICE_ENCRYPTED@2/report.doc" "$out" \
    "clean .doc, password not in the message: OFFICE_ENCRYPTED, tagged"

encrypt rc4 "$F/simple.doc" a1b2c3 "$d/rc4.doc" || bail "encrypt"
opens "$d/rc4.doc" a1b2c3
ok $? "RC4 (MD5): msoffcrypto-tool opens the generated file with its password"
out=$(scan "$d/rc4.doc" report.doc "The password is a1b2c3")
like "^accept 0" "$out" "clean RC4 .doc, password in the body: accepted"
out=$(scan "$d/rc4.doc" report.doc "See attached.")
like "^tag .*OFFICE_ENCRYPTED@2/report.doc" "$out" \
    "RC4 .doc, no password: OFFICE_ENCRYPTED, tagged"

rm -rf "$d"
done_testing
