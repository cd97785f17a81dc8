"""harness — what the integration tests share: a real Dovecot and a real SMTP
server on loopback (tests/lib), a configuration pointing privacy-inbox at them,
and helpers to run the program and look into its SQLite store.

Each test gets fresh servers and a fresh store in its own temporary folder;
the TLS test CA is made once per run and shared (key generation is the slow
part).  PI_KEEP_TMP=1 keeps the folders for inspection.
"""
import atexit
import email
import email.policy
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from tests.lib.dovecot import Dovecot
from tests.lib.smtpd import SmtpServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
BIN = os.environ.get("PRIVACY_INBOX_BIN", os.path.join(ROOT, "build", "privacy-inbox"))

_shared_tls = None


def shared_tls_dir():
    """One CA for the whole run (Dovecot and the SMTP server both use it)."""
    global _shared_tls
    if _shared_tls is None:
        _shared_tls = tempfile.mkdtemp(prefix="pi-tls-")
        os.chmod(_shared_tls, 0o755)
        atexit.register(shutil.rmtree, _shared_tls, True)
    return _shared_tls


def spool_plaintext(path, key_hex):
    """The plaintext of an encrypted spool file, decrypted following the
    format in store/vault.c (not with privacy-inbox's own code): "PIVAULT3",
    key id, salt, the binding (keyed BLAKE2b-256 of the 40 bytes before it
    and the file's name, its plaintext's SHA-256), then 64 KiB chunks + a
    16-byte tag, AES-256-GCM (Python's cryptography) with the file's key
    (keyed BLAKE2b-256 of a label and the salt), the nonce chunk number
    (8 bytes little-endian) and last-chunk flag (4 bytes), the first 16 bytes
    as associated data.  Version 2 ("PIVAULT2", read with libsodium through
    PyNaCl): a secretstream header instead of the salt, chunks + 17 bytes.
    Version 1 ("PIVAULT1") has no binding, and every chunk is authenticated
    with the first 16 bytes and the name."""
    import hashlib
    import hmac
    import nacl.bindings as sodium

    with open(path, "rb") as f:
        data = f.read()
    key = bytes.fromhex(key_hex)
    name = bytes.fromhex(os.path.basename(path))
    if data[:8] in (b"PIVAULT3", b"PIVAULT2"):
        binding_key = hashlib.blake2b(b"privacy-inbox spool binding", digest_size=32,
                                      key=key).digest()
        binding = hashlib.blake2b(data[:40] + name, digest_size=32, key=binding_key).digest()
        if not hmac.compare_digest(binding, data[40:72]):
            raise ValueError(f"{path} does not belong under its name")
    if data[:8] == b"PIVAULT3":
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        file_key = hashlib.blake2b(b"privacy-inbox spool file key" + data[16:40],
                                   digest_size=32, key=key).digest()
        gcm, out, pos, counter = AESGCM(file_key), [], 72, 0
        while True:
            piece = data[pos:pos + 65536 + 16]
            pos += len(piece)
            last = pos == len(data)
            nonce = counter.to_bytes(8, "little") + (1 if last else 0).to_bytes(4, "big")
            out.append(gcm.decrypt(nonce, piece, data[:16]))
            counter += 1
            if last:
                plaintext = b"".join(out)
                if hashlib.sha256(plaintext).digest() != name:
                    raise ValueError(f"{path}: content does not match its name")
                return plaintext
    if data[:8] == b"PIVAULT2":
        ad, pos = data[:16], 72
    elif data[:8] == b"PIVAULT1":
        ad, pos = data[:16] + name, 40
    else:
        raise ValueError(f"{path} is not an encrypted spool file")
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, data[16:40], key)
    out = []
    while True:
        piece = data[pos:pos + 65536 + 17]
        pos += len(piece)
        plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, piece, ad)
        out.append(plain)
        if tag == sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL:
            if pos != len(data):
                raise ValueError(f"{path}: data after the final chunk")
            plaintext = b"".join(out)
            if hashlib.sha256(plaintext).digest() != name:
                raise ValueError(f"{path}: content does not match its name")
            return plaintext


def fixture(path):
    with open(os.path.join(FIXTURES, path), "rb") as f:
        return f.read()


