"""Whole cases as the privacy office works them, against real Dovecot and
SMTP servers: identity check, fee, statutory clock, follow-ups, loop
protection, retries, the Sent folder, four eyes."""
import email
import email.message
import email.utils
import json
import os
import time
import unittest

from tests.integration.harness import PipelineCase, fixture, parse_mail

LICENSE_REQUEST = "requests/ja-iso2022jp-disclosure-license.eml"


def licence_photo():
    return next(parse_mail(fixture(LICENSE_REQUEST)).iter_attachments()).get_content()


class Case(PipelineCase):
    """Helpers to walk a ticket."""

    def approve_and_send(self, draft_id, by="sato"):
        self.pi("drafts", "approve", str(draft_id), "--by", by)
        self.pi("send")

    def pending(self, ref):
        return [d for d in self.drafts() if d["ticket_ref"] == ref and d["state"] == "pending"]

    def ticket(self, ref):
        return self.pi_json("tickets", "show", ref, "--json")

    def reply_to(self, ours, text, attach=None, sender=None):
        msg = email.message.EmailMessage()
        msg["From"] = sender or ours["To"]
        msg["To"] = ours["From"]
        msg["Subject"] = "Re: " + str(ours["Subject"])
        msg["Message-ID"] = email.utils.make_msgid(domain="example.org")
        msg["In-Reply-To"] = ours["Message-ID"]
        msg["References"] = ours["Message-ID"]
        msg["Date"] = email.utils.formatdate(localtime=True)
        msg.set_content(text)
        if attach:
            msg.add_attachment(attach, maintype="image", subtype="jpeg", filename="licence.jpg")
        return msg.as_bytes()


class DisclosureCase(Case):

    def test_disclosure_without_id_to_closed(self):
        # 1. A disclosure request without an identity document.
        self.deliver("requests/en-disclosure.eml", internaldate="2026-11-20T10:00:00+09:00")
        self.pi("fetch", "--once", env={"PRIVACY_INBOX_NOW": "2026-11-20T10:05:00+09:00"})
        [t] = self.tickets()
        ref = t["ref"]
        self.assertEqual(t["state"], "awaiting_id")
        self.assertTrue(t["paused"], "the clock waits for the requester")
        self.assertEqual(t["received_at"], "2026-11-20T01:00:00Z")
        self.assertEqual(t["legal_due_at"], "2026-12-04T14:59:59Z")  # 2026-12-04 23:59:59 JST

        # 2. We ask for an ID; the requester answers with a licence photo
        #    three days later.
        [ask] = self.pending(ref)
        self.assertEqual(ask["kind"], "id_missing")
        self.approve_and_send(ask["id"])
        [(_, ours)] = self.received(1)
        self.deliver(self.reply_to(ours, "Attached is my licence.\n", licence_photo()),
                     internaldate="2026-11-23T10:00:00+09:00")
        self.pi("fetch", "--once", env={"PRIVACY_INBOX_NOW": "2026-11-23T10:05:00+09:00"})
        t = self.ticket(ref)
        self.assertEqual(t["state"], "awaiting_verification")
        self.assertEqual(t["id_documents"], 1)
        self.assertFalse(t["paused"])
        # 14 days counted from the request, moved by the 3 days we waited.
        self.assertEqual(t["due_at"], "2026-12-07T14:59:59Z")
        self.assertEqual(t["legal_due_at"], "2026-12-04T14:59:59Z")

        # 3. Staff verify: disclosure carries the fee, so fee instructions.
        out = self.pi("tickets", "verify", ref, "--by", "sato", "--document-type", "drivers_license",
                      env={"PRIVACY_INBOX_NOW": "2026-11-24T10:00:00+09:00"}).out
        self.assertIn("awaiting_verification → awaiting_fee", out)
        [fee] = self.pending(ref)
        self.assertEqual(fee["kind"], "id_confirmed_fee")
        body = self.pi_json("drafts", "show", str(fee["id"]), "--json")["body"]
        self.assertIn("1,000", body)
        self.approve_and_send(fee["id"])
        self.assertTrue(self.ticket(ref)["paused"])

        # 4. The fee arrives two days later.
        self.pi("tickets", "fee", ref, "--paid", "--by", "suzuki", "--method", "bank",
                "--receipt", "振込 0123", env={"PRIVACY_INBOX_NOW": "2026-11-26T10:00:00+09:00"})
        t = self.ticket(ref)
        self.assertEqual(t["state"], "in_progress")
        self.assertEqual(t["fee_status"], "paid")
        self.assertEqual(t["due_at"], "2026-12-09T14:59:59Z")  # two more days of waiting
        [received] = self.pending(ref)
        self.assertEqual(received["kind"], "fee_received")
        self.approve_and_send(received["id"])

        # 5. The answer, with the disclosed data attached.
        self.pi("tickets", "answer", ref, "--by", "sato")
        [result] = self.pending(ref)
        self.assertEqual(result["kind"], "disclosure_result")
        data = os.path.join(self.dir, "保有個人データ.csv")
        with open(data, "w") as f:
            f.write("氏名,メールアドレス\nJohn Smith,john.smith@example.com\n")
        self.pi("drafts", "attach", str(result["id"]), data, "--by", "sato")
        self.approve_and_send(result["id"], by="tanaka")
        envelope, msg = self.received(4)[-1]
        [part] = list(msg.iter_attachments())
        self.assertEqual(part.get_filename(), "保有個人データ.csv")
        self.assertIn("John Smith", part.get_content() if isinstance(part.get_content(), str)
                      else part.get_content().decode())
        self.assertIsNone(msg["Auto-Submitted"], "a reply a person decided is not automatic")
        self.assertEqual(self.ticket(ref)["state"], "answered")

        # 6. Closed.  Every step is in the history with its actor.
        self.pi("tickets", "close", ref, "--by", "sato")
        t = self.ticket(ref)
        self.assertEqual(t["state"], "closed")
        actors = {(e["actor"], e["kind"]) for e in t["events"]}
        self.assertIn(("suzuki", "fee"), actors)
        self.assertIn(("sato", "state"), actors)
        # Invalid transitions are refused with a clear message.
        refused = self.pi("tickets", "answer", ref, "--by", "sato", expect=1)
        self.assertIn("it is closed; answer needs in_progress", refused.err)
        self.assertEqual(len(refused.err.strip().splitlines()), 1)
        # Every reply went to the requester within the conversation.
        for _, m in self.received(4):
            self.assertIn(f"[{ref}]", str(m["Subject"]))


