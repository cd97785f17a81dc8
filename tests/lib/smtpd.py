"""smtpd — a real SMTP server (Debian's python3-aiosmtpd) for the tests and `make demo`.

Every accepted message is written atomically to DIR as NNNNNN.eml (exactly the
bytes received after DATA, dot-unstuffed, CRLF line endings as sent) plus
NNNNNN.json with its envelope:

    {"mail_from": "privacy@example.co.jp", "rcpt_tos": ["taro@example.org"],
     "mail_options": ["SIZE=1234"], "auth_user": "privacy" or null,
     "tls": true, "tls_version": "TLSv1.3" or null, "peer": "127.0.0.1"}

The .json file is renamed into place before the .eml, so a reader that sees
NNNNNN.eml can always read its envelope.

As a module (from the repository root):

    from tests.lib.smtpd import SmtpServer
    with SmtpServer(dir, starttls=True, auth="privacy:secret") as smtp:
        ...  smtp.url, smtp.port, smtp.ca_file, smtp.other_ca_file
        envelope, msg = smtp.wait_for(1)[0]   # msg: email.message.EmailMessage

As a command (prints ONE JSON line on stdout once it accepts connections, then
runs until SIGTERM or SIGINT):

    /usr/bin/python3 tests/lib/smtpd.py --dir DIR [--port N] [--tls-dir D]
        [--starttls | --implicit-tls] [--auth USER:PASSWORD] [--tempfail N]
        [--reject ADDRESS]...

    {"port": 40123, "dir": "/tmp/…", "ca_file": "/tmp/…/ca.pem",
     "other_ca_file": "/tmp/…/other-ca.pem", "url": "smtp://127.0.0.1:40123"}

Switches:
  --starttls        offer STARTTLS and require it before AUTH and MAIL
  --implicit-tls    TLS from the first byte (the url is smtps://)
  --auth U:P        require AUTH (PLAIN or LOGIN) with exactly these credentials
  --tempfail N      answer the first N messages (the reply after DATA) with 451
  --reject ADDRESS  answer RCPT TO:<ADDRESS> with 550 (may be repeated)
Certificates come from tlsca.make_ca(--tls-dir), default DIR/tls; they are made
once per folder, so tests that share a --tls-dir pay for key generation once.
"""
import argparse
import base64
import email
import email.policy
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

if __package__:
    from . import tlsca
else:  # run as a script
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tlsca  # noqa: E402

__all__ = ["SmtpServer", "read_messages"]

HOST = "127.0.0.1"
# With --implicit-tls the whole session is TLS, but aiosmtpd only counts
# STARTTLS, so AUTH there has to be allowed "without TLS"; do not warn.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
_NAME_RE = re.compile(r"^(\d{6})\.eml$")


def _parse_auth(auth):
    if auth is None:
        return None
    if isinstance(auth, (tuple, list)):
        return str(auth[0]), str(auth[1])
    user, sep, password = str(auth).partition(":")
    if not sep:
        raise ValueError("auth must be USER:PASSWORD")
    return user, password


def read_messages(folder):
    """The messages in FOLDER in arrival order: a list of (envelope dict,
    email.message.EmailMessage parsed with policy=email.policy.default)."""
    out = []
    try:
        names = sorted(n for n in os.listdir(folder) if _NAME_RE.match(n))
    except FileNotFoundError:
        return out
    for name in names:
        stem = name[:-4]
        with open(os.path.join(folder, stem + ".json"), encoding="utf-8") as f:
            envelope = json.load(f)
        with open(os.path.join(folder, name), "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.default)
        out.append((envelope, msg))
    return out


class _Handler:
    """aiosmtpd hooks: failure switches and the spool writer."""

    def __init__(self, folder, tempfail, reject, xoauth2=None):
        self.xoauth2 = xoauth2
        self.folder = folder
        self.tempfail_left = int(tempfail)
        self.reject = {a.lower() for a in reject}
        self.lock = threading.Lock()
        existing = [int(m.group(1)) for m in map(_NAME_RE.match, os.listdir(folder)) if m]
        self.counter = max(existing, default=0)

    async def auth_XOAUTH2(self, server, args):
        """SASL XOAUTH2 (Google, Microsoft): "user=U^Aauth=Bearer T^A^A",
        checked by the xoauth2(user, token) callable given to SmtpServer."""
        if self.xoauth2 is None:
            return AuthResult(success=False, handled=False)
        if len(args) == 3:
            raw = base64.b64decode(args[2])
        else:
            raw = await server.challenge_auth("", log_client_response=False)
            if not isinstance(raw, bytes):
                return AuthResult(success=False, handled=False)
        fields = dict(f.split("=", 1) for f in raw.decode("utf-8", "replace").split("\x01")
                      if "=" in f)
        user = fields.get("user", "")
        token = fields.get("auth", "").removeprefix("Bearer ")
        if not self.xoauth2(user, token):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, handled=False,
                          auth_data=LoginPassword(user.encode(), b""))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: no such user"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.tempfail_left > 0:
                self.tempfail_left -= 1
                return "451 4.3.0 Temporary failure (test switch), try again later"
            self.counter += 1
            stem = "%06d" % self.counter
        ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        auth_data = session.auth_data if session.authenticated else None
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "auth_user": auth_data.login.decode("utf-8", "replace")
            if isinstance(auth_data, LoginPassword) else None,
            "tls": ssl_object is not None,
            "tls_version": ssl_object.version() if ssl_object is not None else None,
            "peer": session.peer[0] if session.peer else None,
            "size": len(envelope.original_content),
        }
        self._write(stem + ".json", json.dumps(meta, ensure_ascii=False, indent=1).encode())
        self._write(stem + ".eml", envelope.original_content)
        return "250 2.0.0 OK queued as " + stem

    def _write(self, name, data):
        tmp = os.path.join(self.folder, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(self.folder, name))


