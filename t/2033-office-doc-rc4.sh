#!/bin/sh
# 2033-office-doc-rc4: Word 97-2003 documents encrypted with CryptoAPI
# RC4 (and RC4 with MD5) and PowerPoint 97-2003 presentations encrypted
# with CryptoAPI RC4, built in the test (t/lib-offcrypt.py, to
# MS-OFFCRYPTO, MS-DOC and MS-PPT; msoffcrypto-tool confirms the
# password).  The password written in the body opens them: a macro
# .doc or .ppt is quarantined for its VBA, a clean one accepted, and
# none gets OFFICE_ENCRYPTED; a password not in the message leaves
# OFFICE_ENCRYPTED, which tags (a .ppt's VBA stays hidden then).
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
d=$(tmpdir 2033-office-doc-rc4)
F=$CORPUS/files
PY=/usr/bin/python3
default_config || bail "config"
$PY -c 'import olefile, msoffcrypto' 2> /dev/null ||
    bail "python3-olefile or python3-msoffcrypto-tool missing: run contrib/install-deps"
command -v gsf > /dev/null || bail "gsf missing: run contrib/install-deps"
[ -f "$F/SimpleMacro.doc" ] || bail "no corpus at $CORPUS"

# encrypt SCHEME SRC PASSWORD OUT: SCHEME cryptoapi or rc4 (see
# t/lib-offcrypt.py)
encrypt() {
	cp "$2" "$4" && chmod u+w "$4" &&
	    $PY "$LW_TOP/t/lib-offcrypt.py" doc "$1" "$3" "$4"
}
# ppt PASSWORD OBJECT OUT: a presentation whose ExOleObjStg holds
# OBJECT, CryptoAPI RC4 encrypted unless PASSWORD is "-"
ppt() {
	rm -rf "$d/ole" && mkdir -p "$d/ole" &&
	    $PY "$LW_TOP/t/lib-offcrypt.py" ppt "$1" "$2" "$d/ole" &&
	    ( cd "$d/ole" && gsf createole "$3" * > /dev/null 2>&1 )
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

# PowerPoint: the VBA project sits in an ExOleObjStg persist object,
# which encryption hides.
ppt - "$F/SimpleMacro.xls" "$d/plain.ppt" || bail "ppt"
out=$(scan "$d/plain.ppt" deck.ppt "See the slides.")
like "^quarantine .*OFFICE_VBA@2/deck.ppt/ExOleObjStg-1" "$out" \
    "the generated presentation, not encrypted: its VBA is found"
ppt 8462 "$F/SimpleMacro.xls" "$d/enc.ppt" || bail "ppt"
opens "$d/enc.ppt" 8462
ok $? "encrypted .ppt: msoffcrypto-tool opens the generated file with its password"
out=$(scan "$d/enc.ppt" deck.ppt "PW: 8462")
like "^quarantine .*OFFICE_VBA@2/deck.ppt/ExOleObjStg-1" "$out" \
    "encrypted .ppt, password in the body: decrypted, its VBA quarantines"
unlike "OFFICE_ENCRYPTED" "$out" "... opened: no OFFICE_ENCRYPTED"
out=$(scan "$d/enc.ppt" deck.ppt "PW: 0000")
like "^tag .*OFFICE_ENCRYPTED@2/deck.ppt" "$out" \
    "encrypted .ppt, wrong password: OFFICE_ENCRYPTED, tagged"
unlike "OFFICE_VBA" "$out" "... and its VBA stays hidden"
ppt 8462 "$F/simple.doc" "$d/clean.ppt" || bail "ppt"
out=$(scan "$d/clean.ppt" deck.ppt "PW: 8462")
like "^accept 0" "$out" "clean encrypted .ppt, password in the body: accepted"

rm -rf "$d"
done_testing
