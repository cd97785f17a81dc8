"""dovecot — a throwaway Dovecot IMAP server (Debian's dovecot-imapd) for the
tests and `make demo`.

Everything lives in one folder DIR: the configuration (DIR/dovecot.conf), the
passwd-file, Maildir storage (DIR/mail/USER/Maildir), Dovecot's base_dir and
state_dir, the log (DIR/dovecot.log) and, unless --tls-dir says otherwise,
the test CA and server certificate from tlsca.make_ca(DIR/tls).  Dovecot
listens on 127.0.0.1 only, on two free ports: plain IMAP (STARTTLS offered)
and IMAPS.  Plain-text LOGIN is allowed (loopback only) so `security = none`
can be tested too.  When run as root, mail is owned by the `mail` user
(Dovecot refuses uid 0); otherwise by the calling user.

As a command (prints ONE JSON line on stdout once both ports accept
connections, then runs until SIGTERM or SIGINT, or until the process that
started it dies, when it stops Dovecot and waits for it; the folder is left
for the test to read):

    /usr/bin/python3 tests/lib/dovecot.py --dir DIR [--user pi] [--password secret]
        [--no-move] [--no-idle] [--no-uidplus] [--no-tls]
        [--cert-names localhost,127.0.0.1] [--tls-dir D]

    {"imap_port": 40143, "imaps_port": 40993, "user": "pi", "password": "secret",
     "ca_file": "DIR/tls/ca.pem", "other_ca_file": "DIR/tls/other-ca.pem",
     "dir": "DIR", "log": "DIR/dovecot.log", "capabilities": [...]}

  --no-move, --no-idle, --no-uidplus  leave that capability out of CAPABILITY
                    (Dovecot's imap_capability setting), so clients take
                    their fallback paths
  --no-tls          ssl = no: no IMAPS port (imaps_port is null) and no STARTTLS
  --cert-names L    the names (DNS names and IP addresses, comma-separated)
                    the server certificate is valid for; a different list
                    makes a different CA, so use its own --tls-dir
  --tls-dir D       where tlsca.make_ca() keeps its files (made once per folder)

The same JSON is written to DIR/dovecot.json, which the helper commands read
(or give it directly with --info-json '{…}' instead of --dir):

    dovecot.py deliver --dir DIR [--mailbox M] [--internaldate ISO8601]
                       [--flag F]... FILE...      (FILE - is stdin)
        APPENDs each file (creating M when missing), prints the new UIDs
    dovecot.py uids  --dir DIR [--mailbox M]           JSON list of UIDs
    dovecot.py messages --dir DIR [--mailbox M]
        JSON list of {"uid", "flags", "size", "sha256"}, one per message
    dovecot.py flags --dir DIR [--mailbox M] UID       JSON list of flags
    dovecot.py fetch --dir DIR [--mailbox M] UID       the raw message on stdout

As a module (from the repository root):

    from tests.lib.dovecot import Dovecot
    with Dovecot(dir, no_move=True) as d:     # dir=None: a temporary folder
        uid = d.deliver(raw_bytes, mailbox="INBOX", internaldate=None, flags=())
        d.uids("INBOX"), d.fetch("INBOX", uid), d.flags("INBOX", uid)
        d.messages("INBOX")    # [{"uid", "flags", "size", "sha256"}…]
        d.info, d.imap_port, d.imaps_port, d.ca_file, d.log
    Dovecot.attach(dir)        # helpers against an instance started elsewhere

Helpers speak IMAP (imaplib) on the plain port; FETCH uses BODY.PEEK[] so
they never set \\Seen.
"""
import argparse
import base64
import datetime
import grp
import hashlib
import imaplib
import ipaddress
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

if __package__:
    from . import tlsca
else:  # run as a script
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tlsca  # noqa: E402

__all__ = ["Dovecot"]

HOST = "127.0.0.1"
DOVECOT = "/usr/sbin/dovecot"
STATE_FILE = "dovecot.json"
GREETING = "privacy-inbox test server ready."

