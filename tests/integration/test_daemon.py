"""`privacy-inbox run` against a real Dovecot: IDLE, polling, outages,
connections cut mid-literal, UIDVALIDITY resets, the same mail in two
folders, the single-instance lock, signals, status, alerts, and SIGKILL at
random moments (exactly once).  The long version of the SIGKILL test is
`make soak` (PI_SOAK_MESSAGES, PI_SOAK_KILLS)."""
import email
import os
import random
import re
import shutil
import signal
import sys
import time
import unittest

from tests.integration.daemon_support import DaemonCase, distinct_requests
from tests.integration.harness import ROOT
from tests.lib.cutproxy import CutProxy

DAEMON = "[daemon]\nbackoff_max_seconds = 2\n"


class Push(DaemonCase):
    extra_config = DAEMON

    def test_idle_makes_a_ticket_within_seconds(self):
        # poll_seconds = 60: only IDLE can bring the mail in well before that.
        config = self.write_config(imap={"poll_seconds": "60"}, name="idle.ini")
        proc = self.start_daemon(config)
        self.wait_until("IDLE", lambda: "waiting with IDLE" in self.log_text(), proc=proc)
        latencies = []
        for i, raw in enumerate(distinct_requests(3, seed=7)):
            self.wait_until("idle state",
                            lambda: self.status()["connection"] == "idle", proc=proc)
            start = time.monotonic()
            self.deliver(raw)
            self.wait_until("ticket", lambda: self.ticket_count() == i + 1, timeout=50,
                            interval=0.02, proc=proc)
            latencies.append(time.monotonic() - start)
        print(f"\nIDLE: delivery to ticket {', '.join(f'{t:.2f}' for t in latencies)} s",
              file=sys.stderr)
        self.assertTrue(all(t < 30 for t in latencies), latencies)  # no IDLE: ~60 s
        status = self.status()
        self.assertEqual(status["push"], "idle")
        self.assertTrue(status["running"])
        self.assertEqual(status["backlog"]["processed"], 3)
        self.stop_daemon(proc)
        self.assertEqual(self.status()["connection"], "stopped")
        self.assertFalse(self.status()["running"])


class Poll(DaemonCase):
    dovecot_options = {"no_idle": True}
    extra_config = DAEMON

    def test_polls_when_the_server_has_no_idle(self):
        proc = self.start_daemon()
        self.wait_until("polling", lambda: "no IDLE: polling" in self.log_text(), proc=proc)
        self.deliver("requests/en-stop-use.eml")
        self.wait_until("ticket", lambda: self.ticket_count() == 1, proc=proc)
        self.assertEqual(self.status()["push"], "poll")
        self.stop_daemon(proc)


