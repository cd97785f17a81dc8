#!/usr/bin/python3
"""bench/fetch — fetch-to-ticket throughput and memory of `privacy-inbox
fetch --once` against a real Dovecot on loopback, next to mbsync (isync)
downloading the same mailbox into an empty Maildir with fsync off, in the
same run.

    /usr/bin/python3 bench/fetch/run.py [--build build] [--messages 2000]
        [--size 600000] [--batch 50] [--repeat 1] [--no-mbsync] [--keep]

    make BUILD=build bench-fetch            # the 2,000 × ~600 KB (1.2 GB) run
    ... --compare before=/tmp/old/privacy-inbox   # another build, same mailbox

--size is each message's size (a Japanese request with a JPEG-typed
attachment of random bytes, so every message is parsed, its identity
document decoded and stored).  Other shapes of interest:
    --messages 10000 --size 5000     a 10,000-message backlog (RSS must stay flat)
    --messages 1 --size 50000000     one 50 MB attachment (RSS must stay flat)
Both programs speak plain IMAP on 127.0.0.1 (no TLS, so the figures compare
the clients, not the ciphers).  privacy-inbox runs with
processed_action = flag so the mailbox stays the same for every program and
repeat; its database and spool are durably committed (fsync on).  Peak RSS
comes from GNU time (%M).  Prints one line per program and run, then a summary.
Needs isync (mbsync), which it installs with apt-get when missing (root),
as only this benchmark uses it.
"""
import argparse
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from tests.lib.dovecot import Dovecot  # noqa: E402

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")


