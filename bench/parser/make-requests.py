#!/usr/bin/python3
"""make-requests.py — a benchmark corpus of realistic privacy requests, in a
Maildir (DIR/Maildir/{cur,new,tmp}), for bench/parser/run.

    make-requests.py DIR [COUNT]        (default 2,000 messages, about 1.2 GB)

Bodies are the labelled corpus's request texts (tests/corpus/make-corpus.py)
in the encodings Japanese and English clients use (ISO-2022-JP 7bit,
Shift_JIS 8bit, UTF-8 base64 with an HTML alternative, plain ASCII); about
60% carry one or two attachments of 50 KB to 5 MB (photos and scans: JPEG,
PNG, HEIC and PDF headers in front of incompressible bytes, base64), the
rest none.  Composed with Python's email package; deterministic (seeded).
Not part of the repository's data: it is written under /tmp.
"""

import importlib.util
import os
import random
import sys

from email import encoders
from email.generator import BytesGenerator
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "corpus", os.path.join(HERE, "..", "..", "tests", "corpus", "make-corpus.py"))
corpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(corpus)
fx = corpus.fx

HEADS = [
    ("image/jpeg", "jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
    ("image/png", "png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x04\x00\x00\x00\x03\x00\x08\x02\x00\x00\x00"),
    ("image/heic", "HEIC", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"),
    ("application/pdf", "pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"),
]
NAMES_JA = ["運転免許証", "マイナンバーカード表面", "パスポート", "健康保険証", "在留カード", "住民票"]
NAMES_EN = ["drivers_license", "passport", "id_card", "residence_card", "scan"]


def attachment_size(rnd):
    # phone photos and scans: mostly small, a long tail up to 5 MB
    if rnd.random() < 0.72:
        return rnd.randrange(50_000, 400_000)
    return int(400_000 * (12.5 ** rnd.random()))  # 400 KB – 5 MB, log-uniform


def message(i, rnd):
    ja = rnd.random() < 0.6
    reqs = corpus.JA_REQUESTS if ja else corpus.EN_REQUESTS
    types, subject, body = reqs[rnd.randrange(len(reqs))]
    sender = (corpus.JA if ja else corpus.EN)[rnd.randrange(5 if ja else 3)]
    n_att = 0
    r = rnd.random()
    if r < 0.42:
        n_att = 1
    elif r < 0.60:
        n_att = 2
    files = []
    for k in range(n_att):
        ctype, ext, head = HEADS[rnd.randrange(len(HEADS))]
        size = attachment_size(rnd)
        data = head + rnd.randbytes(size - len(head))
        stem = (NAMES_JA if ja else NAMES_EN)[rnd.randrange(len(NAMES_JA if ja else NAMES_EN))]
        files.append((data, ctype, "%s_%d.%s" % (stem, k + 1, ext)))
    style = rnd.randrange(4) if ja else 2 + rnd.randrange(2)
    name = "bench-%05d" % i
    req = (types, subject, body)
    if style == 0:
        return corpus.outlook_ja(name, req, sender, i, files=files)
    if style == 1:
        return corpus.carrier(name, req, sender, i, files=files)
    if style == 2:
        return corpus.gmail(name, req, sender, i, files=files, lang="ja" if ja else "en")
    return corpus.thunderbird(name, req, sender, i, files=files, cset="utf-8",
                              lang="ja" if ja else "en", style="rfc2231")


def big_message(path, size=50 << 20):
    """One request with a 50 MB attachment, for the memory ceiling."""
    rnd = random.Random(50)
    data = HEADS[0][2] + rnd.randbytes(size - len(HEADS[0][2]))
    raw = corpus.gmail("bench-big", corpus.JA_REQUESTS[0], corpus.JA[0], 1,
                       files=[(data, "image/jpeg", "運転免許証.jpg")])
    with open(path, "wb") as f:
        f.write(raw)


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    rnd = random.Random(2026)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(out, "Maildir", sub), exist_ok=True)
    total = 0
    for i in range(count):
        raw = message(i, rnd)
        path = os.path.join(out, "Maildir", "cur", "1795000000.%05d.bench:2,S" % i)
        with open(path, "wb") as f:
            f.write(raw)
        total += len(raw)
    big_message(os.path.join(out, "big-50mb.eml"))
    print("make-requests: %d messages, %.1f MB in %s/Maildir/cur" % (count, total / 1e6, out))


if __name__ == "__main__":
    main()