class StopUseCase(Case):

    def test_stop_use_never_mentions_a_fee_and_records_the_ground(self):
        self.deliver("requests/ja-stop-use.eml")
        self.pi("fetch", "--once")
        [t] = self.tickets()
        for d in self.drafts():
            body = self.pi_json("drafts", "show", str(d["id"]), "--json")["body"]
            self.assertNotIn("手数料", body)
        self.pi("tickets", "verify", t["ref"], "--by", "sato", expect=None)
        t = self.ticket(t["ref"])
        # awaiting_id → verify is allowed (identity confirmed by other means).
        self.assertEqual(t["state"], "in_progress")
        self.assertIsNone(t["fee_status"])
        self.pi("tickets", "answer", t["ref"], "--by", "sato")
        [d] = [d for d in self.drafts() if d["kind"] == "stop_use_done"]
        body = self.pi_json("drafts", "show", str(d["id"]), "--json")["body"]
        self.assertNotIn("手数料", body)


class Triage(Case):

    def test_staff_decide_the_type(self):
        self.deliver("requests/ja-no-request.eml")
        self.pi("fetch", "--once")
        [t] = self.tickets()
        self.assertEqual(t["state"], "triage")
        self.assertEqual(self.drafts(), [])
        bad = self.pi("tickets", "set-type", t["ref"], "deletion", "--by", "sato", expect=2)
        self.assertIn("unknown type", bad.err)
        self.pi("tickets", "set-type", t["ref"], "stop_use", "--by", "sato")
        t = self.ticket(t["ref"])
        self.assertEqual(t["request_types"], ["stop_use"])
        self.assertEqual(t["state"], "awaiting_id")
        [d] = self.drafts()
        self.assertEqual(d["kind"], "id_missing")