# Dovecot 2.3's post-login CAPABILITY.  imap_capability replaces it as a
# whole, so a limited server advertises this list minus what was left out.
DEFAULT_CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY "
    "THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL "
    "CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 "
    "CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS "
    "BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE "
    "LITERAL+ NOTIFY").split()

_CONF = """\
# Written by tests/lib/dovecot.py: a throwaway server for tests.
protocols = imap
listen = {host}
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = privacy-inbox-test-{port_tag}
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
debug_log_path = {dir}/dovecot.log
shutdown_clients = yes
login_greeting = {greeting}

default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}

ssl = {ssl}
{ssl_files}ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanisms}
auth_verbose = yes
auth_failure_delay = 0

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
{oauth2_passdb}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
mail_plugins = $mail_plugins notify mail_log
plugin {{
  mail_log_events = delete undelete expunge copy mailbox_create flag_change save
  mail_log_fields = uid box msgid flags
}}
{capability}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {imaps_port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _accepts(port, greeting=None):
    """Does PORT accept a connection (and, with GREETING, greet with it)?"""
    try:
        with socket.create_connection((HOST, port), timeout=1) as s:
            if greeting is None:
                return True
            s.settimeout(5)
            line = b""
            while not line.endswith(b"\n"):
                chunk = s.recv(256)
                if not chunk:
                    return False
                line += chunk
            return greeting.encode() in line
    except OSError:
        return False


def _mail_owner():
    """(user, group, uid, gid) Dovecot runs mail access as."""
    if os.geteuid() == 0:
        pw = pwd.getpwnam("mail")
    else:
        pw = pwd.getpwuid(os.geteuid())
    return pw.pw_name, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_uid, pw.pw_gid


def _split_names(names):
    hosts, ips = [], []
    for n in (x.strip() for x in names.split(",")):
        if not n:
            continue
        try:
            ipaddress.ip_address(n)
            ips.append(n)
        except ValueError:
            hosts.append(n)
    return hosts, ips


def _imap_date(internaldate):
    if internaldate is None:
        return None
    if isinstance(internaldate, str):
        internaldate = datetime.datetime.fromisoformat(internaldate.replace("Z", "+00:00"))
    if isinstance(internaldate, datetime.datetime) and internaldate.tzinfo is None:
        internaldate = internaldate.replace(tzinfo=datetime.timezone.utc)
    return imaplib.Time2Internaldate(internaldate)


def mutf7(name):
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 5.1.3)."""
    out, run = [], ""

    def flush():
        nonlocal run
        if run:
            b64 = base64.b64encode(run.encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            run = ""
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run += ch
    flush()
    return "".join(out)


def mutf7_decode(name):
    """The inverse of mutf7()."""
    return re.sub(r"&([^-]*)-", lambda m: "&" if not m.group(1) else base64.b64decode(
        m.group(1).replace(",", "/") + "=" * (-len(m.group(1)) % 4)).decode("utf-16-be"),
        name)


def _quote(mailbox):
    name = mutf7(mailbox)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(typ, data, what):
    if typ != "OK":
        raise RuntimeError(f"{what}: {typ} {data!r}")
    return data


class Dovecot:
    """A Dovecot instance (started by start()/`with`, or attached to)."""

    def __init__(self, dir=None, user="pi", password="secret", no_move=False,
                 no_idle=False, no_uidplus=False, no_tls=False,
                 cert_names="localhost,127.0.0.1", tls_dir=None,
                 oauth2_introspection_url=None):
        self._own_dir = dir is None
        self.dir = os.path.abspath(dir) if dir else None
        self.user, self.password = user, password
        self.no_move, self.no_idle, self.no_uidplus = no_move, no_idle, no_uidplus
        self.no_tls = no_tls
        self.cert_names = cert_names
        self.tls_dir = tls_dir
        # XOAUTH2/OAUTHBEARER logins checked by Dovecot's oauth2 passdb
        # against this RFC 7662 introspection URL (tests/lib/oauth2_provider.py).
        self.oauth2_introspection_url = oauth2_introspection_url
        self.proc = None
        self.info = None

    # ---- attaching to a running instance ----------------------------------
    @classmethod
    def attach(cls, dir=None, info=None):
        """Helpers for an instance another process started: give its DIR
        (reads DIR/dovecot.json) or its ready-line INFO (dict or JSON)."""
        if info is None:
            with open(os.path.join(dir, STATE_FILE)) as f:
                info = json.load(f)
        elif isinstance(info, str):
            info = json.loads(info)
        d = cls(info["dir"], info["user"], info["password"])
        d._own_dir = False
        d.info = info
        return d

    @property
    def imap_port(self):
        return self.info["imap_port"]

    @property
    def imaps_port(self):
        return self.info["imaps_port"]

    @property
    def ca_file(self):
        return self.info["ca_file"]

    @property
    def other_ca_file(self):
        return self.info["other_ca_file"]

    @property
    def log(self):
        return self.info["log"]

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    # ---- starting and stopping --------------------------------------------
    def capabilities(self):
        """What the server advertises after login (the limits applied)."""
        if self.info and "capabilities" in self.info:
            return list(self.info["capabilities"])
        left_out = set()
        if self.no_move:
            left_out.add("MOVE")
        if self.no_idle:
            left_out.add("IDLE")
        if self.no_uidplus:
            left_out.add("UIDPLUS")
        return [c for c in DEFAULT_CAPABILITIES if c not in left_out]

    def _prepare(self):
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="privacy-inbox-dovecot-")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)  # Dovecot's mail user must enter it
        user, group, uid, gid = _mail_owner()
        for sub in ("run", "state"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        mail = os.path.join(self.dir, "mail")
        os.makedirs(mail, exist_ok=True)
        os.chmod(mail, 0o755)
        home = os.path.join(mail, self.user)
        os.makedirs(home, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(home, uid, gid)
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        # The CA files are made even with --no-tls: tests pass them around.
        hosts, ips = _split_names(self.cert_names)
        tls_dir = self.tls_dir or os.path.join(self.dir, "tls")
        self.tls = tlsca.make_ca(tls_dir, hostnames=tuple(hosts) or ("localhost",),
                                 ips=tuple(ips))
        os.chmod(tls_dir, 0o755)
        return user, group, uid, gid

    def _write_conf(self, owner, imap_port, imaps_port):
        user, group, uid, gid = owner
        limited = self.no_move or self.no_idle or self.no_uidplus
        capability = ("imap_capability = " + " ".join(self.capabilities()) + "\n"
                      if limited else "")
        if self.no_tls:
            ssl, ssl_files = "no", ""
        else:
            ssl = "yes"
            ssl_files = (f"ssl_cert = <{self.tls['cert']}\n"
                         f"ssl_key = <{self.tls['key']}\n")
        oauth2_passdb, oauth2_mechanisms = "", ""
        if self.oauth2_introspection_url:
            ext = os.path.join(self.dir, "dovecot-oauth2.conf.ext")
            with open(ext, "w") as f:
                f.write(f"introspection_mode = post\n"
                        f"introspection_url = {self.oauth2_introspection_url}\n"
                        f"username_attribute = username\n"
                        f"active_attribute = active\nactive_value = true\n")
            oauth2_passdb = f"passdb {{\n  driver = oauth2\n  args = {ext}\n}}\n"
            oauth2_mechanisms = " xoauth2 oauthbearer"
        conf = _CONF.format(oauth2_passdb=oauth2_passdb, oauth2_mechanisms=oauth2_mechanisms,
                            greeting=GREETING, host=HOST, dir=self.dir, port_tag=imap_port, user=user,
                            group=group, uid=uid, gid=gid, ssl=ssl, ssl_files=ssl_files,
                            capability=capability, imap_port=imap_port,
                            imaps_port=imaps_port)
        if self.no_tls:  # no IMAPS listener at all
            conf = re.sub(r"  inet_listener imaps \{.*?\n  \}\n", "", conf, flags=re.S)
        path = os.path.join(self.dir, "dovecot.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def start(self, timeout=20):
        owner = self._prepare()
        log = os.path.join(self.dir, "dovecot.log")
        last_error = "unknown error"
        for _attempt in range(5):
            imap_port = _free_port()
            imaps_port = _free_port() if not self.no_tls else None
            while imaps_port == imap_port:
                imaps_port = _free_port()
            conf = self._write_conf(owner, imap_port, imaps_port or 0)
            log_size = os.path.getsize(log) if os.path.exists(log) else 0
            # Its own process group, so stop() can end every process of it.
            self.proc = subprocess.Popen([DOVECOT, "-F", "-c", conf],
                                         stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE,
                                         start_new_session=True)
            # Ready when the plain port greets with our greeting (so it is
            # this Dovecot, not whoever took a released port) and IMAPS
            # accepts; Dovecot binds every listener before it forks.
            deadline = time.monotonic() + timeout
            ready = False
            while not ready and time.monotonic() < deadline and self.proc.poll() is None:
                ready = (_accepts(imap_port, GREETING) and
                         (imaps_port is None or _accepts(imaps_port)))
                if not ready:
                    time.sleep(0.02)
            if ready and self.proc.poll() is None:
                # One login, so the auth and mail processes are up too.
                self.info = {"imap_port": imap_port, "user": self.user,
                             "password": self.password}
                self.imap().logout()
                break
            stderr = self._kill()
            tail = ""
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    f.seek(log_size)
                    tail = f.read()
            last_error = (stderr + tail).strip() or "did not accept connections in time"
            if "in use" not in last_error:
                raise RuntimeError(f"dovecot did not start: {last_error}")
        else:
            raise RuntimeError(f"dovecot did not start after 5 attempts: {last_error}")
        self.info = {
            "imap_port": imap_port,
            "imaps_port": imaps_port,
            "user": self.user,
            "password": self.password,
            "ca_file": self.tls["ca"],
            "other_ca_file": self.tls["other_ca"],
            "dir": self.dir,
            "log": log,
            "capabilities": self.capabilities(),
        }
        tmp = os.path.join(self.dir, STATE_FILE + ".tmp")
        with open(tmp, "w") as f:
            json.dump(self.info, f)
        os.replace(tmp, os.path.join(self.dir, STATE_FILE))
        return self

    def _kill(self):
        """SIGTERM to all of Dovecot at once; SIGKILL what is left after 2 s.
        (The master alone takes 1 to 6 s to shut its children down.)"""
        proc, self.proc = self.proc, None
        if proc is None:
            return ""

        def signal_group(sig):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
        signal_group(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=2)
        except subprocess.TimeoutExpired:
            signal_group(signal.SIGKILL)
            _, err = proc.communicate()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:  # children the master left behind
            try:
                os.killpg(proc.pid, signal.SIGKILL if time.monotonic() > deadline - 1
                          else signal.SIGTERM)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        return (err or b"").decode(errors="replace")

    def pause(self):
        """Stop the server as an outage would (clients see their connections
        cut); the folder, configuration and ports stay for resume()."""
        self._kill()

    def resume(self, timeout=20):
        """Start the server again on the same ports after pause()."""
        conf = os.path.join(self.dir, "dovecot.conf")
        deadline = time.monotonic() + timeout
        while True:
            self.proc = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         start_new_session=True)
            while time.monotonic() < deadline and self.proc.poll() is None:
                if (_accepts(self.imap_port, GREETING) and
                        (self.imaps_port is None or _accepts(self.imaps_port))):
                    return self
                time.sleep(0.02)
            err = self._kill()
            if time.monotonic() >= deadline:  # ports still held by the old one?
                raise RuntimeError(f"dovecot did not start again: {err}")
            time.sleep(0.2)

    def stop(self):
        self._kill()
        if self._own_dir and self.dir and not os.environ.get("PI_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- helpers (IMAP on the plain port) ---------------------------------
    def imap(self):
        """A logged-in imaplib.IMAP4 on the plain port; caller logs out."""
        conn = imaplib.IMAP4(HOST, self.imap_port, timeout=30)
        _ok(*conn.login(self.user, self.password), "LOGIN")
        return conn

    def deliver(self, raw, mailbox="INBOX", internaldate=None, flags=()):
        """APPEND RAW (bytes) to MAILBOX (created when missing); returns its UID."""
        conn = self.imap()
        try:
            flag_list = "(" + " ".join(flags) + ")" if flags else None
            date = _imap_date(internaldate)
            typ, data = conn.append(_quote(mailbox), flag_list, date, raw)
            if typ != "OK" and b"TRYCREATE" in b" ".join(d for d in data if d):
                _ok(*conn.create(_quote(mailbox)), "CREATE")
                typ, data = conn.append(_quote(mailbox), flag_list, date, raw)
            _ok(typ, data, f"APPEND {mailbox}")
            m = re.search(rb"\[APPENDUID \d+ (\d+)\]", b" ".join(d for d in data if d))
            if m:
                return int(m.group(1))
            _ok(*conn.select(_quote(mailbox), readonly=True), f"EXAMINE {mailbox}")
            return max(self._search(conn))
        finally:
            conn.logout()

    @staticmethod
    def _search(conn):
        data = _ok(*conn.uid("SEARCH", "ALL"), "UID SEARCH")
        return sorted(int(x) for x in b" ".join(d for d in data if d).split())

    def uids(self, mailbox="INBOX"):
        """UIDs in MAILBOX, ascending ([] when the mailbox does not exist)."""
        conn = self.imap()
        try:
            typ, _ = conn.select(_quote(mailbox), readonly=True)
            if typ != "OK":
                return []
            return self._search(conn)
        finally:
            conn.logout()

    def messages(self, mailbox="INBOX"):
        """Every message in MAILBOX as {"uid", "flags", "size", "sha256"},
        ascending by UID ([] when the mailbox does not exist): one IMAP
        session for what uids(), flags() and fetch() tell one by one."""
        conn = self.imap()
        try:
            typ, _ = conn.select(_quote(mailbox), readonly=True)
            if typ != "OK" or not self._search(conn):
                return []
            data = _ok(*conn.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])"), "UID FETCH")
        finally:
            conn.logout()
        found = []
        for part in data:
            if isinstance(part, tuple):  # (b'1 (UID 5 FLAGS (...) BODY[] {n}', body)
                found.append([part[0], part[1]])
            elif isinstance(part, bytes) and found:  # b')' or b' FLAGS (...))'
                found[-1][0] += part
        result = []
        for meta, body in found:
            uid = re.search(rb"UID (\d+)", meta)
            flags = re.search(rb"FLAGS \(([^)]*)\)", meta)
            result.append({"uid": int(uid.group(1)),
                           "flags": flags.group(1).decode().split() if flags else [],
                           "size": len(body),
                           "sha256": hashlib.sha256(body).hexdigest()})
        return sorted(result, key=lambda m: m["uid"])

    def mailboxes(self):
        """The names of all mailboxes (decoded from modified UTF-7)."""
        conn = self.imap()
        try:
            data = _ok(*conn.list(), "LIST")
            names = []
            for line in data:
                m = re.match(rb'\(.*?\) (?:"[^"]*"|NIL) (.*)$', line or b"")
                if m:
                    names.append(mutf7_decode(m.group(1).decode().strip('"')))
            return names
        finally:
            conn.logout()

    def _fetch_item(self, mailbox, uid, item):
        conn = self.imap()
        try:
            _ok(*conn.select(_quote(mailbox), readonly=True), f"EXAMINE {mailbox}")
            return _ok(*conn.uid("FETCH", str(uid), item), "UID FETCH")
        finally:
            conn.logout()

    def fetch(self, mailbox, uid):
        """The raw bytes of message UID (BODY.PEEK[]: \\Seen is not set)."""
        data = self._fetch_item(mailbox, uid, "(BODY.PEEK[])")
        for part in data:
            if isinstance(part, tuple):
                return part[1]
        raise KeyError(f"{mailbox}: no message with UID {uid}")

    def flags(self, mailbox, uid):
        """The flags of message UID, e.g. ["\\\\Seen", "$Processed"]."""
        data = self._fetch_item(mailbox, uid, "(FLAGS)")
        for part in data:
            if isinstance(part, bytes):
                m = re.search(rb"FLAGS \(([^)]*)\)", part)
                if m:
                    return m.group(1).decode().split()
        raise KeyError(f"{mailbox}: no message with UID {uid}")


# ---- command line -------------------------------------------------------------

def _serve(argv):
    ap = argparse.ArgumentParser(prog="dovecot.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--user", default="pi")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--no-move", action="store_true")
    ap.add_argument("--no-idle", action="store_true")
    ap.add_argument("--no-uidplus", action="store_true")
    ap.add_argument("--no-tls", action="store_true")
    ap.add_argument("--cert-names", default="localhost,127.0.0.1")
    ap.add_argument("--tls-dir")
    a = ap.parse_args(argv)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    d = Dovecot(a.dir, a.user, a.password, no_move=a.no_move, no_idle=a.no_idle,
                no_uidplus=a.no_uidplus, no_tls=a.no_tls, cert_names=a.cert_names,
                tls_dir=a.tls_dir)
    try:
        d.start()
    except RuntimeError as e:
        print(f"dovecot.py: {e}", file=sys.stderr)
        return 1
    print(json.dumps(d.info), flush=True)
    parent = os.getppid()
    try:
        while not stop:
            if os.getppid() != parent:  # the test died without stopping us
                break
            if d.proc.poll() is not None:
                print(f"dovecot.py: dovecot exited with status {d.proc.returncode}",
                      file=sys.stderr)
                return 1
            time.sleep(0.1)
    finally:
        d.stop()
    return 0


def _helper(argv):
    ap = argparse.ArgumentParser(prog="dovecot.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_mutually_exclusive_group(required=True)
    where.add_argument("--dir", help="the launcher's --dir (reads DIR/dovecot.json)")
    where.add_argument("--info-json", help="the launcher's ready line")
    common.add_argument("--mailbox", default="INBOX")
    p = sub.add_parser("deliver", parents=[common])
    p.add_argument("--internaldate", help="ISO 8601, e.g. 2026-11-28T09:15:00+09:00")
    p.add_argument("--flag", action="append", default=[])
    p.add_argument("files", nargs="+", metavar="FILE")
    sub.add_parser("uids", parents=[common])
    sub.add_parser("messages", parents=[common])
    for name in ("flags", "fetch"):
        sub.add_parser(name, parents=[common]).add_argument("uid", type=int)
    a = ap.parse_args(argv)
    d = Dovecot.attach(a.dir, a.info_json)
    if a.cmd == "deliver":
        for path in a.files:
            if path == "-":
                raw = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as f:
                    raw = f.read()
            print(d.deliver(raw, a.mailbox, a.internaldate, a.flag), flush=True)
    elif a.cmd == "uids":
        print(json.dumps(d.uids(a.mailbox)))
    elif a.cmd == "messages":
        print(json.dumps(d.messages(a.mailbox)))
    elif a.cmd == "flags":
        print(json.dumps(d.flags(a.mailbox, a.uid)))
    elif a.cmd == "fetch":
        sys.stdout.buffer.write(d.fetch(a.mailbox, a.uid))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("deliver", "uids", "messages", "flags", "fetch"):
        return _helper(argv)
    return _serve(argv)


if __name__ == "__main__":
    sys.exit(main())
