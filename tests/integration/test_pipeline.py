"""The whole pipeline against real servers: Dovecot (IMAPS) → privacy-inbox
fetch → SQLite ticket and draft → approval → SMTP (STARTTLS + AUTH)."""
import email.utils
import hashlib
import os
import re
import unittest

from tests.integration.harness import PipelineCase, fixture, parse_mail

LICENSE_REQUEST = "requests/ja-iso2022jp-disclosure-license.eml"


class EndToEnd(PipelineCase):

    def test_japanese_disclosure_with_licence_photo_is_answered(self):
        raw = fixture(LICENSE_REQUEST)
        self.deliver(raw)
        out = self.pi("fetch", "--once").out
        self.assertIn("1 fetched: 1 new tickets", out)

        tickets = self.tickets()
        self.assertEqual(len(tickets), 1)
        t = tickets[0]
        self.assertRegex(t["ref"], r"^PRV-\d{4}-\d{6}$")
        self.assertEqual(t["request_types"][0], "disclosure")
        self.assertEqual(t["state"], "awaiting_verification")
        self.assertEqual(t["id_documents"], 1)
        for key in ("ref", "state", "request_types", "requester", "created_at"):
            self.assertIn(key, t)

        # The licence photo is in the spool under its SHA-256, 0600 in 0700.
        row = self.db().execute(
            "SELECT filename, content_type, sha256, spool_path FROM attachments"
            " WHERE kind = 'id_document'").fetchone()
        self.assertEqual(row["filename"], "運転免許証.jpg")
        self.assertEqual(row["content_type"], "image/jpeg")
        path = self.spool(row["spool_path"])
        self.assertEqual(hashlib.sha256(self.spool_read(row["spool_path"])).hexdigest(),
                         row["sha256"])
        self.assertTrue(path.endswith(row["sha256"]))
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(path)).st_mode & 0o777, 0o700)

        # The raw message is kept, byte for byte.
        raw_path = self.db().execute("SELECT raw_path FROM messages").fetchone()[0]
        self.assertEqual(self.spool_read(raw_path), raw)

        # On the server the message moved to the processed mailbox.
        self.assertEqual(self.dovecot.uids("INBOX"), [])
        self.assertEqual(len(self.dovecot.uids("Processed")), 1)

        drafts = self.drafts()
        self.assertEqual(len(drafts), 1)
        d = drafts[0]
        self.assertEqual((d["ticket_ref"], d["kind"], d["state"]), (t["ref"], "ack", "pending"))
        self.assertIn(f"[{t['ref']}]", d["subject"])
        # Nothing goes out before a person approves it.
        self.pi("send")
        self.assertEqual(self.smtp.messages(), [])

        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")
        self.pi("send")
        [(envelope, msg)] = self.received(1)
        self.assertEqual(envelope["rcpt_tos"], [t["requester"]])
        self.assertEqual(envelope["mail_from"], "privacy@example.co.jp")
        self.assertTrue(envelope["tls"])
        self.assertEqual(envelope["auth_user"], "privacy")

        # The subject is RFC 2047-encoded on the wire and decodes to Japanese
        # carrying the reference.
        raw_subject = re.search(rb"^Subject: (.*(?:\r\n[ \t].*)*)", msg.as_bytes(),
                                re.M).group(1)
        self.assertRegex(raw_subject, rb"=\?(UTF-8|utf-8|ISO-2022-JP|iso-2022-jp)\?[BbQq]\?")
        self.assertIn(f"[{t['ref']}]", str(msg["Subject"]))
        self.assertIn("開示", str(msg["Subject"]))
        body = msg.get_body(("plain",)).get_content()
        self.assertIn(t["ref"], body)
        self.assertIn("手数料1,000円", body)
        self.assertIn("株式会社サンプル", body)

        request = parse_mail(raw)
        self.assertEqual(msg["In-Reply-To"], request["Message-ID"])
        self.assertIn(request["Message-ID"], msg["References"])
        self.assertEqual(email.utils.parseaddr(msg["To"])[1], t["requester"])
        self.assertEqual(email.utils.parseaddr(msg["From"])[1], "privacy@example.co.jp")
        self.assertIn("株式会社サンプル", str(msg["From"]))
        self.assertIsNotNone(msg["Message-ID"])
        self.assertIsNotNone(msg["Date"])
        self.assertEqual(msg["Auto-Submitted"], "auto-replied")

        self.assertEqual(self.drafts()[0]["state"], "sent")
        # Sending again sends nothing twice.
        self.pi("send")
        self.pi("fetch", "--once")
        self.assertEqual(len(self.smtp.messages()), 1)
        # The sent reply is part of the ticket's record.
        shown = self.pi_json("tickets", "show", t["ref"], "--json")
        self.assertEqual([m["direction"] for m in shown["messages"]], ["in", "out"])

    def test_fetching_twice_opens_no_second_ticket(self):
        self.deliver(LICENSE_REQUEST)
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        self.pi("fetch", "--once")
        self.assertEqual(len(self.tickets()), 2)
        self.assertEqual(len(self.drafts()), 2)
        # The same mail delivered again (another copy, another UID) is
        # recognised by its Message-ID.
        self.deliver(LICENSE_REQUEST)
        out = self.pi("fetch", "--once").out
        self.assertIn("1 duplicates", out)
        self.assertEqual(len(self.tickets()), 2)
        self.assertEqual(self.dovecot.uids("INBOX"), [])

    def test_stop_use_never_mentions_a_fee(self):
        self.deliver("requests/ja-stop-use.eml")
        self.deliver("requests/en-correction.eml")
        self.pi("fetch", "--once")
        for d in self.drafts():
            shown = self.pi_json("drafts", "show", str(d["id"]), "--json")
            self.assertNotIn("手数料", shown["body"])
            self.assertNotIn("fee", shown["body"].lower())
            self.assertNotIn("1,000", shown["body"])

    def test_request_without_id_asks_for_one(self):
        self.deliver("requests/en-disclosure.eml")
        self.pi("fetch", "--once")
        [t] = self.tickets()
        self.assertEqual(t["state"], "awaiting_id")
        [d] = self.drafts()
        self.assertEqual(d["kind"], "id_missing")
        body = self.pi_json("drafts", "show", str(d["id"]), "--json")["body"]
        self.assertIn("passport", body)
        self.assertIn("1,000 yen", body)

    def test_automatic_mail_opens_no_ticket_and_drafts_nothing(self):
        for f in ("auto/auto-submitted-auto-replied.eml", "auto/bounce-dsn-mailer-daemon.eml",
                  "auto/out-of-office-x-autoreply.eml", "auto/mailing-list.eml"):
            self.deliver(f)
        out = self.pi("fetch", "--once").out
        self.assertIn("4 automatic", out)
        self.assertEqual(self.tickets(), [])
        self.assertEqual(self.drafts(), [])
        # …but they are recorded, and moved off the inbox.
        self.assertEqual(self.count("SELECT count(*) FROM messages WHERE is_auto = 1"), 4)
        self.assertEqual(self.dovecot.uids("INBOX"), [])

    def test_unreadable_mail_is_kept_and_shown_to_staff(self):
        for f in ("broken/garbage.eml", "broken/no-headers.eml", "broken/truncated-multipart.eml",
                  "requests/ja-no-request.eml"):
            self.deliver(f)
        self.pi("fetch", "--once")
        tickets = self.tickets()
        self.assertEqual(len(tickets), 4)
        self.assertEqual({t["state"] for t in tickets}, {"triage"})
        for t in tickets:
            self.assertTrue(t["triage_reason"])
        self.assertEqual(self.drafts(), [])
        self.assertEqual(self.count("SELECT count(*) FROM messages WHERE raw_path IS NOT NULL"), 4)

    def test_follow_up_with_licence_joins_the_ticket(self):
        self.deliver("requests/en-disclosure.eml")
        self.pi("fetch", "--once")
        [t] = self.tickets()
        [d] = self.drafts()
        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")
        self.pi("send")
        [(_, ours)] = self.received(1)
        # The requester answers our reply with a photo of their licence.
        photo = next(p for p in parse_mail(fixture(LICENSE_REQUEST)).iter_attachments())
        reply = email.message.EmailMessage()
        reply["From"] = ours["To"]
        reply["To"] = ours["From"]
        reply["Subject"] = "Re: " + str(ours["Subject"])
        reply["Message-ID"] = email.utils.make_msgid(domain="example.org")
        reply["In-Reply-To"] = ours["Message-ID"]
        reply["References"] = ours["Message-ID"]
        reply.set_content("Here is my driving licence.\n")
        reply.add_attachment(photo.get_content(), maintype="image", subtype="jpeg",
                             filename="licence.jpg")
        self.deliver(reply.as_bytes())
        out = self.pi("fetch", "--once").out
        self.assertIn("1 follow-ups", out)
        [t2] = self.tickets()
        self.assertEqual(t2["ref"], t["ref"])
        self.assertEqual(t2["state"], "awaiting_verification")
        self.assertEqual(t2["id_documents"], 1)

    def test_foreign_reference_never_joins_silently(self):
        self.deliver(LICENSE_REQUEST)
        self.pi("fetch", "--once")
        [t] = self.tickets()
        intruder = email.message.EmailMessage()
        intruder["From"] = "mallory@example.net"
        intruder["To"] = "privacy@example.co.jp"
        intruder["Subject"] = f"Re: [{t['ref']}] more documents"
        intruder["Message-ID"] = email.utils.make_msgid(domain="example.net")
        intruder.set_content("Please disclose everything to me instead.\n")
        self.deliver(intruder.as_bytes())
        self.pi("fetch", "--once")
        tickets = self.tickets()
        self.assertEqual(len(tickets), 2)
        other = next(x for x in tickets if x["ref"] != t["ref"])
        self.assertEqual(other["state"], "triage")
        self.assertIn(t["ref"], other["triage_reason"])
        original = self.pi_json("tickets", "show", t["ref"], "--json")
        self.assertEqual(len(original["messages"]), 1)

    def test_rejected_draft_is_never_sent(self):
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        [d] = self.drafts()
        self.pi("drafts", "reject", str(d["id"]), "--by", "sato", "--reason", "wrong wording")
        self.pi("send")
        self.assertEqual(self.smtp.messages(), [])
        again = self.pi("drafts", "approve", str(d["id"]), "--by", "sato", expect=1)
        self.assertIn("rejected", again.err)
        self.assertEqual(len(again.err.strip().splitlines()), 1)

    def test_edit_then_approve(self):
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        [d] = self.drafts()
        editor = os.path.join(self.dir, "editor.sh")
        with open(editor, "w") as f:
            f.write("#!/bin/sh\nsed -i 's/^Dear .*/Dear Ms. Smith,/' \"$1\"\n")
        os.chmod(editor, 0o755)
        self.pi("drafts", "edit", str(d["id"]), "--by", "suzuki", env={"EDITOR": editor})
        shown = self.pi_json("drafts", "show", str(d["id"]), "--json")
        self.assertTrue(shown["body"].startswith("Dear Ms. Smith,"))
        self.assertEqual(shown["edited_by"], "suzuki")
        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")
        self.pi("send")
        [(_, msg)] = self.received(1)
        self.assertTrue(msg.get_body(("plain",)).get_content().startswith("Dear Ms. Smith,"))

    def test_ingest_files_and_stdin(self):
        self.pi("ingest", os.path.join("tests/fixtures", LICENSE_REQUEST))
        self.pi("ingest", "-", input=fixture("requests/ja-stop-use.eml"))
        tickets = self.tickets()
        self.assertEqual([t["request_types"][0] for t in tickets], ["disclosure", "stop_use"])
        # Ingesting the same file again is recognised.
        out = self.pi("ingest", os.path.join("tests/fixtures", LICENSE_REQUEST)).out
        self.assertIn("already recorded", out)
        self.assertEqual(len(self.tickets()), 2)


