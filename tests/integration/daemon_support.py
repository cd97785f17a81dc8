"""daemon_support — what the daemon tests (test_daemon*.py) share on top of
harness.PipelineCase: starting `privacy-inbox run` in the background with
its log in a file, waiting for conditions, many distinct request mails, and
the exactly-once checks."""
import email
import email.policy
import os
import random
import signal
import subprocess
import time

from tests.integration.harness import BIN, PipelineCase, fixture

SOURCES = ("requests/en-stop-use.eml", "requests/ja-iso2022jp-disclosure-license.eml",
           "requests/ja-correction.eml", "requests/en-disclosure.eml")


def distinct_requests(n, seed=1, pad=0):
    """N request mails with their own Message-ID, sender and subject (each
    must become its own ticket); PAD bytes of filler text make them bigger."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        msg = email.message_from_bytes(fixture(SOURCES[i % len(SOURCES)]),
                                       policy=email.policy.compat32)
        for h in ("Message-ID", "From", "Return-Path", "In-Reply-To", "References"):
            del msg[h]
        msg["Message-ID"] = f"<req-{seed}-{i}-{rng.randrange(1 << 30)}@example.org>"
        msg["From"] = f"Requester {i} <requester{i}-{seed}@example.org>"
        raw = msg.as_bytes()
        if pad:
            # Dashes and spaces: text in any transfer encoding (base64
            # decoders skip them), epilogue after a last MIME boundary.
            raw += b"\n" + (b"- " * 38 + b"\n") * (pad // 77)
        out.append(raw)
    return out


class DaemonCase(PipelineCase):
    """A PipelineCase that can run the daemon."""

    daemon_debug = "privacy-inbox"

    def setUp(self):
        super().setUp()
        self.daemons = []
        self.addCleanup(self._kill_daemons)

    def _kill_daemons(self):
        for proc in self.daemons:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def start_daemon(self, config=None, env=None, log_name="run.log"):
        full_env = dict(os.environ)
        full_env.pop("PRIVACY_INBOX_CONFIG", None)
        if self.daemon_debug:
            full_env["G_MESSAGES_DEBUG"] = self.daemon_debug
        full_env.update(env or {})
        self.run_log = os.path.join(self.dir, log_name)
        log = open(self.run_log, "ab")
        self.addCleanup(log.close)
        proc = subprocess.Popen([BIN, "--config", config or self.config, "run"],
                                stdout=log, stderr=log, env=full_env)
        self.daemons.append(proc)
        # Up (lock taken, store open) before the test looks at it.
        self.wait_until("start", lambda: "watching " in self.log_text(), proc=proc, timeout=30)
        return proc

    def log_text(self):
        with open(self.run_log, errors="replace") as f:
            return f.read()

    def stop_daemon(self, proc, timeout=30):
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=timeout), 0, self.log_text()[-3000:])

    def wait_until(self, what, condition, timeout=60, interval=0.05, proc=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            if proc is not None and proc.poll() is not None:
                self.fail(f"daemon exited ({proc.returncode}) while waiting for {what}\n"
                          + self.log_text()[-3000:])
            time.sleep(interval)
        self.fail(f"timed out waiting for {what}\n" + (self.log_text()[-3000:]
                                                     if hasattr(self, "run_log") else ""))

    def ticket_count(self):
        if not os.path.exists(os.path.join(self.dir, "state", "privacy-inbox.db")):
            return 0
        try:
            return self.count("SELECT count(*) FROM tickets")
        except Exception:  # the daemon is creating the schema
            return 0

    def status(self):
        import json
        return json.loads(self.pi("status", "--json").out)

    def assert_exactly_once(self, raws, mailbox="Processed", extra_copies=0):
        """Every request in RAWS is one ticket, nothing twice, nothing left.
        EXTRA_COPIES: how many second copies the processed mailbox may hold
        (a server without MOVE, cut off between COPY and STORE \\Deleted)."""
        ids = sorted(email.message_from_bytes(r)["Message-ID"].strip("<>") for r in raws)
        db = self.db()
        rows = db.execute("SELECT message_id, ticket_id FROM messages WHERE direction = 'in'"
                          " ORDER BY message_id").fetchall()
        self.assertEqual(sorted(r["message_id"] for r in rows), ids, "messages recorded")
        self.assertEqual(len({r["ticket_id"] for r in rows}), len(ids), "one ticket each")
        self.assertEqual(self.count("SELECT count(*) FROM tickets"), len(ids))
        self.assertEqual(self.count("SELECT count(*) FROM server_pending"), 0)
        self.assertEqual(self.dovecot.uids("INBOX"), [])
        processed = self.dovecot.messages(mailbox)
        self.assertEqual(len({m["sha256"] for m in processed}), len(ids), "all moved")
        self.assertLessEqual(len(processed), len(ids) + extra_copies, "copied twice")
        # No drafted reply twice: one draft per ticket at most, and no
        # Message-ID the SMTP server received twice.
        self.assertEqual(self.count("SELECT count(*) FROM (SELECT ticket_id FROM drafts"
                                    " GROUP BY ticket_id HAVING count(*) > 1)"), 0)
        sent = [m["Message-ID"] for _, m in self.smtp.messages()]
        self.assertEqual(len(sent), len(set(sent)), "a reply was sent twice")
