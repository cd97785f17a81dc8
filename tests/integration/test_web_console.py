"""Working tickets through the web console over HTTP, against real Dovecot
and SMTP servers: the lifecycle actions (router_act, the same as the
command line) with the signed-in person as the actor, drafts edited and
approved under the four-eyes rule and sent, templates saved (refused when
broken) and used by the next draft, the records pages, and the console and
`run` on the same store at the same time."""
import os
import re
import shutil
import threading
import time

from tests.integration.daemon_support import distinct_requests
from tests.integration.harness import ROOT
from tests.integration.web_support import WebCase

LICENSE_REQUEST = "requests/ja-iso2022jp-disclosure-license.eml"


class ConsoleCase(WebCase):

    def setUp(self):
        # A private copy of the catalogue: admins change it here.
        super().setUp()
        self.templates = os.path.join(self.dir, "templates")
        shutil.copytree(os.path.join(ROOT, "templates"), self.templates)
        self.config = self.write_config(policy={"four_eyes": "true"},
                                        extra=f"[templates]\ndir = {self.templates}\n")

    def ticket(self, ref):
        return self.pi_json("tickets", "show", ref, "--json")

    def test_verify_edit_approve_send_with_four_eyes(self):
        self.deliver(LICENSE_REQUEST)
        self.fetch_once()
        self.start_console()
        sato = self.client(login="sato")
        [t] = self.tickets()
        ref = t["ref"]
        page = sato.get("/")
        self.assertIn(ref, page.text)
        page = sato.get(f"/tickets/{ref}")
        self.assertIn("運転免許証.jpg", page.text)
        self.assertIn("「開示」", page.text, "the parser's evidence")
        token = page.csrf()
        # Verify: what `tickets verify` does, by sato.
        r = sato.post(f"/tickets/{ref}/actions/verify", {"csrf": token, "document_type": "drivers_license"})
        self.assertEqual(r.status, 303, r.text)
        draft_id = int(re.search(r"draft=(\d+)", r.header("Location")).group(1))
        t = self.ticket(ref)
        self.assertEqual(t["state"], "awaiting_fee")
        self.assertEqual(t["document_type"], "drivers_license")
        self.assertIn(("sato", ref), [(a["actor"], a["ticket_ref"]) for a in self.audit_rows("verify")])
        self.assertEqual([e["actor"] for e in t["events"] if e["kind"] == "state"][-1], "sato")
        # A second verify is refused by the lifecycle, and shown.
        r = sato.post(f"/tickets/{ref}/actions/verify", {"csrf": token})
        self.assertEqual(r.status, 409)
        self.assertIn("awaiting_fee", r.text)
        # Edit the drafted fee instructions, then try to approve them alone.
        page = sato.get(f"/drafts/{draft_id}")
        self.assertIn("id_confirmed_fee", page.text)
        subject = re.search(r'name="subject" required maxlength="500" value="([^"]*)"', page.text).group(1)
        body = re.search(r'<textarea name="body" class="body" required>(.*?)</textarea>', page.text, re.S).group(1)
        import html
        body = html.unescape(body) + "\r\nご不明な点はお気軽にお問い合わせください。\r\n"
        r = sato.post(f"/drafts/{draft_id}/edit", {"csrf": token, "subject": html.unescape(subject) + "\r\nBcc: x@evil.example",
                                                  "body": body})
        self.assertEqual(r.status, 303, r.text)
        d = self.pi_json("drafts", "show", str(draft_id), "--json")
        self.assertEqual(d["edited_by"], "sato")
        self.assertNotIn("\n", d["subject"], "no header injection through the subject")
        self.assertNotIn("\r", d["body"])
        r = sato.post(f"/drafts/{draft_id}/approve", {"csrf": token})
        self.assertEqual(r.status, 409)
        self.assertIn("four-eyes", r.text)
        self.assertEqual(self.pi_json("drafts", "show", str(draft_id), "--json")["state"], "pending")
        # A placeholder left in the text cannot be approved by anyone.
        suzuki = self.client(login="suzuki")
        token2 = suzuki.csrf()
        r = suzuki.post(f"/drafts/{draft_id}/edit", {"csrf": token2, "subject": d["subject"],
                                                    "body": d["body"] + "\n{{reason}}\n"})
        self.assertEqual(r.status, 303)
        self.assertIn("placeholder", suzuki.get(f"/drafts/{draft_id}").text)
        r = sato.post(f"/drafts/{draft_id}/approve", {"csrf": token})
        self.assertEqual(r.status, 409)
        self.assertIn("{{", r.text)
        r = sato.post(f"/drafts/{draft_id}/edit", {"csrf": token, "subject": d["subject"], "body": d["body"]})
        self.assertEqual(r.status, 303)
        # suzuki edited last? no: sato did; suzuki approves.
        r = suzuki.post(f"/drafts/{draft_id}/approve", {"csrf": token2})
        self.assertEqual(r.status, 303, r.text)
        d = self.pi_json("drafts", "show", str(draft_id), "--json")
        self.assertEqual((d["state"], d["approved_by"]), ("approved", "suzuki"))
        self.assertIn(("suzuki", "approved"), [(a["actor"], a["action"]) for a in self.audit_rows()])
        self.pi("send")
        [(envelope, mail)] = self.received(1)
        self.assertIn("ご不明な点はお気軽にお問い合わせください。", mail.get_body().get_content())
        self.assertIn(ref, str(mail["Subject"]))
        self.assertIsNone(mail["Bcc"])
        # Notes, the fee, the answer: the rest of the lifecycle from the console.
        r = sato.post(f"/tickets/{ref}/notes", {"csrf": token, "text": "振込を確認"})
        self.assertEqual(r.status, 303)
        r = sato.post(f"/tickets/{ref}/actions/fee", {"csrf": token, "outcome": "paid", "method": "bank",
                                                      "receipt": "R-1"})
        self.assertEqual(r.status, 303, r.text)
        self.assertEqual(self.ticket(ref)["fee_status"], "paid")
        r = sato.post(f"/tickets/{ref}/actions/reject", {"csrf": token, "reason": ""})
        self.assertEqual(r.status, 400, "a refusal needs its reason")
        # Records pages show what happened.
        for path in ("/audit", "/reports", "/status", f"/tickets/{ref}", "/drafts?state=sent"):
            self.assertEqual(sato.get(path).status, 200, path)
        audit = sato.get("/audit?verify=1").text
        self.assertIn("verify", audit)
        self.assertIn("notice ok", audit)
        self.assertIn("振込を確認", sato.get(f"/tickets/{ref}").text)
        # English on request, and remembered.
        self.assertIn("Request queue", sato.get("/?lang=en").text)
        self.assertIn('lang="en"', sato.get("/").text)

    def test_templates_saved_refused_when_broken_and_used_by_the_next_draft(self):
        self.start_console()
        admin = self.client(login="kato")
        path = os.path.join(self.templates, "ja", "ack.tmpl")
        with open(path, encoding="utf-8") as f:
            original = f.read()
        page = admin.get("/templates/ja/ack")
        self.assertEqual(page.status, 200)
        token = page.csrf()
        base = re.search(r'name="base" value="([0-9a-f]{64})"', page.text).group(1)
        # Broken: an unclosed section and an unknown variable.
        broken = original + "\n{{#request_types}}\n{{no_such_variable}}\n"
        r = admin.post("/templates/ja/ack/save", {"csrf": token, "base": base, "text": broken})
        self.assertEqual(r.status, 422)
        self.assertIn("no_such_variable", r.text)
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), original, "a broken template is never saved")
        # Preview with a real ticket, then save.
        self.deliver(LICENSE_REQUEST)
        self.fetch_once()
        [t] = self.tickets()
        changed = original.rstrip("\n") + "\n\n（このご連絡はコンソールで編集した版です）\n"
        r = admin.post("/templates/ja/ack/preview", {"csrf": token, "base": base, "text": changed,
                                                     "ticket": t["ref"], "fragment": "1"})
        self.assertEqual(r.status, 200)
        self.assertIn("コンソールで編集した版", r.text)
        self.assertIn(t["ref"], r.text)
        self.assertNotIn("<html", r.text, "a fragment for the live preview")
        r = admin.post("/templates/ja/ack/save", {"csrf": token, "base": base, "text": changed})
        self.assertEqual(r.status, 303, r.text)
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), changed)
        [save] = self.db().execute("SELECT name, saved_by FROM template_saves")
        self.assertEqual(tuple(save), ("ja/ack.tmpl", "kato"))
        self.assertEqual(self.audit_rows("template saved")[0]["actor"], "kato")
        # A save over a file that changed meanwhile is refused.
        r = admin.post("/templates/ja/ack/save", {"csrf": token, "base": base, "text": original})
        self.assertEqual(r.status, 409)
        # The next request is answered from the new version.
        version = [v for v in self.pi_json("templates", "list", "--json")
                   if v.get("kind") == "ack" and v.get("language") == "ja"][0]["version"]
        self.deliver(distinct_requests(2, seed=7)[1])  # the licence request, anew
        self.fetch_once()
        newest = max(self.drafts(), key=lambda d: d["id"])
        d = self.pi_json("drafts", "show", str(newest["id"]), "--json")
        self.assertEqual(d["kind"], "ack")
        self.assertIn("コンソールで編集した版", d["body"])
        self.assertEqual(d["template"]["version"], version)
        self.assertIn(version[:12], admin.get("/templates/ja/ack").text)

    def test_console_and_daemon_on_the_same_store(self):
        """`run` fetching and drafting while staff post notes and actions:
        no request fails with a busy or locked database, nothing is lost."""
        self.start_daemon()
        self.start_console()
        raws = distinct_requests(12, seed=3)
        sato = self.client(login="sato")
        token = sato.csrf()
        errors = []
        stop = threading.Event()

        def staff_work():
            n = 0
            while not stop.is_set():
                tickets = self.tickets()
                for t in tickets[:3]:
                    r = sato.post(f"/tickets/{t['ref']}/notes", {"csrf": token, "text": f"note {n}"})
                    if r.status != 303:
                        errors.append((r.status, r.text[:300]))
                    n += 1
                    page = sato.get("/")
                    if page.status != 200:
                        errors.append((page.status, page.text[:300]))
                time.sleep(0.02)

        worker = threading.Thread(target=staff_work)
        worker.start()
        try:
            for raw in raws:
                self.deliver(raw)
                time.sleep(0.05)
            self.wait_until("every request a ticket", lambda: self.ticket_count() >= 12, timeout=90)
            # Staff act on tickets while the daemon keeps going.
            for t in self.tickets()[:4]:
                r = sato.post(f"/tickets/{t['ref']}/actions/reject", {"csrf": token, "reason": "重複"})
                if r.status != 303:
                    errors.append((r.status, r.text[:300]))
        finally:
            stop.set()
            worker.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertEqual(self.ticket_count(), 12)
        log = self.log_text() + self.console_log_text()
        self.assertNotIn("database is busy", log)
        self.assertNotIn("locked", log.replace("lock_file", ""))
        self.assertGreater(self.count("SELECT count(*) FROM ticket_events WHERE kind = 'note'"), 0)
        self.assertEqual(self.count("SELECT count(*) FROM tickets WHERE state = 'rejected'"), 4)
        self.stop_console()
