"""The web console in a real browser (tests/browser/console.mjs: playwright-core
driving Debian's chromium headless), with the daemon running against real
Dovecot and SMTP servers: staff sign in, open the oldest due ticket, view its
identity document, verify identity, edit the drafted reply, and (four eyes)
a colleague approves it; the daemon sends it and it arrives at the SMTP
server.  An admin edits a template with the live preview, saves it, and the
next request's reply is drafted from the new version.  Screenshots of the
queue, ticket, draft and template pages go to BUILD/test-output/browser/.

Needs chromium and Node.js (scripts/install-deps installs both) and
playwright-core (npm ci in tests/browser, run here when node_modules is
missing).  A missing piece is a failure with its reason, never a skip."""
import json
import os
import shutil
import subprocess

from tests.integration.daemon_support import distinct_requests
from tests.integration.harness import BIN, ROOT
from tests.integration.web_support import PASSWORD, WebCase

BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
CHROMIUM = "/usr/bin/chromium"
LICENSE_REQUEST = "requests/ja-iso2022jp-disclosure-license.eml"


def shots_dir():
    return os.path.join(os.path.dirname(os.path.abspath(BIN)), "test-output", "browser")


class BrowserCase(WebCase):

    def setUp(self):
        self.assertTrue(os.path.exists(CHROMIUM),
                        f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
                        "(scripts/install-deps installs it)")
        self.node = shutil.which("node")
        self.assertIsNotNone(self.node, "node is missing: scripts/install-deps installs Node.js")
        if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
            npm = shutil.which("npm")
            self.assertIsNotNone(npm, "npm is missing: scripts/install-deps installs it")
            proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR,
                                  capture_output=True, timeout=300)
            self.assertEqual(proc.returncode, 0,
                             "npm ci in tests/browser failed: " + proc.stderr.decode()[-2000:])
        super().setUp()
        self.templates = os.path.join(self.dir, "templates")
        shutil.copytree(os.path.join(ROOT, "templates"), self.templates)
        self.config = self.write_config(policy={"four_eyes": "true"},
                                        extra=f"[templates]\ndir = {self.templates}\n")

    def browse(self, phase, **env):
        full_env = dict(os.environ, PI_URL=self.url, PI_PASSWORD=PASSWORD, PI_SHOTS=shots_dir(),
                        PI_PHASE=phase, **env)
        proc = subprocess.run([self.node, os.path.join(BROWSER_DIR, "console.mjs")],
                              cwd=BROWSER_DIR, env=full_env, capture_output=True, timeout=240)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        self.assertEqual(proc.returncode, 0, f"browser phase {phase} failed:\n{err[-4000:]}\n"
                         f"console log:\n{self.console_log_text()[-2000:]}")
        result = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(result["console_errors"], [], "no script error or CSP violation")
        return result

    def test_staff_and_admin_in_a_browser(self):
        # Two requests; the older one is due first.
        self.deliver(LICENSE_REQUEST, internaldate="2026-11-20T10:00:00+09:00")
        self.deliver(distinct_requests(2, seed=11)[1])
        self.start_daemon()
        self.wait_until("two tickets", lambda: self.ticket_count() == 2)
        self.start_console()
        oldest = min(self.tickets(), key=lambda t: t["due_at"])

        staff = self.browse("staff")
        self.assertEqual(staff["ref"], oldest["ref"], "the first row is the oldest due")
        self.assertGreater(staff["document_width"], 100, "the ID photo was shown")
        views = self.audit_rows("attachment viewed")
        self.assertTrue(views and all(v["actor"] == "sato" for v in views))
        d = self.pi_json("drafts", "show", str(staff["draft"]), "--json")
        self.assertEqual((d["kind"], d["edited_by"], d["approved_by"]),
                         ("id_confirmed_fee", "sato", "suzuki"))
        # The daemon sends it (nothing else is approved); it arrives at the
        # SMTP server as edited.
        [(envelope, mail)] = self.received(1, timeout=60)
        self.assertIn(staff["ref"], str(mail["Subject"]))
        self.assertIn(staff["added"], mail.get_body().get_content())

        admin = self.browse("admin", PI_REF=staff["ref"])
        with open(os.path.join(self.templates, "ja", "ack.tmpl"), encoding="utf-8") as f:
            self.assertIn(admin["added"], f.read())
        # The next request's acknowledgement comes from the new version.
        self.deliver(distinct_requests(2, seed=12)[1])
        self.wait_until("the third ticket", lambda: self.ticket_count() == 3)
        newest = max(self.drafts(), key=lambda x: x["id"])
        shown = self.pi_json("drafts", "show", str(newest["id"]), "--json")
        self.assertEqual(shown["kind"], "ack")
        self.assertIn(admin["added"], shown["body"])
        for name in ("queue.png", "ticket.png", "draft.png", "template.png"):
            path = os.path.join(shots_dir(), name)
            self.assertTrue(os.path.getsize(path) > 10000, path)
        self.stop_console()