class Clock(Case):

    def test_overdue_and_due_within(self):
        self.deliver(LICENSE_REQUEST, internaldate="2026-11-02T09:00:00+09:00")
        self.deliver("requests/en-stop-use.eml", internaldate="2026-11-20T09:00:00+09:00")
        self.pi("fetch", "--once")
        now = {"PRIVACY_INBOX_NOW": "2026-11-20T12:00:00+09:00"}
        overdue = self.pi_json("tickets", "list", "--overdue", "--json", env=now)
        self.assertEqual([t["request_types"][0] for t in overdue], ["disclosure"])
        # The stop-use request waits for an ID: its clock is stopped.
        soon = self.pi_json("tickets", "list", "--due-within", "30d", "--json", env=now)
        self.assertEqual(len(soon), 1)
        text = self.pi("tickets", "list", "--overdue", env=now).out
        self.assertIn("2026-11-16", text)  # due date in the office's time zone
        self.assertIn("-4", text)          # four days late
        self.pi("tickets", "list", "--due-within", "soon", expect=2)

    def test_business_days_and_holidays(self):
        # (Dovecot keeps an APPEND date only when it is in the past.)
        with open(os.path.join(self.dir, "holidays.txt"), "w") as f:
            f.write("# 年末年始\n2025-12-29\n2025-12-30\n2025-12-31\n2026-01-01 元日\n"
                    "2026-01-02\n")
        self.config = self.write_config(
            policy={"business_days": "true", "due_days": "5", "holidays_file": "holidays.txt"})
        self.deliver(LICENSE_REQUEST, internaldate="2025-12-26T10:00:00+09:00")
        self.pi("fetch", "--once")
        [t] = self.tickets()
        # Received Friday 26 December; 29 December to 2 January are holidays,
        # 3–4 January a weekend: Monday 5 … Friday 9 January.
        self.assertEqual(t["due_at"], "2026-01-09T14:59:59Z")

    def test_extension(self):
        self.deliver(LICENSE_REQUEST, internaldate="2026-11-20T09:00:00+09:00")
        self.pi("fetch", "--once")
        [t] = self.tickets()
        self.pi("tickets", "verify", t["ref"], "--by", "sato")
        self.pi("tickets", "fee", t["ref"], "--waived", "--by", "sato")
        self.pi("tickets", "extend", t["ref"], "--until", "2026-12-25", "--reason",
                "大量のデータの確認に時間を要するため", "--by", "sato")
        t = self.ticket(t["ref"])
        self.assertEqual(t["due_at"], "2026-12-25T14:59:59Z")
        [d] = [d for d in self.drafts() if d["kind"] == "deadline_extension"]
        body = self.pi_json("drafts", "show", str(d["id"]), "--json")["body"]
        self.assertIn("大量のデータの確認に時間を要するため", body)
        self.assertIn("2026年12月25日", body)


class Digest(Case):

    def test_daily_digest_lists_overdue_and_due(self):
        self.config = self.write_config(policy={"staff_address": "office@example.co.jp"})
        self.deliver(LICENSE_REQUEST, internaldate="2026-11-02T09:00:00+09:00")
        self.deliver("requests/ja-correction.eml", internaldate="2026-11-08T09:00:00+09:00")
        self.pi("fetch", "--once")
        refs = [t["ref"] for t in self.tickets()]
        now = {"PRIVACY_INBOX_NOW": "2026-11-20T12:00:00+09:00"}
        data = self.pi_json("digest", "--json", env=now)
        self.assertEqual([t["reference"] for t in data["tickets_overdue"]], [refs[0]])
        self.assertEqual(data["tickets_overdue"][0]["days"], 4)
        self.assertEqual(data["overdue_count"], 1)
        self.assertEqual(data["pending_drafts"], 2)
        # The correction request waits for an ID: not due, not overdue.
        self.assertEqual(data["due_soon_count"], 0)
        self.pi("digest", "--send", env=now)
        [(envelope, msg)] = self.received(1)
        self.assertEqual(envelope["rcpt_tos"], ["office@example.co.jp"])
        body = msg.get_body(("plain",)).get_content()
        self.assertIn(refs[0], body)
        self.assertIsNotNone(msg["Auto-Submitted"])
        self.pi("digest", "--send", expect=0, env=now)
        self.assertEqual(len(self.received(2)), 2, "--send always sends; run sends once a day")

    def test_without_staff_address(self):
        proc = self.pi("digest", "--send", expect=1)
        self.assertIn("staff_address", proc.err)