class Outages(DaemonCase):
    extra_config = DAEMON + "alert_after_seconds = 2\nalert_to = admin@example.co.jp\n"

    def test_dovecot_restarted_mid_fetch(self):
        raws = distinct_requests(60, seed=3, pad=150000)
        for raw in raws:
            self.deliver(raw)
        config = self.write_config(imap={"batch_size": "5"}, name="restart.ini",
                                   extra=DAEMON)
        proc = self.start_daemon(config)
        self.wait_until("some tickets", lambda: self.ticket_count() >= 3, interval=0.01,
                        proc=proc)
        self.dovecot.pause()
        at_outage = self.ticket_count()
        time.sleep(3)
        self.dovecot.resume()
        self.wait_until("all tickets", lambda: self.ticket_count() == 60, timeout=120, proc=proc)
        self.wait_until("inbox empty", lambda: self.dovecot.uids("INBOX") == [], proc=proc)
        self.stop_daemon(proc)
        log = self.log_text()
        print(f"\noutage after {at_outage} of 60 tickets", file=sys.stderr)
        self.assertLess(at_outage, 60, "the outage came too late to be mid-fetch")
        self.assertEqual(log.count("mail ingestion interrupted"), 1, log)
        self.assertEqual(log.count("mail ingestion restored"), 1, log)
        self.assert_exactly_once(raws)

    def test_connection_cut_in_the_middle_of_a_literal(self):
        raws = distinct_requests(4, seed=5, pad=400000)
        for raw in raws:
            self.deliver(raw)
        with CutProxy(self.dovecot.imap_port, cuts=1, after=100000) as proxy:
            config = self.write_config(
                imap={"security": "none", "port": str(proxy.port)}, name="cut.ini", extra=DAEMON)
            proc = self.start_daemon(config)
            self.wait_until("all tickets", lambda: self.ticket_count() == 4, proc=proc)
            self.wait_until("inbox empty", lambda: self.dovecot.uids("INBOX") == [], proc=proc)
            self.stop_daemon(proc)
            self.assertEqual((proxy.cut, proxy.connections), (1, 2))
        log = self.log_text()
        self.assertEqual(log.count("mail ingestion interrupted"), 1, log)
        self.assertIn("connection", log.split("mail ingestion interrupted")[1].splitlines()[0])
        self.assertEqual(log.count("mail ingestion restored"), 1, log)
        self.assert_exactly_once(raws)
        # The half-received message left nothing behind in the spool.
        stray = [f for _, _, files in os.walk(self.spool()) for f in files
                 if not re.fullmatch(r"[0-9a-f]{64}", f)]
        self.assertEqual(stray, [])

    def test_alert_once_per_incident_and_one_recovery_notice(self):
        proc = self.start_daemon()
        self.wait_until("connected", lambda: self.status()["last_poll_ok"], proc=proc)
        self.dovecot.pause()
        [(envelope, alert)] = self.received(1, timeout=30)
        self.assertEqual(envelope["rcpt_tos"], ["admin@example.co.jp"])
        self.assertIn("ingestion", str(alert["Subject"]))
        self.assertIn("mail ingestion has stopped", alert.get_content())
        status = self.status()
        self.assertEqual(status["connection"], "disconnected")
        self.assertIn("connect", status["last_error"])
        self.assertEqual([a["kind"] for a in status["alerts"]], ["ingestion"])
        time.sleep(4)  # more failed attempts: still one alert
        self.assertEqual(len(self.smtp.messages()), 1)
        self.dovecot.resume()
        self.deliver("requests/en-stop-use.eml")
        self.wait_until("ticket", lambda: self.ticket_count() == 1, proc=proc)
        msgs = self.received(2, timeout=30)
        self.assertNotEqual(str(msgs[1][1]["Subject"]), str(alert["Subject"]))
        self.assertIn("mail ingestion works again", msgs[1][1].get_content())
        time.sleep(2)
        self.assertEqual(len(self.smtp.messages()), 2)
        self.assertEqual(self.status()["alerts"], [])
        self.stop_daemon(proc)
        log = self.log_text()
        self.assertEqual(log.count("ALERT ingestion:"), 1, log)
        self.assertEqual(log.count("ALERT ingestion resolved"), 1, log)

    def test_server_and_store_disagree(self):
        uids = [self.deliver(r) for r in distinct_requests(2, seed=11)]
        self.pi("fetch", "--once", "--no-send")
        # A third message the store claims to have passed (a checkpoint
        # beyond it): the server holds mail our count says is done.
        uid = self.deliver(distinct_requests(1, seed=12)[0])
        db = self.db()
        db.execute("UPDATE mailboxes SET last_uid = ?", (uid + 5,))
        db.commit()
        proc = self.start_daemon()
        [(_, alert)] = self.received(1, timeout=30)
        self.assertIn("mismatch", str(alert["Subject"]))
        self.assertIn("disagree", alert.get_content())
        self.assertIn("1 messages", alert.get_content())
        self.assertEqual([a["kind"] for a in self.status()["alerts"]], ["mismatch"])
        self.stop_daemon(proc)
        self.assertEqual(len(uids), 2)


