"""Templates admins can tune safely, against real Dovecot and SMTP servers:
`templates check` on the shipped catalogue and on broken ones, list, kinds,
preview exactly as sent, the version each draft came from and its history,
an unfilled variable never becoming a sendable draft, header injection
through a requester's name, and a running daemon picking up an edited
template while refusing a broken one."""
import base64
import email
import email.policy
import email.utils
import json
import os
import re
import shutil
import sqlite3
import time
import unittest

from tests.integration.daemon_support import DaemonCase
from tests.integration.harness import ROOT, PipelineCase, fixture, parse_mail

SHIPPED = os.path.join(ROOT, "templates")
LICENSE_REQUEST = "requests/ja-iso2022jp-disclosure-license.eml"
NOW = {"PRIVACY_INBOX_NOW": "2026-11-27T10:00:00+09:00"}


def request_mail(n, name=None, address=None):
    """The ISO-2022-JP 開示請求 with a licence photo, as the Nth distinct
    mail (its own Message-ID and sender, so neither deduplication nor the
    per-address reply limit interferes)."""
    msg = email.message_from_bytes(fixture(LICENSE_REQUEST), policy=email.policy.compat32)
    for h in ("Message-ID", "From", "Return-Path"):
        del msg[h]
    msg["Message-ID"] = f"<templates-{n}-{time.time_ns()}@example.jp>"
    msg["From"] = email.utils.formataddr((name or "山田 太郎",
                                          address or f"requester{n}@example.jp"))
    return msg.as_bytes()