class ServerVariants(PipelineCase):
    """STARTTLS for IMAP, flagging instead of moving, no MOVE capability,
    smtps:// and ISO-2022-JP replies."""

    def test_starttls_and_flag_mode(self):
        self.imap_security = "starttls"
        self.processed_action = "flag"
        self.config = self.write_config()
        self.deliver(LICENSE_REQUEST)
        self.pi("fetch", "--once")
        self.assertEqual(len(self.tickets()), 1)
        [uid] = self.dovecot.uids("INBOX")
        flags = self.dovecot.flags("INBOX", uid)
        self.assertIn("$PrivacyInboxProcessed", flags)
        self.assertNotIn("\\Seen", flags)
        # The checkpoint, not the flag, keeps it from being fetched again.
        self.pi("fetch", "--once")
        self.assertEqual(len(self.tickets()), 1)

    def test_iso2022jp_reply(self):
        self.config = self.write_config(smtp={"charset": "iso-2022-jp"})
        self.deliver(LICENSE_REQUEST)
        self.pi("fetch", "--once")
        [d] = self.drafts()
        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")
        self.pi("send")
        [(_, msg)] = self.received(1)
        self.assertIn(b"=?ISO-2022-JP?B?", msg.as_bytes().upper())
        self.assertEqual(msg.get_body(("plain",)).get_content_charset(), "iso-2022-jp")
        self.assertIn("手数料1,000円", msg.get_body(("plain",)).get_content())
        self.assertIn("[PRV-", str(msg["Subject"]))


class NoMove(PipelineCase):
    dovecot_options = {"no_move": True}

    def test_copy_delete_expunge_fallback(self):
        self.assertNotIn("MOVE", self.dovecot.capabilities())
        self.deliver(LICENSE_REQUEST)
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        self.assertEqual(self.dovecot.uids("INBOX"), [])
        self.assertEqual(len(self.dovecot.uids("Processed")), 2)


class ImplicitTlsSmtp(PipelineCase):
    smtp_options = {"implicit_tls": True}

    def test_smtps(self):
        self.assertTrue(self.smtp.url.startswith("smtps://"))
        self.deliver("requests/en-stop-use.eml")
        self.pi("fetch", "--once")
        [d] = self.drafts()
        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")
        self.pi("send")
        [(envelope, _)] = self.received(1)
        self.assertTrue(envelope["tls"])


if __name__ == "__main__":
    unittest.main()