class Recovery(DaemonCase):
    processed_action = "flag"
    extra_config = DAEMON

    def test_uidvalidity_reset_rescans_without_duplicates(self):
        raws = distinct_requests(3, seed=21)
        for raw in raws:
            self.deliver(raw)
        self.pi("fetch", "--once", "--no-send")
        self.assertEqual(self.ticket_count(), 3)
        old = self.count("SELECT uidvalidity FROM mailboxes")
        # Dovecot forgets its UIDs: a new UIDVALIDITY for the same mail.
        self.dovecot.pause()
        maildir = os.path.join(self.dovecot.dir, "mail", "pi", "Maildir")
        for name in os.listdir(maildir):
            if name.startswith("dovecot"):
                os.unlink(os.path.join(maildir, name))
        time.sleep(1.1)  # UIDVALIDITY is a timestamp
        self.dovecot.resume()
        self.deliver(distinct_requests(1, seed=22)[0])
        proc = self.start_daemon()
        self.wait_until("new ticket", lambda: self.ticket_count() == 4, proc=proc)
        self.wait_until("rescan", lambda: self.status()["backlog"]["last_uid"] == 4, proc=proc)
        self.stop_daemon(proc)
        self.assertNotEqual(self.count("SELECT uidvalidity FROM mailboxes"), old)
        self.assertIn("UIDVALIDITY of INBOX changed", self.log_text())
        self.assertEqual(self.ticket_count(), 4)
        self.assertEqual(self.count("SELECT count(*) FROM messages"), 4)

    def test_same_mail_in_two_folders_and_sighup(self):
        raw = distinct_requests(1, seed=31)[0]
        self.deliver(raw)
        self.deliver(raw, mailbox="Archive")
        proc = self.start_daemon()
        self.wait_until("ticket", lambda: self.ticket_count() == 1, proc=proc)
        # Watch the other folder now: SIGHUP reloads the configuration.
        self.write_config(imap={"mailbox": "Archive"}, extra=DAEMON)
        proc.send_signal(signal.SIGHUP)
        self.wait_until("reload", lambda: "configuration reloaded" in self.log_text(), proc=proc)
        self.wait_until("archive done", lambda: "$PrivacyInboxProcessed" in " ".join(
            self.dovecot.flags("Archive", self.dovecot.uids("Archive")[0])), proc=proc)
        # A configuration with a mistake is refused; the daemon goes on.
        with open(self.config, "a") as f:
            f.write("[imap]\nhots = typo\n")
        proc.send_signal(signal.SIGHUP)
        self.wait_until("refusal", lambda: "configuration not reloaded" in self.log_text(),
                        proc=proc)
        self.assertIsNone(proc.poll())
        self.stop_daemon(proc)
        self.assertEqual(self.ticket_count(), 1)
        self.assertEqual(self.count("SELECT count(*) FROM messages"), 1)


class Signals(DaemonCase):
    extra_config = DAEMON

    def test_second_instance_is_refused(self):
        proc = self.start_daemon()
        self.wait_until("running", lambda: self.status()["running"], proc=proc)
        for args in (["run"], ["fetch", "--once"], ["send"]):
            second = self.pi(*args, expect=1)
            lines = second.err.strip().splitlines()
            self.assertEqual(len(lines), 1, second.err)
            self.assertIn(f"pid {proc.pid}", lines[0])
            self.assertIn("already working on this mailbox", lines[0])
        self.stop_daemon(proc)
        self.pi("fetch", "--once")  # free again

    def test_sighup_reloads_templates(self):
        templates = os.path.join(self.dir, "templates")
        shutil.copytree(os.path.join(ROOT, "templates"), templates)
        config = self.write_config(name="tmpl.ini", extra=DAEMON + f"[templates]\ndir = {templates}\n")
        proc = self.start_daemon(config)
        self.wait_until("running", lambda: self.status()["last_poll_ok"], proc=proc)
        path = os.path.join(templates, "en", "id_missing.tmpl")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\nRELOADED-TEMPLATE-MARKER\n")
        proc.send_signal(signal.SIGHUP)
        self.wait_until("reload", lambda: "configuration reloaded" in self.log_text(), proc=proc)
        self.deliver("requests/en-stop-use.eml")
        self.wait_until("draft", lambda: self.count("SELECT count(*) FROM drafts"), proc=proc)
        self.stop_daemon(proc)
        [draft] = self.drafts()
        self.assertIn("RELOADED-TEMPLATE-MARKER", self.pi("drafts", "show", str(draft["id"])).out)
        # the reload is on the audit record, with the file it came from
        [row] = self.db().execute(
            "SELECT actor, detail FROM audit WHERE action = 'configuration reloaded'").fetchall()
        self.assertEqual(row["actor"], "privacy-inbox")
        self.assertEqual(row["detail"], config)

    def test_sigterm_in_a_backlog_finishes_the_message_and_exits_0(self):
        raws = distinct_requests(40, seed=41, pad=50000)
        for raw in raws:
            self.deliver(raw)
        proc = self.start_daemon()
        self.wait_until("some tickets", lambda: self.ticket_count() >= 2, interval=0.01,
                        proc=proc)
        self.stop_daemon(proc)
        self.assertIn("stopped", self.log_text())
        # Whatever was committed is whole; the rest comes with the next pass.
        self.pi("fetch", "--once", "--no-send")
        self.assert_exactly_once(raws)


