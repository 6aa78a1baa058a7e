#!/usr/bin/python3
# t/lib-offcrypt.py: Office 97-2003 RC4 encryption for the tests, written
# from MS-OFFCRYPTO 2.3.5 (CryptoAPI RC4), 2.3.6 (RC4 with MD5), MS-DOC
# 2.2.6 and MS-PPT 2.3.7, independently of milter/rc4crypt.c.  Not a
# test itself.
#
#   lib-offcrypt.py doc SCHEME PASSWORD FILE
#	Encrypt the Word document FILE in place: SCHEME cryptoapi (version
#	4.2, 128-bit RC4 keys from SHA-1) or rc4 (1.1, MD5).  The
#	EncryptionHeader opens the Table stream; the WordDocument stream
#	after the FIB and the Table stream after the header are encrypted
#	in 512-byte blocks, as Word does; other streams stay plain.
#   lib-offcrypt.py ppt PASSWORD OBJECT DIR
#	Write the "Current User" and "PowerPoint Document" streams of a
#	presentation into DIR whose one persist object (id 1) is an
#	uncompressed ExOleObjStg record holding the file OBJECT; with a
#	PASSWORD other than "-", CryptoAPI RC4 encrypted: the object is
#	encrypted with the key of block 1, the CryptSession10Container
#	(id 2) holds the header.
import os
import struct
import sys
import hashlib


def rc4(key, data):
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 255
        s[i], s[j] = s[j], s[i]
    o = bytearray()
    i = j = 0
    for c in data:
        i = (i + 1) & 255
        j = (j + s[i]) & 255
        s[i], s[j] = s[j], s[i]
        o.append(c ^ s[(s[i] + s[j]) & 255])
    return bytes(o)


def cryptoapi(pw):
    """(EncryptionHeader, block key function) for CryptoAPI RC4."""
    salt, ver = os.urandom(16), os.urandom(16)
    h0 = hashlib.sha1(salt + pw.encode("utf-16-le")).digest()

    def key(b):
        return hashlib.sha1(h0 + struct.pack("<I", b)).digest()[:16]
    csp = "Microsoft Enhanced Cryptographic Provider v1.0\0"
    hdr = struct.pack("<IIIIIIII", 4, 0, 0x6801, 0x8004, 128, 1, 0, 0) + \
        csp.encode("utf-16-le")
    ev = rc4(key(0), ver + hashlib.sha1(ver).digest())
    info = struct.pack("<HHII", 4, 2, 4, len(hdr)) + hdr + \
        struct.pack("<I", 16) + salt + ev[:16] + struct.pack("<I", 20) + \
        ev[16:]
    return info, key


def md5rc4(pw):
    """(EncryptionHeader, block key function) for RC4 with MD5."""
    salt, ver = os.urandom(16), os.urandom(16)
    h = hashlib.md5(pw.encode("utf-16-le")).digest()[:5]
    base = hashlib.md5((h + salt) * 16).digest()[:5]

    def key(b):
        return hashlib.md5(base + struct.pack("<I", b)).digest()
    ev = rc4(key(0), ver + hashlib.md5(ver).digest())
    return struct.pack("<HH", 1, 1) + salt + ev, key


def crypt(key, data, start):
    o = bytearray(data)
    for b in range(start // 512, (len(o) + 511) // 512):
        lo, hi = max(b * 512, start), min(b * 512 + 512, len(o))
        ks = rc4(key(b), bytes(512))
        for p in range(lo, hi):
            o[p] ^= ks[p - b * 512]
    return bytes(o)


def doc(scheme, pw, path):
    import olefile
    info, key = (cryptoapi if scheme == "cryptoapi" else md5rc4)(pw)
    ole = olefile.OleFileIO(path, write_mode=True)
    wd = bytearray(ole.openstream("WordDocument").read())
    flags = struct.unpack("<H", wd[10:12])[0] | 0x0100
    wd[10:12] = struct.pack("<H", flags)
    wd[14:18] = struct.pack("<I", len(info))
    tname = "1Table" if flags & 0x0200 else "0Table"
    tbl = ole.openstream(tname).read()
    tbl = info + tbl[len(info):]
    ole.write_stream("WordDocument",
                     bytes(wd[:68]) + crypt(key, bytes(wd), 68)[68:])
    ole.write_stream(tname, info + crypt(key, tbl, len(info))[len(info):])
    ole.close()


def rec(ver, inst, typ, body):
    return struct.pack("<HHI", ver | inst << 4, typ, len(body)) + body


def ppt(pw, obj, outdir):
    obj = rec(0, 0, 0x1011, open(obj, "rb").read())
    doc = b""
    if pw != "-":
        info, key = cryptoapi(pw)
        obj = rc4(key(1), obj)
    offs = [0]
    doc += obj
    if pw != "-":
        offs.append(len(doc))
        doc += rec(0xF, 0, 0x2F14, info)
    pd = len(doc)
    doc += rec(0, 0, 0x1772, struct.pack("<I", 1 | len(offs) << 20) +
               b"".join(struct.pack("<I", o) for o in offs))
    ue = len(doc)
    body = struct.pack("<IHBBIIIIHH", 0x100, 0, 0, 3, 0, pd, 1,
                       len(offs) + 1, 1, 0)
    if pw != "-":
        body += struct.pack("<I", 2)
    doc += rec(0, 0, 0x0FF5, body)
    user = b"test"
    cu = rec(0, 0, 0x0FF6, struct.pack(
        "<IIIHHBBH", 0x14, 0xF3D1C4DF if pw != "-" else 0xE391C05F, ue,
        len(user), 0x03F4, 3, 0, 0) + user + struct.pack("<I", 8) +
        user.decode().encode("utf-16-le"))
    open(os.path.join(outdir, "Current User"), "wb").write(cu)
    open(os.path.join(outdir, "PowerPoint Document"), "wb").write(doc)


if __name__ == "__main__":
    if sys.argv[1] == "doc":
        doc(*sys.argv[2:5])
    elif sys.argv[1] == "ppt":
        ppt(*sys.argv[2:5])
    else:
        sys.exit("usage: lib-offcrypt.py doc|ppt ...")
