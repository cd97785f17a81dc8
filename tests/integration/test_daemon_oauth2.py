"""auth = xoauth2 against Dovecot's oauth2 passdb, which checks each access
token with a stand-in for the provider (tests/lib/oauth2_provider.py, token
endpoint and RFC 7662 introspection on loopback): refresh, rotation saved
atomically, refresh before expiry and after a refused token, and a revoked
refresh token (alert, no crash, no busy loop)."""
import os
import stat
import time
import unittest

from tests.integration.daemon_support import DaemonCase, distinct_requests
from tests.lib.oauth2_provider import OAuth2Provider


class OAuth2Case(DaemonCase):
    expires_in = 3600
    rotate = False
    daemon_extra = "backoff_max_seconds = 1\nalert_after_seconds = 60\n"

    smtp_xoauth2 = False

    def setUp(self):
        self.idp = OAuth2Provider(user="pi", expires_in=self.expires_in, rotate=self.rotate)
        self.idp.start()
        self.addCleanup(self.idp.stop)
        self.dovecot_options = {"oauth2_introspection_url": self.idp.introspection_url}
        if self.smtp_xoauth2:
            self.smtp_options = {"starttls": True, "xoauth2": self.idp.valid}
        super().setUp()
        self.refresh_file = os.path.join(self.dir, "secrets", "refresh-token")
        with open(self.refresh_file, "w") as f:
            f.write(self.idp.issue_refresh_token() + "\n")
        with open(os.path.join(self.dir, "secrets", "client"), "w") as f:
            f.write("client-secret\n")
        self.config = self.write_config(
            imap={"auth": "xoauth2", "password_file": None},
            smtp={"auth": "xoauth2", "user": "pi"} if self.smtp_xoauth2 else None,
            extra=("[oauth2]\n"
                   f"token_url = {self.idp.token_url}\n"
                   "client_id = privacy-inbox\n"
                   "client_secret_file = secrets/client\n"
                   "refresh_token_file = secrets/refresh-token\n"
                   "refresh_margin_seconds = 2\n"
                   "[daemon]\n" + self.daemon_extra +
                   "alert_to = admin@example.co.jp\n"))

    def refresh_token(self):
        with open(self.refresh_file) as f:
            return f.read().strip()


class Refresh(OAuth2Case):
    rotate = True

    def test_fetch_with_a_token_and_the_rotated_refresh_token_saved(self):
        first = self.refresh_token()
        self.deliver(distinct_requests(1, seed=51)[0])
        self.pi("fetch", "--once", "--no-send")
        self.assertEqual(self.ticket_count(), 1)
        self.assertEqual(self.idp.refresh_requests, 1)
        self.assertIn("xoauth2", self.dovecot.log_text().lower())
        # Rotated: the new refresh token is in the file (0600), the old
        # one is dead, and the next run works with the new one.
        second = self.refresh_token()
        self.assertNotEqual(second, first)
        self.assertNotIn(first, self.idp.refresh_tokens)
        self.assertEqual(stat.S_IMODE(os.stat(self.refresh_file).st_mode), 0o600)
        self.assertEqual([f for f in os.listdir(os.path.dirname(self.refresh_file))
                          if ".tmp" in f], [])
        self.deliver(distinct_requests(1, seed=52)[0])
        self.pi("fetch", "--once", "--no-send")
        self.assertEqual(self.ticket_count(), 2)
        self.assertNotEqual(self.refresh_token(), second)

    def test_wrong_client_secret_is_a_clear_error(self):
        with open(os.path.join(self.dir, "secrets", "client"), "w") as f:
            f.write("not-the-secret\n")
        proc = self.pi("fetch", "--once", expect=1)
        self.assertIn("invalid_client", proc.err)
        self.assertNotIn("rt-", proc.err)  # no token in messages


class Expiry(OAuth2Case):
    expires_in = 4

    def test_refreshed_before_expiry_while_idling(self):
        proc = self.start_daemon()
        self.wait_until("idle", lambda: self.status()["connection"] == "idle", proc=proc)
        first = self.status()["token_expires_at"]
        self.assertTrue(first)
        # Tokens live 4 s, refreshed 2 s ahead: several refreshes, and a
        # reconnect after expiry logs in with a fresh one.
        self.wait_until("refreshes", lambda: self.idp.refresh_requests >= 3, timeout=30,
                        proc=proc)
        self.dovecot.pause()
        time.sleep(1)
        self.dovecot.resume()
        self.deliver(distinct_requests(1, seed=53)[0])
        self.wait_until("ticket", lambda: self.ticket_count() == 1, proc=proc)
        self.assertNotEqual(self.status()["token_expires_at"], first)
        self.assertEqual(self.status()["alerts"], [])
        self.stop_daemon(proc)


