"""What goes wrong: crashes between steps, refused servers, bad
configuration, SMTP failures, signals.  Each ends with a one-line error and
nothing half-written, and nothing is lost or sent twice."""
import json
import os
import signal
import socket
import subprocess
import time
import unittest

import email.utils

from tests.integration.harness import BIN, PipelineCase, fixture, parse_mail

LICENSE_REQUEST = "requests/ja-iso2022jp-disclosure-license.eml"


class CrashBetweenCommitAndServer(PipelineCase):

    def test_kill_after_commit_creates_no_duplicate(self):
        self.deliver(LICENSE_REQUEST)
        self.deliver("requests/en-stop-use.eml")
        self.deliver("requests/ja-correction.eml")
        # Die right after the second message is committed, before the
        # server is told anything.
        crashed = self.pi("fetch", "--once", env={"PRIVACY_INBOX_FAULT": "after-commit:2"},
                          expect=99)
        self.assertIn("fault injection", crashed.err)
        self.assertEqual(len(self.tickets()), 2)
        self.assertEqual(len(self.dovecot.uids("INBOX")), 3)  # nothing moved yet
        self.pi("fetch", "--once")
        tickets = self.tickets()
        self.assertEqual(len(tickets), 3)
        self.assertEqual(len({t["ref"] for t in tickets}), 3)
        self.assertEqual(self.count("SELECT count(*) FROM messages"), 3)
        self.assertEqual(self.dovecot.uids("INBOX"), [])
        self.assertEqual(len(self.dovecot.uids("Processed")), 3)
        self.assertEqual(self.count("SELECT count(*) FROM server_pending"), 0)

    def test_kill_before_commit_loses_nothing(self):
        self.deliver(LICENSE_REQUEST)
        self.pi("fetch", "--once", env={"PRIVACY_INBOX_FAULT": "before-commit"}, expect=99)
        self.assertEqual(self.tickets(), [])
        self.assertEqual(len(self.dovecot.uids("INBOX")), 1)
        self.pi("fetch", "--once")
        self.assertEqual(len(self.tickets()), 1)
        self.assertEqual(self.dovecot.uids("INBOX"), [])

    def test_kill_after_smtp_accepted_never_sends_twice(self):
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        [d] = self.drafts()
        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")
        self.pi("send", env={"PRIVACY_INBOX_FAULT": "after-send"}, expect=99)
        self.assertEqual(len(self.received(1)), 1)
        # The outcome is unknown to the store: it is not retried by itself.
        self.pi("send")
        self.pi("fetch", "--once")
        time.sleep(0.5)
        self.assertEqual(len(self.smtp.messages()), 1)
        [d] = self.drafts()
        self.assertEqual(d["state"], "failed")
        self.assertIn("interrupted while sending", d["last_error"])


class SmtpTemporaryFailure(PipelineCase):
    smtp_options = {"starttls": True, "auth": "privacy:smtp-secret", "tempfail": 1}

    def test_4xx_stays_in_outbox_then_is_delivered_once(self):
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        [d] = self.drafts()
        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")
        failed = self.pi("send", expect=1, env={"PRIVACY_INBOX_NOW": "2026-11-27T10:00:00Z"})
        self.assertIn("451", failed.out + failed.err)
        [d] = self.drafts()
        self.assertEqual(d["state"], "failed")
        self.assertTrue(d["retry"])
        self.assertIn("451", d["last_error"])
        # Retried once its backoff (about a minute after one failure) is over.
        self.pi("send", env={"PRIVACY_INBOX_NOW": "2026-11-27T10:05:00Z"})
        self.assertEqual(len(self.received(1)), 1)
        self.pi("send", env={"PRIVACY_INBOX_NOW": "2026-11-27T11:00:00Z"})
        self.assertEqual(len(self.smtp.messages()), 1)
        self.assertEqual(self.drafts()[0]["state"], "sent")