class _Controller(Controller):
    """Controller that can listen on port 0 (aiosmtpd's own start-up probe
    connects to self.port, so learn the real port before it does)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    """A running aiosmtpd on 127.0.0.1 that spools to DIR (see module doc)."""

    def __init__(self, dir, port=0, tls_dir=None, starttls=False, implicit_tls=False,
                 auth=None, tempfail=0, reject=(), xoauth2=None):
        if starttls and implicit_tls:
            raise ValueError("choose one of starttls and implicit_tls")
        self.dir = os.path.abspath(dir)
        self.requested_port = int(port)
        self.tls_dir = os.path.abspath(tls_dir or os.path.join(self.dir, "tls"))
        self.starttls = bool(starttls)
        self.implicit_tls = bool(implicit_tls)
        self.auth = _parse_auth(auth)
        self.xoauth2 = xoauth2  # callable(user, token) → bool: offer AUTH XOAUTH2
        self.tempfail = int(tempfail)
        self.reject = [reject] if isinstance(reject, str) else list(reject)
        self.controller = None
        self.port = None
        self.info = None

    # -- life cycle ---------------------------------------------------------
    def start(self):
        import ssl

        os.makedirs(self.dir, exist_ok=True)
        # aiosmtpd warns about its own deprecated login_data on every AUTH.
        if logging.getLogger("mail.log").level == logging.NOTSET:
            logging.getLogger("mail.log").setLevel(logging.ERROR)
        certs = tlsca.make_ca(self.tls_dir)
        context = None
        if self.starttls or self.implicit_tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certs["cert"], certs["key"])
        kwargs = {
            "hostname": HOST,
            "port": self.requested_port,
            "server_hostname": "localhost",
            "ready_timeout": 30.0,
            "enable_SMTPUTF8": True,
            "data_size_limit": 64 * 1024 * 1024,
        }
        if self.implicit_tls:
            kwargs["ssl_context"] = context
            # aiosmtpd only counts STARTTLS as "TLS"; the whole session is TLS here.
            kwargs["auth_require_tls"] = False
        elif self.starttls:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
            kwargs["auth_require_tls"] = True
        else:
            kwargs["auth_require_tls"] = False
        if self.auth is not None or self.xoauth2 is not None:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_required"] = True
        handler = _Handler(self.dir, self.tempfail, self.reject, self.xoauth2)
        self.controller = _Controller(handler, **kwargs)
        self.controller.start()
        self.port = self.controller.port
        scheme = "smtps" if self.implicit_tls else "smtp"
        self.info = {
            "port": self.port,
            "dir": self.dir,
            "ca_file": certs["ca"],
            "other_ca_file": certs["other_ca"],
            "url": f"{scheme}://{HOST}:{self.port}",
        }
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- what the tests read --------------------------------------------------
    @property
    def url(self):
        return self.info["url"]

    @property
    def ca_file(self):
        return self.info["ca_file"]

    @property
    def other_ca_file(self):
        return self.info["other_ca_file"]

    def messages(self):
        """(envelope dict, EmailMessage) for every accepted message, in arrival order."""
        return read_messages(self.dir)

    def wait_for(self, n, timeout=10.0):
        """Wait until at least N messages arrived; returns messages().
        Raises TimeoutError (saying how many did arrive) otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.messages()
            if len(got) >= n:
                return got
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(got)} of {n} messages arrived at {self.url} "
                                   f"within {timeout} s")
            time.sleep(0.05)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if mechanism == "XOAUTH2" and isinstance(auth_data, LoginPassword):
            return AuthResult(success=True, handled=False, auth_data=auth_data)
        if (self.auth is None or mechanism not in ("PLAIN", "LOGIN")
                or not isinstance(auth_data, LoginPassword)):
            return AuthResult(success=False, handled=False)
        user, password = self.auth
        ok = (auth_data.login == user.encode("utf-8")
              and auth_data.password == password.encode("utf-8"))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def main(argv=None):
    p = argparse.ArgumentParser(description="SMTP test server (aiosmtpd)")
    p.add_argument("--dir", required=True, help="where messages are written")
    p.add_argument("--port", type=int, default=0, help="0: any free port")
    p.add_argument("--tls-dir", help="certificate folder (default DIR/tls)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--starttls", action="store_true")
    mode.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth", metavar="USER:PASSWORD")
    p.add_argument("--tempfail", type=int, default=0, metavar="N")
    p.add_argument("--reject", action="append", default=[], metavar="ADDRESS")
    args = p.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    server = SmtpServer(args.dir, port=args.port, tls_dir=args.tls_dir,
                        starttls=args.starttls, implicit_tls=args.implicit_tls,
                        auth=args.auth, tempfail=args.tempfail, reject=args.reject)
    server.start()
    try:
        sys.stdout.write(json.dumps(server.info) + "\n")
        sys.stdout.flush()
        # Also stop when whoever started us is gone (a test that aborted
        # cannot send SIGTERM, and must not leave a server behind).
        parent = os.getppid()
        while not stop.wait(0.2):
            if os.getppid() != parent:
                break
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