class Refused(OAuth2Case):

    def test_refused_access_token_is_refreshed_once(self):
        proc = self.start_daemon()
        self.wait_until("idle", lambda: self.status()["connection"] == "idle", proc=proc)
        self.assertEqual(self.idp.refresh_requests, 1)
        self.idp.revoke_access_tokens()  # e.g. the admin reset the session
        self.dovecot.pause()
        self.dovecot.resume()
        self.deliver(distinct_requests(1, seed=54)[0])
        self.wait_until("ticket", lambda: self.ticket_count() == 1, proc=proc)
        self.assertEqual(self.idp.refresh_requests, 2)
        self.assertIn("refused the access token", self.log_text())
        self.assertEqual(self.status()["alerts"], [])
        self.stop_daemon(proc)

    def test_revoked_refresh_token_alerts_once_without_busy_loop(self):
        proc = self.start_daemon()
        self.wait_until("idle", lambda: self.status()["connection"] == "idle", proc=proc)
        self.idp.revoke_refresh_tokens()
        self.idp.revoke_access_tokens()
        self.dovecot.pause()
        self.dovecot.resume()
        [(envelope, alert)] = self.received(1, timeout=30)
        self.assertIn("auth", str(alert["Subject"]))
        self.assertIn("invalid_grant", alert.get_content())
        before = self.idp.refresh_requests
        time.sleep(5)
        tries = self.idp.refresh_requests - before
        # backoff_max_seconds = 1: a handful of tries, not a busy loop.
        self.assertLess(tries, 15, tries)
        self.assertIsNone(proc.poll())
        self.assertEqual(len(self.smtp.messages()), 1)
        status = self.status()
        self.assertEqual([a["kind"] for a in status["alerts"]], ["auth"])
        self.assertIn("invalid_grant", status["last_error"])
        # The admin authorizes again: a new refresh token in the file.
        with open(self.refresh_file, "w") as f:
            f.write(self.idp.issue_refresh_token() + "\n")
        self.deliver(distinct_requests(1, seed=55)[0])
        self.wait_until("ticket", lambda: self.ticket_count() == 1, timeout=30, proc=proc)
        msgs = self.received(2, timeout=30)
        self.assertNotEqual(str(msgs[1][1]["Subject"]), str(alert["Subject"]))
        self.assertIn("authentication works again", msgs[1][1].get_content())
        self.stop_daemon(proc)


class Smtp(OAuth2Case):
    smtp_xoauth2 = True

    def test_replies_go_out_with_xoauth2(self):
        with open(self.config) as f:
            extra = f.read().split("[policy]\n", 1)[1]
        config = self.write_config(
            imap={"auth": "xoauth2", "password_file": None},
            smtp={"auth": "xoauth2", "user": "pi"}, policy={"auto_send": "id_missing"},
            name="send.ini", extra=extra)
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once", config=config)
        [(envelope, reply)] = self.received(1)
        self.assertEqual(envelope["auth_user"], "pi")
        self.assertIn("[PRV-", str(reply["Subject"]))
        # A token the SMTP server refuses is refreshed once; the reply
        # still goes out exactly once.
        proc = self.start_daemon(config)
        self.wait_until("idle", lambda: self.status()["connection"] == "idle", proc=proc)
        before = self.idp.refresh_requests
        self.idp.revoke_access_tokens()
        self.deliver(distinct_requests(1, seed=56)[0])
        self.wait_until("second reply", lambda: len(self.smtp.messages()) == 2, timeout=30,
                        proc=proc)
        self.stop_daemon(proc)
        self.assertEqual(self.idp.refresh_requests, before + 1)
        self.assertIn("SMTP refused the access token", self.log_text())
        self.assertEqual(len(self.smtp.messages()), 2)
        self.assertEqual([d["state"] for d in self.drafts()], ["sent", "sent"])


if __name__ == "__main__":
    unittest.main()