class SmtpPermanentFailure(PipelineCase):
    requester = email.utils.parseaddr(parse_mail(fixture("requests/en-stop-use.eml"))["From"])[1]
    smtp_options = {"starttls": True, "auth": "privacy:smtp-secret", "reject": requester}

    def test_5xx_is_flagged_and_not_retried(self):
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        [d] = self.drafts()
        self.assertEqual(d["to"], self.requester)
        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")
        self.pi("send", expect=1)
        [d] = self.drafts()
        self.assertEqual(d["state"], "failed")
        self.assertFalse(d["retry"])
        self.assertIn("550", d["last_error"])
        self.pi("send")
        self.assertEqual(self.smtp.messages(), [])


class Refusals(PipelineCase):
    """Unreachable server, wrong password, refused certificate, unreadable
    configuration: one line on stderr, exit 1, nothing in the store."""

    def assert_refused(self, proc, *words):
        self.assertEqual(proc.returncode, 1, proc.err)
        lines = proc.err.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.err)
        for word in words:
            self.assertIn(word, lines[0])
        self.assertEqual(len(self.dovecot.uids("INBOX")), 1)
        if os.path.exists(os.path.join(self.dir, "state", "privacy-inbox.db")):
            self.assertEqual(self.count("SELECT count(*) FROM messages"), 0)
            self.assertEqual(self.count("SELECT count(*) FROM tickets"), 0)

    def setUp(self):
        super().setUp()
        self.deliver(LICENSE_REQUEST)

    def test_unreachable(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        config = self.write_config(imap={"port": str(port)}, name="unreachable.ini")
        self.assert_refused(self.pi("fetch", "--once", config=config, expect=None), str(port))

    def test_wrong_password(self):
        with open(os.path.join(self.dir, "wrong"), "w") as f:
            f.write("not-the-password\n")
        config = self.write_config(imap={"password_file": "wrong"}, name="wrong.ini")
        proc = self.pi("fetch", "--once", config=config, expect=None)
        self.assert_refused(proc, "login")
        self.assertNotIn("not-the-password", proc.err)

    def test_untrusted_certificate(self):
        config = self.write_config(imap={"ca_file": self.dovecot.other_ca_file}, name="ca.ini")
        logins = self.dovecot.log_text().count("Login: user=<")
        self.assert_refused(self.pi("fetch", "--once", config=config, expect=None), "certificate")
        # …and no credentials reached the server (the harness's own logins
        # for delivering and checking are the only ones).
        self.assertEqual(self.dovecot.log_text().count("Login: user=<"), logins + 1)
        self.assertNotIn("auth failed", self.dovecot.log_text())

    def test_system_store_does_not_trust_test_ca(self):
        config = self.write_config(imap={"ca_file": None}, name="system.ini")
        self.assert_refused(self.pi("fetch", "--once", config=config, expect=None), "certificate")

    def test_plain_text_only_when_configured(self):
        config = self.write_config(imap={"security": "starttls", "port": str(self.dovecot.imap_port)},
                                   name="starttls.ini")
        self.pi("fetch", "--once", config=config, env={"PRIVACY_INBOX_FAULT": "before-commit"},
                expect=99)
        config = self.write_config(imap={"security": "none", "port": str(self.dovecot.imap_port)},
                                   name="plain.ini")
        self.pi("fetch", "--once", config=config)
        self.assertEqual(len(self.tickets()), 1)

    def test_bad_configuration(self):
        cases = {
            "missing.ini": None,
            "typo.ini": "[imap]\nhots = 127.0.0.1\n",
            "syntax.ini": "[imap\nhost = x\n",
            "security.ini": "[imap]\nsecurity = ssl\n",
        }
        for name, text in cases.items():
            path = os.path.join(self.dir, name)
            if text is not None:
                with open(path, "w") as f:
                    f.write(text)
            proc = self.pi("fetch", "--once", config=path, expect=None)
            self.assert_refused(proc, name)
        unreadable = os.path.join(self.dir, "unreadable.ini")
        os.mkdir(unreadable)
        self.assert_refused(self.pi("tickets", "list", config=unreadable, expect=None),
                            "unreadable.ini")

    def test_world_readable_config_is_warned_about(self):
        os.chmod(self.config, 0o644)
        proc = self.pi("tickets", "list")
        self.assertIn("readable by other users", proc.err)
        os.chmod(self.config, 0o600)
        self.assertNotIn("readable", self.pi("tickets", "list").err)


class CommandLine(PipelineCase):

    def test_usage_errors_exit_2(self):
        for args in (["nonsense"], ["fetch"], ["tickets", "list", "--bogus"],
                     ["drafts", "approve", "1"], ["drafts", "reject", "1", "--by", "x"],
                     ["drafts", "show", "abc"], ["tickets"], ["parse"]):
            proc = self.pi(*args, expect=None)
            self.assertEqual(proc.returncode, 2, f"{args}: {proc.err}")
            self.assertTrue(proc.err)

    def test_help_everywhere(self):
        for args in ([], ["fetch"], ["run"], ["ingest"], ["parse"], ["tickets", "list"],
                     ["tickets", "show"], ["drafts", "list"], ["drafts", "show"],
                     ["drafts", "edit"], ["drafts", "approve"], ["drafts", "reject"],
                     ["send"], ["templates", "render"], ["tickets"], ["drafts"]):
            proc = self.pi(*args, "--help", config=False, expect=0)
            self.assertIn("Usage", proc.out, args)

    def test_missing_ticket_and_draft(self):
        proc = self.pi("tickets", "show", "PRV-2026-999999", expect=1)
        self.assertIn("no ticket PRV-2026-999999", proc.err)
        proc = self.pi("drafts", "approve", "42", "--by", "sato", expect=1)
        self.assertIn("no draft 42", proc.err)

    def test_config_from_environment(self):
        self.deliver(LICENSE_REQUEST)
        self.pi("fetch", "--once", config=False, env={"PRIVACY_INBOX_CONFIG": self.config})
        self.assertEqual(len(self.tickets()), 1)

    def test_parse_json_shape(self):
        path = os.path.join("tests/fixtures", LICENSE_REQUEST)
        one = self.pi_json("parse", "--json", path, config=False)
        for key in ("message_id", "from", "subject", "date", "language", "request_types",
                    "is_auto", "auto_reason", "in_reply_to", "references", "ticket_ref", "text",
                    "id_documents", "attachments"):
            self.assertIn(key, one)
        self.assertEqual(one["request_types"][0], "disclosure")
        self.assertEqual(one["language"], "ja")
        self.assertEqual(len(one["id_documents"]), 1)
        self.assertEqual(one["id_documents"][0]["filename"], "運転免許証.jpg")
        for key in ("filename", "content_type", "size", "sha256"):
            self.assertIn(key, one["id_documents"][0])
        self.assertEqual(one["attachments"][0]["kind"], "id_document")
        several = self.pi("parse", "--json", path, "tests/fixtures/requests/en-stop-use.eml",
                          config=False).out.splitlines()
        self.assertEqual(len(several), 2)
        self.assertEqual(json.loads(several[1])["request_types"][0], "stop_use")
        # Nothing was written anywhere.
        self.assertFalse(os.path.exists(os.path.join(self.dir, "state")))


class Daemon(PipelineCase):

    def test_run_picks_up_mail_and_stops_on_sigterm(self):
        log = open(os.path.join(self.dir, "run.log"), "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen([BIN, "--config", self.config, "run"], stdout=log, stderr=log)
        try:
            self.deliver(LICENSE_REQUEST)
            deadline = time.time() + 20
            while time.time() < deadline and not self.tickets():
                time.sleep(0.3)
            self.assertEqual(len(self.tickets()), 1)
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=15), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(self.dovecot.uids("INBOX"), [])


if __name__ == "__main__":
    unittest.main()