class PipelineCase(unittest.TestCase):
    """Per test: Dovecot (IMAP + IMAPS), an SMTP server (STARTTLS + AUTH),
    a configuration, an empty store."""

    imap_security = "tls"
    processed_action = "move"
    dovecot_options = {}
    smtp_options = {"starttls": True, "auth": "privacy:smtp-secret"}
    extra_config = ""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pi-it-")
        os.chmod(self.dir, 0o755)
        if not os.environ.get("PI_KEEP_TMP"):
            self.addCleanup(shutil.rmtree, self.dir, True)
        self.dovecot = Dovecot(os.path.join(self.dir, "dovecot"),
                               tls_dir=shared_tls_dir(), **self.dovecot_options)
        self.dovecot.start()
        self.addCleanup(self.dovecot.stop)
        self.smtp = SmtpServer(os.path.join(self.dir, "smtp"),
                               tls_dir=shared_tls_dir(), **self.smtp_options)
        self.smtp.start()
        self.addCleanup(self.smtp.stop)
        self.config = self.write_config()

    # ---- configuration ---------------------------------------------------

    def write_config(self, imap=None, smtp=None, policy=None, name="privacy-inbox.ini",
                     extra=None):
        secrets = os.path.join(self.dir, "secrets")
        os.makedirs(secrets, exist_ok=True)
        with open(os.path.join(secrets, "imap"), "w") as f:
            f.write(self.dovecot.info["password"] + "\n")
        with open(os.path.join(secrets, "smtp"), "w") as f:
            f.write("smtp-secret\n")
        port = self.dovecot.imaps_port if self.imap_security == "tls" else self.dovecot.imap_port
        sections = {
            "imap": {
                "host": "127.0.0.1", "port": str(port), "security": self.imap_security,
                "ca_file": self.dovecot.ca_file, "user": self.dovecot.info["user"],
                "password_file": "secrets/imap", "processed_action": self.processed_action,
                "timeout_seconds": "10", "poll_seconds": "1",
            },
            "smtp": {
                "url": self.smtp.url, "ca_file": self.smtp.ca_file,
                "from": "株式会社サンプル 個人情報保護窓口 <privacy@example.co.jp>",
                "timeout_seconds": "10",
            },
            "store": {"database": "state/privacy-inbox.db", "spool": "state/spool"},
            "organization": {
                "name": "株式会社サンプル", "name[en]": "Sample Co., Ltd.",
                "contact": "個人情報保護窓口", "address": "東京都千代田区千代田1-1",
            },
            "policy": {},
        }
        if "auth" in self.smtp_options:
            sections["smtp"]["user"] = self.smtp_options["auth"].split(":")[0]
            sections["smtp"]["password_file"] = "secrets/smtp"
        for section, values in (("imap", imap), ("smtp", smtp), ("policy", policy)):
            for key, value in (values or {}).items():
                if value is None:
                    sections[section].pop(key, None)
                else:
                    sections[section][key] = value
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            for section, values in sections.items():
                f.write(f"[{section}]\n")
                for key, value in values.items():
                    f.write(f"{key} = {value}\n")
            f.write(extra or self.extra_config)
        os.chmod(path, 0o600)
        return path

    # ---- running privacy-inbox -------------------------------------------

    def pi(self, *args, config=True, input=None, env=None, expect=0, timeout=120):
        """Run privacy-inbox; assert its exit status (unless expect is None)."""
        argv = [BIN]
        if config:
            argv += ["--config", config if isinstance(config, str) else self.config]
        argv += list(args)
        full_env = dict(os.environ)
        full_env.pop("PRIVACY_INBOX_CONFIG", None)
        full_env.update(env or {})
        proc = subprocess.run(argv, input=input, capture_output=True, env=full_env,
                              timeout=timeout)
        proc.out = proc.stdout.decode("utf-8", "replace")
        proc.err = proc.stderr.decode("utf-8", "replace")
        if expect is not None and proc.returncode != expect:
            self.fail(f"{' '.join(args)}: exit {proc.returncode}, expected {expect}\n"
                      f"stdout: {proc.out}\nstderr: {proc.err}")
        return proc

    def pi_json(self, *args, **kw):
        return json.loads(self.pi(*args, **kw).out)

    def tickets(self):
        return self.pi_json("tickets", "list", "--json")

    def drafts(self):
        return self.pi_json("drafts", "list", "--json")

    # ---- looking into the store ------------------------------------------

    def db(self):
        conn = sqlite3.connect(os.path.join(self.dir, "state", "privacy-inbox.db"))
        conn.row_factory = sqlite3.Row
        self.addCleanup(conn.close)
        return conn

    def count(self, sql, *params):
        return self.db().execute(sql, params).fetchone()[0]

    def spool(self, *parts):
        return os.path.join(self.dir, "state", "spool", *parts)

    def spool_read(self, relative):
        """The plaintext of a spool file (they are encrypted at rest)."""
        with open(os.path.join(self.dir, "state", "spool.key")) as f:
            return spool_plaintext(self.spool(relative), f.read().strip())

    # ---- mail ----------------------------------------------------------------

    def deliver(self, raw, mailbox="INBOX", **kw):
        if isinstance(raw, str):
            raw = fixture(raw)
        return self.dovecot.deliver(raw, mailbox=mailbox, **kw)

    def received(self, n, timeout=10):
        """The first N messages the SMTP server accepted: (envelope, EmailMessage)."""
        return self.smtp.wait_for(n, timeout)


def parse_mail(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)