class TemplatesCase(PipelineCase):
    """A PipelineCase whose catalogue is a copy the test may edit."""

    def setUp(self):
        super().setUp()
        self.templates = os.path.join(self.dir, "templates")
        shutil.copytree(SHIPPED, self.templates)
        self.config = self.write_config(extra="[templates]\ndir = templates\n")

    def template(self, rel):
        return os.path.join(self.templates, rel)

    def edit(self, rel, old, new):
        path = self.template(rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertIn(old, text, rel)
        # Replaced whole (a new file renamed into place), as editors save.
        with open(path + ".new", "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))
        os.replace(path + ".new", path)

    def read(self, rel):
        with open(self.template(rel), encoding="utf-8") as f:
            return f.read()

    def listed(self):
        return {e["name"]: e for e in self.pi_json("templates", "list", "--json")}


class Check(TemplatesCase):

    def test_shipped_catalogue_is_clean(self):
        # The catalogue in the source tree, as `make test` ships it; no
        # configuration needed to check a folder.
        out = self.pi("templates", "check", SHIPPED, config=False).out
        self.assertRegex(out, r"^.*/templates: \d+ templates \(\d+ kinds in ja and en\) and "
                              r"\d+ partials: no problems\n$")
        kinds = self.pi_json("templates", "kinds", "--json", config=False)
        self.assertGreaterEqual(len(kinds), 17)
        # The configured catalogue too; the harness configuration fills every
        # required variable, so no warning either.
        checked = self.pi("templates", "check")
        self.assertIn("no problems", checked.out)
        self.assertEqual(checked.err, "")

    def test_every_problem_with_file_line_column(self):
        self.edit("ja/ack.tmpl", "{{reference}}]", "{{referense}}]")
        self.edit("en/partials/signature.tmpl", "[{{reference}}]", "[{{#reference}}]")
        os.remove(self.template("ja/refusal.tmpl"))
        proc = self.pi("templates", "check", expect=1)
        lines = proc.out.splitlines()
        self.assertEqual(len(lines), 3, proc.out)
        for line in lines:
            self.assertRegex(line, r"^" + re.escape(self.templates) + r"/[a-z/_]+\.tmpl:\d+:\d+: ")
        self.assertIn("ja/ack.tmpl:1:", proc.out)
        self.assertIn('unknown variable "referense" for kind "ack" (did you mean "reference"?)',
                      proc.out)
        self.assertIn("en/partials/signature.tmpl:2:", proc.out)
        self.assertIn('missing: kind "refusal" needs a template in ja as well', proc.out)
        self.assertEqual(proc.err.strip(), f"privacy-inbox: {self.templates}: 3 problems")
        # A daemon (or `fetch`) does not start on a broken catalogue.
        refused = self.pi("fetch", "--once", expect=1)
        self.assertEqual(len(refused.err.strip().splitlines()), 1)
        self.assertIn("more problems: run `privacy-inbox templates check`", refused.err)

    def test_configuration_that_leaves_a_required_variable_empty_is_warned_about(self):
        self.config = self.write_config(extra="[templates]\ndir = templates\n"
                                              "[organization]\naddress =\n")
        proc = self.pi("templates", "check")
        self.assertIn("no problems", proc.out)
        self.assertIn("ja/id_confirmed_fee.tmpl: {{org_address}} is required but not set",
                      proc.err)


class Commands(TemplatesCase):

    def test_help_and_usage(self):
        for sub in ("render", "check", "list", "kinds", "preview", "history"):
            self.assertIn("Usage", self.pi("templates", sub, "--help", config=False).out, sub)
        listing = self.pi("templates", "--help", config=False).out
        for sub in ("check", "list", "kinds", "preview", "history"):
            self.assertIn(f"  {sub} ", listing)
        for args in (["preview"], ["history"], ["check", "a", "b"], ["list", "x"],
                     ["kinds", "a", "b"], ["history", "ack", "--lang", "de"]):
            proc = self.pi("templates", *args, expect=2)
            self.assertTrue(proc.err.startswith("privacy-inbox templates"), proc.err)

    def test_render_with_the_shipped_partials(self):
        # A partial is looked up as DIR/name, else DIR/name.tmpl: the
        # catalogue's partials folder works as it is.
        page = os.path.join(self.dir, "page.tmpl")
        data = os.path.join(self.dir, "data.json")
        with open(page, "w", encoding="utf-8") as f:
            f.write("{{>greeting}}\n<{{x}}>\n")
        with open(data, "w", encoding="utf-8") as f:
            json.dump({"requester_name": "山田 太郎", "org_name": "株式会社サンプル",
                       "org_contact": "個人情報保護窓口", "x": "<&>"}, f)
        out = self.pi("templates", "render", page, "--data", data, "--partials",
                      os.path.join(SHIPPED, "ja", "partials"), "--escape", "none",
                      config=False).out
        self.assertEqual(out, "山田 太郎 様\n\n株式会社サンプル 個人情報保護窓口でございます。\n"
                              "<<&>>\n")
        html = self.pi("templates", "render", page, "--data", data, config=False).out
        self.assertEqual(html, "<&lt;&amp;&gt;>\n")
        with open(page, "w", encoding="utf-8") as f:
            f.write("一行目\n二行目 {{#x}}\n")
        broken = self.pi("templates", "render", page, "--data", data, config=False, expect=1)
        self.assertEqual(broken.err, f"privacy-inbox: {page}:2:5: unclosed section \"x\"\n")
        self.assertEqual(broken.out, "")

    def test_list(self):
        entries = self.pi_json("templates", "list", "--json")
        kinds = [k["kind"] for k in self.pi_json("templates", "kinds", "--json")]
        by_name = {e["name"]: e for e in entries}
        for kind in kinds:
            for lang in ("ja", "en"):
                e = by_name[f"{lang}/{kind}.tmpl"]
                self.assertEqual((e["kind"], e["language"]), (kind, lang))
                self.assertRegex(e["version"], r"^[0-9a-f]{64}$")
                self.assertRegex(e["modified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
                self.assertFalse(e["problems"])
        self.assertTrue(by_name["ja/ack.tmpl"]["auto_send"])
        self.assertFalse(by_name["ja/refusal.tmpl"]["auto_send"])
        greeting = by_name["ja/partials/greeting.tmpl"]
        self.assertIsNone(greeting["kind"])
        self.assertTrue(greeting["partial"])
        text = self.pi("templates", "list").out
        self.assertRegex(text, r"(?m)^ja/ack\.tmpl +ack +ja +[0-9a-f]{12} +\d{4}-\d\d-\d\d \d\d:\d\d")
        # An edit is a new version and a new last change.
        before = by_name["ja/id_missing.tmpl"]
        self.edit("ja/partials/id_documents.tmpl", "パスポート（旅券）", "旅券（パスポート）")
        after = self.listed()
        self.assertNotEqual(after["ja/id_missing.tmpl"]["version"], before["version"])
        self.assertEqual(after["ja/ack.tmpl"]["version"], by_name["ja/ack.tmpl"]["version"])

    def test_kinds_document_their_variables(self):
        refusal = self.pi_json("templates", "kinds", "refusal", "--json")
        variables = {v["name"]: v for v in refusal["variables"]}
        self.assertTrue(variables["reason"]["required"])
        self.assertEqual(variables["refused_identity"]["type"], "flag")
        self.assertEqual(variables["request_types.label"]["type"], "text")
        self.assertIn("reason", refusal["sample"]["ja"])
        text = self.pi("templates", "kinds", "id_confirmed_fee").out
        self.assertIn("fee_bank_account", text)
        self.assertIn("may be unset", text)
        self.pi("templates", "kinds", "nope", expect=2)

    def test_preview_with_sample_data(self):
        proc = self.pi("templates", "preview", "ack", env=NOW)
        headers, _, body = proc.out.partition("\n\n")
        self.assertIn("From: 株式会社サンプル 個人情報保護窓口 <privacy@example.co.jp>", headers)
        self.assertIn("To: 山田 太郎 <yamada.taro@example.jp>", headers)
        self.assertIn("Subject: 【受付のご連絡】保有個人データの開示のご請求について "
                      "[PRV-2026-000042]", headers)
        self.assertIn("Date: Fri, 27 Nov 2026 10:00:00 +0900", headers)
        self.assertIn("Auto-Submitted: auto-replied", headers)
        self.assertIn("受付日　　：2026年11月27日", body)
        # The organization comes from the configuration, not the samples.
        self.assertIn("東京都千代田区千代田1-1", body)
        self.assertNotIn("〒100-0001", body)
        self.assertNotIn("{{", proc.out)
        en = self.pi("templates", "preview", "ack", "--lang", "en", env=NOW).out
        self.assertIn("Dear Taro Yamada,", en)
        self.assertIn("This message is from the Privacy Office (Sample Co., Ltd.).", en)
        self.assertIn("Received:  27 November 2026", en)
        raw = self.pi("templates", "preview", "ack", "--raw", env=NOW).out
        self.assertRegex(raw, r"(?m)^Subject: =\?UTF-8\?B\?")
        self.assertIn("Content-Transfer-Encoding: base64", raw)
        # Only postal money orders without a configured bank account.
        fee = self.pi("templates", "preview", "id_confirmed_fee", env=NOW).out
        self.assertIn("■ 郵便定額小為替", fee)
        self.assertNotIn("■ 銀行振込", fee)
        self.config = self.write_config(
            extra="[templates]\ndir = templates\n[organization]\n"
                  "fee_bank_account = 三井住友銀行 本店営業部 普通 7654321 カ）サンプル\n")
        fee = self.pi("templates", "preview", "id_confirmed_fee", env=NOW).out
        self.assertIn("振込先　：三井住友銀行 本店営業部 普通 7654321 カ）サンプル", fee)
        # Staff and admin mail go to their configured addresses.
        digest = self.pi("templates", "preview", "digest", env=NOW)
        self.assertIn("no recipient is configured for digest", digest.err)
        self.pi("templates", "preview", "nope", expect=2)
        self.pi("templates", "preview", "ack", "--lang", "fr", expect=2)
        self.pi("templates", "preview", "digest", "--ticket", "PRV-2026-000001", expect=2)
        self.pi("templates", "preview", "refusal", "--set", "nope=1", expect=2)

    def test_preview_of_a_ticket_is_what_is_sent(self):
        raw = request_mail(1)
        self.deliver(raw, internaldate="2026-11-27T09:00:00+09:00")
        self.pi("fetch", "--once", env=NOW)
        [t] = self.tickets()
        [d] = self.drafts()
        draft = self.pi_json("drafts", "show", str(d["id"]), "--json")
        proc = self.pi("templates", "preview", "ack", "--ticket", t["ref"], env=NOW)
        headers, _, body = proc.out.partition("\n\n")
        self.assertIn(f"Subject: {draft['subject']}\n", headers)
        self.assertIn("To: 山田 太郎 <requester1@example.jp>", headers)
        request = parse_mail(raw)
        self.assertIn(f"In-Reply-To: {request['Message-ID']}", headers)
        self.assertEqual(body, draft["body"])
        # The same wording as the one the draft was made from.
        self.assertEqual(draft["template"]["version"],
                         self.listed()["ja/ack.tmpl"]["version"])

        # A kind whose variable staff give when they act: not sendable
        # without it, the gap shown, one line on stderr.
        refused = self.pi("templates", "preview", "refusal", "--ticket", t["ref"], env=NOW,
                          expect=1)
        self.assertIn("理由：{{reason}}", refused.out)
        self.assertEqual(refused.err.strip().splitlines()[-1],
                         "privacy-inbox: not sendable: ja/refusal.tmpl: {{reason}} is required "
                         "but not set")
        given = self.pi("templates", "preview", "refusal", "--ticket", t["ref"], "--set",
                        "reason=法令に基づき開示できない情報のため", env=NOW).out
        self.assertIn("理由：法令に基づき開示できない情報のため", given)
        english = self.pi("templates", "preview", "ack", "--ticket", t["ref"], "--lang", "en",
                          env=NOW).out
        self.assertIn("Received:  27 November 2026", english)
        self.pi("templates", "preview", "ack", "--ticket", "PRV-2026-999999", expect=1)


class Versions(TemplatesCase):

    def test_every_draft_names_its_wording_and_the_store_keeps_it(self):
        self.deliver(request_mail(1))
        self.pi("fetch", "--once")
        [first] = self.drafts()
        v1 = self.listed()["ja/ack.tmpl"]["version"]
        signature_v1 = self.read("ja/partials/signature.tmpl")
        shown = self.pi_json("drafts", "show", str(first["id"]), "--json")["template"]
        self.assertEqual((shown["kind"], shown["language"], shown["version"]), ("ack", "ja", v1))
        self.assertEqual(shown["text"], self.read("ja/ack.tmpl"))
        self.assertEqual(shown["partials"]["signature"], signature_v1)
        self.assertRegex(shown["first_used_at"], r"^\d{4}-\d\d-\d\dT")

        # An admin edits a partial: the next reply has a new version.
        self.edit("ja/partials/signature.tmpl", "ご不明な点がございましたら",
                  "本件についてご不明な点がございましたら")
        self.deliver(request_mail(2))
        self.pi("fetch", "--once")
        second = [d for d in self.drafts() if d["id"] != first["id"]][0]
        again = self.pi_json("drafts", "show", str(second["id"]), "--json")
        v2 = again["template"]["version"]
        self.assertNotEqual(v2, v1)
        self.assertEqual(v2, self.listed()["ja/ack.tmpl"]["version"])
        self.assertIn("本件についてご不明な点がございましたら", again["body"])

        history = self.pi_json("templates", "history", "ack", "--json")
        self.assertEqual([h["version"] for h in history], [v2, v1])
        self.assertEqual([h["current"] for h in history], [True, False])
        self.assertEqual([h["drafts"] for h in history], [1, 1])
        text = self.pi("templates", "history", "ack").out
        self.assertRegex(text, rf"(?m)^{v2[:12]} ja .*1  \(current\)$")
        self.assertRegex(text, rf"(?m)^{v1[:12]} ja ")
        # The old wording is still there, long after the files changed.
        old = self.pi("templates", "history", "ack", v1[:8]).out
        self.assertIn("==> ja/ack.tmpl <==", old)
        self.assertIn("==> ja/partials/signature.tmpl <==\n" + signature_v1, old)
        self.assertNotIn("本件についてご不明な点", old)
        self.assertIn(f"Template: ja/ack version {v1[:12]}",
                      self.pi("drafts", "show", str(first["id"])).out)
        self.pi("templates", "history", "ack", "0000000000", expect=1)
        self.pi("templates", "history", "nope", expect=2)


class Safety(TemplatesCase):

    def test_unfilled_required_variable_never_becomes_a_sendable_draft(self):
        # The configuration leaves the organization's name empty.
        self.config = self.write_config(extra="[templates]\ndir = templates\n"
                                              "[organization]\nname =\n")
        self.deliver(request_mail(1))
        out = self.pi("fetch", "--once").out
        self.assertIn("reply ack NOT drafted", out)
        [t] = self.tickets()
        self.assertEqual(self.drafts(), [])
        shown = self.pi_json("tickets", "show", t["ref"], "--json")
        self.assertIn('reply "ack" not drafted: ja/ack.tmpl: {{org_name}} is required but not set',
                      shown["attention"])
        self.assertIn("template", [e["kind"] for e in shown["events"]])
        # The mail itself is safe and off the inbox: nothing is stuck.
        self.assertEqual(self.dovecot.uids("INBOX"), [])
        self.assertEqual(len(shown["messages"]), 1)
        self.pi("send")
        self.assertEqual(self.smtp.messages(), [])

    def test_header_injection_through_the_requesters_name(self):
        # An admin puts the requester's name into the subject…
        self.edit("ja/ack.tmpl", "Subject: 【受付のご連絡】",
                  "Subject: {{#requester_name}}{{requester_name}} 様 {{/requester_name}}【受付のご連絡】")
        # …and the name a stranger sends carries CR/LF and a header.
        evil = "山田\r\nBcc: victim@example.org\r\nX-Injected: yes"
        encoded = "=?UTF-8?B?" + base64.b64encode(evil.encode()).decode() + "?="
        msg = email.message_from_bytes(request_mail(1), policy=email.policy.compat32)
        del msg["From"]
        msg["From"] = f"{encoded} <taro@example.jp>"
        self.deliver(msg.as_bytes())
        self.pi("fetch", "--once")
        [d] = self.drafts()
        self.assertNotIn("\n", d["subject"])
        self.assertNotIn("\r", d["subject"])
        self.pi("drafts", "approve", str(d["id"]), "--by", "sato")
        self.pi("send")
        [(envelope, sent)] = self.received(1)
        self.assertEqual(envelope["rcpt_tos"], ["taro@example.jp"])
        self.assertIsNone(sent["Bcc"])
        self.assertIsNone(sent["X-Injected"])
        raw = sent.as_bytes()
        self.assertIsNone(re.search(rb"(?mi)^(bcc|x-injected):", raw))
        subject = str(sent["Subject"])
        self.assertNotIn("\n", subject)
        self.assertIn("Bcc: victim@example.org", subject)
        self.assertTrue(subject.endswith("]"))


class HotReload(TemplatesCase, DaemonCase):
    """`run` (poll_seconds = 1) picks up an edited template without a
    restart; a broken edit is refused, logged and raised as an alert, and
    replies keep the last good wording."""

    def draft_for(self, n, timeout=60):
        self.deliver(request_mail(n))
        ref = []

        def drafted():
            for d in self.drafts():
                if d["to"] == f"requester{n}@example.jp":
                    ref.append(d)
                    return True
            return False
        self.wait_until(f"draft {n}", drafted, timeout=timeout, interval=0.2)
        return self.pi_json("drafts", "show", str(ref[0]["id"]), "--json")

    def open_alerts(self):
        return [r[0] for r in self.db().execute(
            "SELECT kind FROM alerts WHERE resolved_at IS NULL")]

    def test_edit_is_picked_up_and_broken_edit_refused(self):
        proc = self.start_daemon()
        first = self.draft_for(1)
        v1 = first["template"]["version"]

        # A good edit: the next reply uses it.
        self.edit("ja/ack.tmpl", "誠にありがとうございます。", "誠にありがとうございます（改訂版）。")
        second = self.draft_for(2)
        self.assertIn("誠にありがとうございます（改訂版）。", second["body"])
        v2 = second["template"]["version"]
        self.assertNotEqual(v2, v1)
        self.wait_until("reload logged", lambda: "templates: ja/ack is now version "
                        + v2[:12] in self.log_text())

        # A broken edit (a typo in a variable): refused, logged with its
        # position, raised once; replies keep version 2.
        self.edit("ja/ack.tmpl", "{{id_document_count}}", "{{id_document_cnt}}")
        self.edit("ja/ack.tmpl", "（改訂版）", "（改訂版・壊れた版）")
        third = self.draft_for(3)
        self.assertEqual(third["template"]["version"], v2)
        self.assertIn("（改訂版）", third["body"])
        self.assertNotIn("壊れた版", third["body"])
        log = self.log_text()
        self.assertRegex(log, re.escape(self.template("ja/ack.tmpl"))
                         + r':\d+:\d+: unknown variable "id_document_cnt" for kind "ack" '
                           r'\(did you mean "id_document_count"\?\)')
        self.assertIn("NOT reloaded", log)
        self.assertEqual(self.open_alerts(), ["templates"])
        fourth = self.draft_for(4)
        self.assertEqual(fourth["template"]["version"], v2)
        # Reported once, not at every poll.
        self.assertEqual(self.log_text().count("NOT reloaded"), 1)

        # Fixed: picked up, and the alert is over.
        self.edit("ja/ack.tmpl", "{{id_document_cnt}}", "{{id_document_count}}")
        fifth = self.draft_for(5)
        self.assertNotIn(fifth["template"]["version"], (v1, v2))
        self.assertIn("壊れた版", fifth["body"])
        self.assertEqual(self.open_alerts(), [])
        self.stop_daemon(proc)
        versions = self.pi_json("templates", "history", "ack", "--json")
        self.assertEqual(len(versions), 3)
        # the two changes taken into use are audited; the refused one is not
        conn = sqlite3.connect(os.path.join(self.dir, "state", "privacy-inbox.db"))
        self.addCleanup(conn.close)
        changes = conn.execute("SELECT detail FROM audit WHERE action = 'templates changed'"
                               " ORDER BY id").fetchall()
        self.assertEqual(len(changes), 2, changes)
        self.assertIn("reloaded (fingerprint ", changes[0][0])


if __name__ == "__main__":
    unittest.main()