def make_message(i, size, payload):
    import base64
    body_text = ("個人情報の開示を請求します。本人確認書類として運転免許証の写しを添付します。\n"
                 "よろしくお願いいたします。\n").encode("utf-8")
    header = (f"From: Requester {i} <req{i}@example.org>\r\n"
              f"To: privacy@example.co.jp\r\n"
              f"Subject: =?UTF-8?B?{base64.b64encode('開示請求'.encode()).decode()}?= {i}\r\n"
              f"Date: Fri, 20 Nov 2026 10:00:00 +0900\r\n"
              f"Message-ID: <bench-{i}@example.org>\r\n"
              f"MIME-Version: 1.0\r\n"
              f"Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n").encode()
    text = (f"--b{i}\r\nContent-Type: text/plain; charset=UTF-8\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n").encode() + \
        base64.encodebytes(body_text).replace(b"\n", b"\r\n")
    raw_len = max(1000, (size - len(header) - len(text) - 300) * 3 // 4)
    blob = JPEG + i.to_bytes(8, "big") + payload[:raw_len]
    att = (f"\r\n--b{i}\r\nContent-Type: image/jpeg; name=\"license-{i}.jpg\"\r\n"
           f"Content-Disposition: attachment; filename=\"license-{i}.jpg\"\r\n"
           f"Content-Transfer-Encoding: base64\r\n\r\n").encode() + \
        base64.encodebytes(blob).replace(b"\n", b"\r\n") + f"--b{i}--\r\n".encode()
    return header + text + att


def fill_maildir(dovecot, n, size):
    """Write N messages straight into the Maildir (APPEND would take long),
    then let Dovecot index them once."""
    maildir = os.path.join(dovecot.dir, "mail", dovecot.user, "Maildir")
    new = os.path.join(maildir, "new")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    payload = os.urandom(size)
    owner = pwd.getpwnam("mail") if os.geteuid() == 0 else None
    total = 0
    for i in range(n):
        raw = make_message(i, size, payload)
        total += len(raw)
        path = os.path.join(new, f"{1700000000 + i}.M{i}P1.bench")
        with open(path, "wb") as f:
            f.write(raw)
        if owner:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    if owner:
        for dirpath, dirs, _ in os.walk(os.path.join(dovecot.dir, "mail")):
            os.chown(dirpath, owner.pw_uid, owner.pw_gid)
    conn = dovecot.imap()
    conn.select("INBOX")
    conn.logout()
    return total


def run_measured(argv, env=None, cwd=None):
    """Run ARGV; return (seconds, peak RSS in KiB, exit status, stderr tail)."""
    # GNU time's %M: the program's own peak (a fork of this Python process
    # would start with Python's resident pages).
    rss_file = tempfile.NamedTemporaryFile(prefix="rss-", delete=False)
    rss_file.close()
    start = time.monotonic()
    err = tempfile.TemporaryFile()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + argv, env=env,
                          cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
    elapsed = time.monotonic() - start
    with open(rss_file.name) as f:
        lines = f.read().split()
    os.unlink(rss_file.name)
    rss = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    err.seek(0)
    return elapsed, rss, proc.returncode, err.read()[-2000:].decode(errors="replace")


def settle(dovecot):
    """Between rows, untimed: every row starts from the same state.

    - Every dirty page is written back, so that no row pays for the previous
      one's write-back (mbsync with fsync off leaves ~1 GB dirty, which the
      next row's syncfs would otherwise flush).
    - Rows do not delete each other's output: ext4 without a journal (as
      here) skips inodes freed in the last 60 seconds when it allocates one
      (recently_deleted()), and scanning past thousands of them made
      whichever row came after a deletion up to 15% slower.
    - As root, the page cache is dropped and the mailbox read back in: in
      this VM, page cache growing into memory never touched before costs
      about twice the system time (0.9 s against 2.0 s for the same
      500-message fetch), so without this every row is slower than the one
      before it.  Without root, a warning says the rows are not comparable
      in order."""
    os.sync()
    if os.geteuid() == 0:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        for dirpath, _, files in os.walk(os.path.join(dovecot.dir, "mail")):
            for name in files:
                with open(os.path.join(dirpath, name), "rb") as f:
                    while f.read(1 << 20):
                        pass
    time.sleep(1)


_rows = 0


def row_dir(work, what):
    """A fresh folder for one row's output, kept until the end of the run."""
    global _rows
    _rows += 1
    path = os.path.join(work, f"{what}-{_rows}")
    os.makedirs(path)
    return path


def bench_mbsync(d, work, n, nbytes):
    target = row_dir(work, "mbsync-maildir")
    rc = os.path.join(work, "mbsyncrc")
    with open(rc, "w") as f:
        f.write(f"""FSync no

IMAPAccount bench
Host 127.0.0.1
Port {d.imap_port}
User {d.user}
Pass {d.password}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path {target}/
Inbox {target}/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
""")
    t, rss, code, err = run_measured(["mbsync", "-q", "-c", rc, "bench"])
    if code != 0:
        raise SystemExit(f"mbsync failed ({code}): {err}")
    got = len(os.listdir(os.path.join(target, "INBOX", "new"))) + \
        len(os.listdir(os.path.join(target, "INBOX", "cur")))
    if code != 0 or got != n:
        raise SystemExit(f"mbsync failed ({code}, {got} of {n}): {err}")
    return t, rss


def bench_privacy_inbox(d, work, binary, n, batch):
    state = row_dir(work, "pi-state")
    config = os.path.join(work, "bench.ini")
    with open(os.path.join(work, "imap-password"), "w") as f:
        f.write(d.password + "\n")
    with open(config, "w") as f:
        f.write(f"""[imap]
host = 127.0.0.1
port = {d.imap_port}
security = none
user = {d.user}
password_file = imap-password
processed_action = flag
batch_size = {batch}
timeout_seconds = 120
[store]
database = {state}/privacy-inbox.db
spool = {state}/spool
""")
    os.chmod(config, 0o600)
    # The flag of an earlier run must not hide the mail: a fresh store sees
    # every UID as new whatever flags say, so nothing to reset on the server.
    t, rss, code, err = run_measured([binary, "--config", config, "fetch", "--once", "--no-send"])
    if code != 0:
        raise SystemExit(f"privacy-inbox failed ({code}): {err}")
    out = subprocess.run(["sqlite3", os.path.join(state, "privacy-inbox.db"),
                          "SELECT count(*) FROM tickets"], capture_output=True, text=True)
    tickets = int(out.stdout.strip() or 0)
    if tickets != n:
        raise SystemExit(f"privacy-inbox made {tickets} tickets of {n}: {err}")
    return t, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--size", type=int, default=600000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-mbsync", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--compare", action="append", default=[], metavar="NAME=BINARY",
                    help="also run another build (e.g. before an optimisation)")
    a = ap.parse_args()
    binary = os.path.join(ROOT, a.build, "privacy-inbox")
    if not a.no_mbsync and shutil.which("mbsync") is None:
        if os.geteuid() != 0:
            raise SystemExit("bench: mbsync is missing: apt-get install isync (or --no-mbsync)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "isync"],
                       check=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    work = tempfile.mkdtemp(prefix="pi-bench-fetch-")
    os.chmod(work, 0o755)
    d = Dovecot(os.path.join(work, "dovecot"), no_tls=True)
    d.start()
    try:
        rows = (0 if a.no_mbsync else 1) + 1 + len(a.compare)
        need = a.messages * a.size * (1 + 1.1 * rows * a.repeat)
        free = shutil.disk_usage(work).free
        if free < need:
            raise SystemExit(f"bench: needs about {need / 1e9:.1f} GB free in {work} "
                             f"(the mailbox and every row's output), has {free / 1e9:.1f} GB")
        nbytes = fill_maildir(d, a.messages, a.size)
        print(f"mailbox: {a.messages} messages, {nbytes / 1e6:.0f} MB "
              f"(Dovecot {d.imap_port}, plain IMAP on loopback)")
        results = {}
        # Untimed: the first FETCH of the mailbox makes Dovecot write its
        # cache, which would slow whichever row came first.
        print("warm-up (untimed) ...", flush=True)
        if os.geteuid() != 0:
            print("bench: not root, so the page cache is not reset between rows: "
                  "later rows may run slower (see settle())", file=sys.stderr)
        settle(d)
        if a.no_mbsync:
            bench_privacy_inbox(d, work, binary, a.messages, a.batch)
        else:
            bench_mbsync(d, work, a.messages, nbytes)
        for r in range(a.repeat):
            runs = [] if a.no_mbsync else [("mbsync (fsync off)", lambda: bench_mbsync(
                d, work, a.messages, nbytes))]
            runs.append((f"privacy-inbox (batch {a.batch})",
                         lambda: bench_privacy_inbox(d, work, binary, a.messages, a.batch)))
            for spec in a.compare:
                name, _, other = spec.partition("=")
                runs.append((name, lambda other=other: bench_privacy_inbox(
                    d, work, os.path.abspath(other), a.messages, a.batch)))
            # Each repeat starts one row later: no program is always first or
            # always right after another.
            shift = r % len(runs)
            for name, fn in runs[shift:] + runs[:shift]:
                settle(d)
                t, rss = fn()
                results.setdefault(name, []).append((t, rss))
                print(f"{name:28s} {t:7.1f} s  {a.messages / t:7.1f} msg/s  "
                      f"{nbytes / t / 1e6:6.1f} MB/s  peak RSS {rss / 1024:6.1f} MB", flush=True)
        print("summary (median and best of runs):")
        for name, rows in results.items():
            times = sorted(x[0] for x in rows)
            med = times[len(times) // 2] if len(times) % 2 else \
                (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2
            print(f"  {name:28s} median {a.messages / med:7.1f} msg/s, best "
                  f"{a.messages / times[0]:7.1f} msg/s, peak RSS "
                  f"{max(x[1] for x in rows) / 1024:.1f} MB")
    finally:
        d.stop()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    main()