class LoopProtection(Case):

    def test_auto_reply_storm_does_not_loop(self):
        # Our acknowledgment goes out; the requester's mailbox answers every
        # mail with an out-of-office reply that also quotes the reference.
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        [d] = self.drafts()
        self.approve_and_send(d["id"])
        [(_, ours)] = self.received(1)
        for i in range(20):
            auto = email.message.EmailMessage()
            auto["From"] = ours["To"]
            auto["To"] = ours["From"]
            auto["Subject"] = f"Automatic reply: {ours['Subject']}"
            auto["Auto-Submitted"] = "auto-replied"
            auto["Message-ID"] = email.utils.make_msgid(domain="example.com")
            auto["In-Reply-To"] = ours["Message-ID"]
            auto.set_content("I am out of the office.\n")
            self.deliver(auto.as_bytes())
        self.pi("fetch", "--once")
        self.assertEqual(len(self.tickets()), 1)
        self.assertEqual(len(self.drafts()), 1)
        self.pi("send")
        self.assertEqual(len(self.smtp.messages()), 1)

    def test_rate_limit_per_address(self):
        # A sender whose mails are not marked automatic still gets at most
        # max_auto_replies_per_day drafted replies a day.
        self.config = self.write_config(policy={"max_auto_replies_per_day": "2"})
        for i in range(4):
            msg = parse_mail(fixture("requests/en-stop-use.eml"))
            del msg["Message-ID"]
            msg["Message-ID"] = f"<storm-{i}@example.com>"
            self.deliver(msg.as_bytes())
        self.pi("fetch", "--once")
        tickets = self.tickets()
        self.assertEqual(len(tickets), 4)
        self.assertEqual(len(self.drafts()), 2)
        flagged = [t for t in tickets if t.get("attention")]
        self.assertEqual(len(flagged), 2)
        self.assertIn("limit 2", flagged[0]["attention"])


class FourEyes(Case):

    def test_editor_cannot_approve(self):
        self.config = self.write_config(policy={"four_eyes": "true"})
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        [d] = self.drafts()
        editor = os.path.join(self.dir, "editor.sh")
        with open(editor, "w") as f:
            f.write("#!/bin/sh\nsed -i 's/^Dear .*/Dear Mr. Smith,/' \"$1\"\n")
        os.chmod(editor, 0o755)
        self.pi("drafts", "edit", str(d["id"]), "--by", "suzuki", env={"EDITOR": editor})
        refused = self.pi("drafts", "approve", str(d["id"]), "--by", "suzuki", expect=1)
        self.assertIn("four-eyes", refused.err)
        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")


class SentFolder(Case):

    def test_copy_of_every_sent_reply_in_sent(self):
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        [d] = self.drafts()
        self.approve_and_send(d["id"])
        [(_, msg)] = self.received(1)
        [uid] = self.dovecot.uids("Sent")
        copy = parse_mail(self.dovecot.fetch("Sent", uid))
        self.assertEqual(copy["Message-ID"], msg["Message-ID"])
        self.assertIn("\\Seen", self.dovecot.flags("Sent", uid))


class Retries(Case):
    smtp_options = {"starttls": True, "auth": "privacy:smtp-secret", "tempfail": 2}

    def test_backoff_then_delivered_once(self):
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        [d] = self.drafts()
        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")
        t0 = "2026-11-27T10:00:00+09:00"
        self.pi("send", env={"PRIVACY_INBOX_NOW": t0}, expect=1)
        # Not due again yet: nothing is tried.
        out = self.pi("send", env={"PRIVACY_INBOX_NOW": "2026-11-27T10:00:30+09:00"}).out
        self.assertIn("0 replies sent, 0 not sent", out)
        self.pi("send", env={"PRIVACY_INBOX_NOW": "2026-11-27T10:05:00+09:00"}, expect=1)
        self.pi("send", env={"PRIVACY_INBOX_NOW": "2026-11-27T11:00:00+09:00"})
        self.assertEqual(len(self.received(1)), 1)
        self.assertEqual(self.drafts()[0]["attempts"], 3)


