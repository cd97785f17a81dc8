"""The same daemon and crash tests against a second IMAP implementation:
Courier-IMAP (tests/lib/courier.py), which really lacks MOVE and IDLE (and,
in the NoUidplus variant, UIDPLUS), so the fetcher takes its fallbacks:
COPY + STORE \\Deleted + UID EXPUNGE (or plain EXPUNGE), and polling.
Chosen subset: a pass, polling, a crash between commit and server update,
an outage in the middle of a fetch, and SIGKILL at random moments."""
import os
import random
import shutil
import sys
import tempfile
import time
import unittest

from tests.integration.daemon_support import DaemonCase, distinct_requests
from tests.integration.harness import shared_tls_dir
from tests.lib.courier import Courier
from tests.lib.smtpd import SmtpServer


class CourierCase(DaemonCase):
    imap_security = "none"
    uidplus = True
    extra_config = "[daemon]\nbackoff_max_seconds = 2\n"

    def setUp(self):  # PipelineCase.setUp with Courier in place of Dovecot
        self.dir = tempfile.mkdtemp(prefix="pi-it-courier-")
        os.chmod(self.dir, 0o755)
        if not os.environ.get("PI_KEEP_TMP"):
            self.addCleanup(shutil.rmtree, self.dir, True)
        self.dovecot = Courier(os.path.join(self.dir, "courier"), uidplus=self.uidplus)
        self.dovecot.start()
        self.addCleanup(self.dovecot.stop)
        self.smtp = SmtpServer(os.path.join(self.dir, "smtp"), tls_dir=shared_tls_dir(),
                               **self.smtp_options)
        self.smtp.start()
        self.addCleanup(self.smtp.stop)
        self.config = self.write_config(imap=self.imap_settings())
        self.daemons = []
        self.addCleanup(self._kill_daemons)

    def imap_settings(self, **more):
        # Courier's folders live under "INBOX." (its namespace prefix).
        return dict({"ca_file": None, "processed_mailbox": "INBOX.Processed"}, **more)

    def assert_exactly_once(self, raws, mailbox="INBOX.Processed", extra_copies=0):
        super().assert_exactly_once(raws, mailbox, extra_copies)

    def test_a_pass_moves_without_move(self):
        self.assertNotIn("MOVE", self.dovecot.capabilities())
        raws = distinct_requests(3, seed=61)
        for raw in raws:
            self.deliver(raw)
        self.pi("fetch", "--once", "--no-send")
        self.assert_exactly_once(raws)

    def test_daemon_polls_without_idle(self):
        proc = self.start_daemon()
        self.wait_until("polling", lambda: "no IDLE: polling" in self.log_text(), proc=proc)
        self.deliver(distinct_requests(1, seed=62)[0])
        self.wait_until("ticket", lambda: self.ticket_count() == 1, proc=proc)
        self.assertEqual(self.status()["push"], "poll")
        self.stop_daemon(proc)

    def test_crash_after_commit_then_resume(self):
        raws = distinct_requests(3, seed=63)
        for raw in raws:
            self.deliver(raw)
        self.pi("fetch", "--once", env={"PRIVACY_INBOX_FAULT": "after-commit:2"}, expect=99)
        self.assertEqual(self.ticket_count(), 2)
        self.pi("fetch", "--once", "--no-send")
        self.assert_exactly_once(raws)

    def test_outage_mid_fetch(self):
        raws = distinct_requests(40, seed=64, pad=150000)
        for raw in raws:
            self.deliver(raw)
        config = self.write_config(imap=self.imap_settings(batch_size="4"), name="out.ini")
        proc = self.start_daemon(config)
        self.wait_until("some tickets", lambda: self.ticket_count() >= 3, interval=0.01,
                        proc=proc)
        self.dovecot.pause()
        time.sleep(2)
        self.dovecot.resume()
        self.wait_until("all", lambda: self.ticket_count() == 40, timeout=120, proc=proc)
        self.wait_until("inbox empty", lambda: self.dovecot.uids("INBOX") == [], proc=proc)
        self.stop_daemon(proc)
        log = self.log_text()
        self.assertEqual(log.count("mail ingestion interrupted"), 1, log)
        self.assertEqual(log.count("mail ingestion restored"), 1, log)
        # Without MOVE an outage between COPY and STORE \Deleted leaves a
        # second copy of that batch (4) in the processed mailbox; tickets
        # and the store stay exactly once.
        self.assert_exactly_once(raws, extra_copies=4)

    def test_sigkill_at_random_moments(self):
        seed = random.randrange(1 << 30)
        print(f"\ncourier soak seed {seed}", file=sys.stderr)
        rng = random.Random(seed)
        raws = distinct_requests(30, seed=seed % 1000, pad=20000)
        for raw in raws:
            self.deliver(raw)
        config = self.write_config(imap=self.imap_settings(batch_size="5"),
                                   policy={"auto_send": "ack;id_missing"}, name="kill.ini")
        for _ in range(3):
            proc = self.start_daemon(config)
            time.sleep(rng.uniform(0.1, 1.5))
            proc.kill()
            proc.wait()
        proc = self.start_daemon(config)
        self.wait_until("all", lambda: self.ticket_count() >= 30, timeout=120, proc=proc)
        self.wait_until("inbox empty", lambda: self.dovecot.uids("INBOX") == [], proc=proc)
        self.wait_until("outbox", lambda: self.status()["outbox"]["count"] == 0, proc=proc)
        self.stop_daemon(proc)
        self.assert_exactly_once(raws, extra_copies=3 * 5)  # per kill, at most a batch


class NoUidplus(CourierCase):
    """Courier without UIDPLUS: COPY + \\Deleted + plain EXPUNGE."""
    uidplus = False

    def test_a_pass_moves_without_move(self):
        self.assertNotIn("UIDPLUS", self.dovecot.capabilities())
        super().test_a_pass_moves_without_move()


# The full set runs once with UIDPLUS; without it only what differs.
for _name in ("test_daemon_polls_without_idle", "test_crash_after_commit_then_resume",
              "test_outage_mid_fetch", "test_sigkill_at_random_moments"):
    setattr(NoUidplus, _name, None)

if __name__ == "__main__":
    unittest.main()