class Housekeeping(DaemonCase):
    """The daily purge and the staff digest happen in `run`, once a day."""

    def test_daily_purge_and_digest_once_a_day(self):
        self.config = self.write_config(policy={"staff_address": "office@example.co.jp",
                                                "digest_hour": "9"}, extra=DAEMON)
        t0 = "2026-11-02T10:00:00+09:00"
        self.deliver("requests/ja-iso2022jp-disclosure-license.eml")
        self.pi("fetch", "--once", "--no-send", env={"PRIVACY_INBOX_NOW": t0})
        [t] = self.tickets()
        [doc] = self.db().execute("SELECT id, spool_path FROM attachments"
                                  " WHERE kind = 'id_document'").fetchall()
        self.assertTrue(os.path.exists(self.spool(doc["spool_path"])))
        self.pi("tickets", "reject", t["ref"], "--by", "sato", "--reason", "本人確認ができませんでした",
                env={"PRIVACY_INBOX_NOW": "2026-11-03T10:00:00+09:00"})
        # Well past id_retention_days (30) after the ticket was finished,
        # after digest_hour: one daemon pass does both.
        later = {"PRIVACY_INBOX_NOW": "2026-12-10T10:00:00+09:00"}
        proc = self.start_daemon(env=later)
        self.wait_until("the purge", lambda: self.count(
            "SELECT count(*) FROM audit WHERE action = 'purge'"
            " AND actor = 'privacy-inbox (daily purge)'"), proc=proc)
        [(envelope, _)] = self.received(1)
        self.assertEqual(envelope["rcpt_tos"], ["office@example.co.jp"])
        self.assertFalse(os.path.exists(self.spool(doc["spool_path"])))
        # More passes the same day: no second purge run, no second digest.
        time.sleep(3)
        self.stop_daemon(proc)
        self.assertEqual(self.count("SELECT count(*) FROM audit"
                                    " WHERE action = 'purge' AND ticket_ref IS NULL"), 1)
        self.assertEqual(self.count("SELECT count(*) FROM audit WHERE action = 'digest sent'"), 1)
        self.assertIn("daily purge: ", self.log_text())
        self.assertEqual(len(self.smtp.messages()), 1)


class ExactlyOnce(DaemonCase):
    """SIGKILL at random moments while the daemon fetches, routes and sends
    (auto_send is on so replies go out too).  `make test` runs 60 requests and
    5 kills; `make soak` 300 and 20 (or PI_SOAK_MESSAGES / PI_SOAK_KILLS)."""
    daemon_debug = ""

    def test_sigkill_at_random_moments(self):
        n = int(os.environ.get("PI_SOAK_MESSAGES", "60"))
        kills = int(os.environ.get("PI_SOAK_KILLS", "5"))
        seed = int(os.environ.get("PI_SOAK_SEED", str(random.randrange(1 << 30))))
        print(f"\nsoak: {n} requests, {kills} kills, seed {seed}", file=sys.stderr)
        rng = random.Random(seed)
        raws = distinct_requests(n, seed=seed % 1000, pad=20000)
        config = self.write_config(policy={"auto_send": "ack;id_missing"}, name="soak.ini",
                                   imap={"batch_size": "7"}, extra=DAEMON)
        delivered = 0
        for k in range(kills):
            # Mail keeps arriving, also while the daemon is down.
            while delivered < n * (k + 1) // kills:
                self.deliver(raws[delivered])
                delivered += 1
            proc = self.start_daemon(config)
            time.sleep(rng.uniform(0.1, 2.5))
            proc.kill()
            proc.wait()
        while delivered < n:
            self.deliver(raws[delivered])
            delivered += 1
        proc = self.start_daemon(config)
        self.wait_until("all tickets", lambda: self.ticket_count() >= n, timeout=300, proc=proc)
        self.wait_until("inbox empty", lambda: self.dovecot.uids("INBOX") == [], timeout=60,
                        proc=proc)
        self.wait_until("outbox empty", lambda: self.status()["outbox"]["count"] == 0,
                        timeout=60, proc=proc)
        self.stop_daemon(proc)
        self.assert_exactly_once(raws)
        drafts = self.drafts()
        self.assertEqual(len(drafts), n)
        sent = sum(d["state"] == "sent" for d in drafts)
        interrupted = [d for d in drafts if d["state"] == "failed"]
        for d in interrupted:  # killed while talking to the SMTP server
            self.assertIn("interrupted while sending", d["last_error"])
        self.assertEqual(sent + len(interrupted), n)
        # never twice: every message the SMTP server accepted is a distinct
        # reply, and each reply marked sent is among them
        ids = [m["Message-ID"] for _, m in self.smtp.messages()]
        self.assertEqual(len(ids), len(set(ids)), "a reply was sent twice")
        self.assertGreaterEqual(len(ids), sent)
        self.assertLessEqual(len(ids), sent + len(interrupted))
        print(f"soak: {sent} replies sent once, {len(interrupted)} interrupted sends held "
              f"for staff", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