def corpus(name):
    with open(os.path.join(os.path.dirname(__file__), "..", "corpus", "mail", name), "rb") as f:
        return f.read()


def bounce_of(ours, status="5.1.1"):
    """A Postfix-style DSN returning only the headers of OURS."""
    rcpt = email.utils.parseaddr(str(ours["To"]))[1]
    return (
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
        "To: privacy@example.co.jp\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{time.time_ns()}.bounce@mx.example.org>\r\n"
        f"Date: {email.utils.formatdate(localtime=True)}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: {status}\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {ours['From']}\r\nTo: {rcpt}\r\n"
        f"Message-ID: {ours['Message-ID']}\r\n"
        "--B--\r\n").encode()


class DocumentsAndBounces(Case):
    """What the parser finds about documents and senders reaches the ticket."""

    def test_locked_archive_asks_for_the_document_again(self):
        self.deliver(corpus("zip-encrypted-00.eml"))
        self.pi("fetch", "--once")
        [t] = self.tickets()
        self.assertEqual(t["state"], "awaiting_id")
        [d] = self.pending(t["ref"])
        self.assertEqual(d["kind"], "encrypted_archive")
        self.approve_and_send(d["id"])
        [(_, msg)] = self.received(1)
        body = msg.get_body(("plain",)).get_content()
        zips = [a.get_filename() for a in parse_mail(corpus("zip-encrypted-00.eml")).iter_attachments()]
        self.assertTrue(any(z and z in body for z in zips), (zips, body))

    def test_forwarded_request_notes_the_forwarder(self):
        self.deliver(corpus("forward-attached-00.eml"))
        self.pi("fetch", "--once")
        [t] = self.tickets()
        self.assertEqual(t["requester"], "taro.yamada@example.jp")
        full = self.ticket(t["ref"])
        self.assertIn("<support@example.co.jp>: the requester is taken to be taro.yamada@example.jp",
                      full["attention"])
        notes = [e["detail"] for e in full["events"] if e["kind"] == "parsed"]
        self.assertTrue(any("forwarded by support@example.co.jp" in n for n in notes), notes)
        # the reply goes to the requester, not to the colleague who forwarded it
        [d] = self.pending(t["ref"])
        self.assertEqual(d["to"], "taro.yamada@example.jp")

    def test_bounce_of_our_reply_flags_the_ticket(self):
        self.deliver("requests/en-disclosure.eml")
        self.pi("fetch", "--once")
        [t] = self.tickets()
        [d] = self.pending(t["ref"])
        self.approve_and_send(d["id"])
        [(_, ours)] = self.received(1)
        self.assertIsNone(self.ticket(t["ref"]).get("attention"))

        self.deliver(bounce_of(ours))
        self.pi("fetch", "--once")
        self.assertEqual(len(self.tickets()), 1, "a bounce opens no ticket")
        self.assertEqual(len(self.pending(t["ref"])), 0, "and drafts nothing")
        full = self.ticket(t["ref"])
        self.assertIn("could not be delivered (status 5.1.1)", full["attention"])
        self.assertEqual(self.count("SELECT count(*) FROM messages m JOIN tickets t"
                                    " ON m.ticket_id = t.id WHERE t.ref = ? AND m.is_auto = 1",
                                    t["ref"]), 1)
        # a second bounce of the same reply: recorded, the flag not repeated
        self.deliver(bounce_of(ours))
        self.pi("fetch", "--once")
        self.assertEqual(self.ticket(t["ref"])["attention"], full["attention"])
        self.assertEqual(self.count("SELECT count(*) FROM messages m JOIN tickets t"
                                    " ON m.ticket_id = t.id WHERE t.ref = ? AND m.is_auto = 1",
                                    t["ref"]), 2)


if __name__ == "__main__":
    unittest.main()
