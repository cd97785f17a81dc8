"""The web console's defences, over real HTTP against `privacy-inbox serve`
on a store filled by real Dovecot fetches: sign-in required everywhere,
CSRF, roles, attachments by id only, escaping of hostile mail, the sign-in
throttle, sessions, headers, HTTPS, limits and misbehaving clients."""
import email.headerregistry
import email.message
import email.utils
import hashlib
import os
import socket
import ssl
import time

from tests.integration.harness import fixture, parse_mail, shared_tls_dir
from tests.integration.web_support import PASSWORD, Client, WebCase
from tests.lib.tlsca import make_ca

LICENSE_REQUEST = "requests/ja-iso2022jp-disclosure-license.eml"

ROUTES_GET = ["/", "/tickets/PRV-2026-000001", "/drafts", "/drafts/1", "/attachments/1",
              "/templates", "/templates/ja/ack", "/audit", "/reports", "/status", "/users"]
ROUTES_POST = ["/tickets/PRV-2026-000001/notes", "/tickets/PRV-2026-000001/actions/verify",
               "/drafts/1/edit", "/drafts/1/approve", "/drafts/1/reject",
               "/templates/ja/ack/save", "/templates/ja/ack/preview"]


def hostile_request():
    """A disclosure request whose every field tries to run script."""
    msg = email.message.EmailMessage()
    msg["From"] = email.headerregistry.Address(display_name="<img src=x onerror=alert(1)>山田",
                                               addr_spec="xss@example.org")
    msg["To"] = "privacy@example.co.jp"
    msg["Subject"] = "開示請求 <script>alert('subject')</script>"
    msg["Message-ID"] = email.utils.make_msgid(domain="example.org")
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg.set_content("個人情報の開示を請求します。\n</pre><script>alert('body')</script>\n"
                    "<a href=\"javascript:alert(1)\">click</a>\n")
    photo = next(parse_mail(fixture(LICENSE_REQUEST)).iter_attachments()).get_content()
    msg.add_attachment(photo, maintype="image", subtype="jpeg",
                       filename="<svg onload=alert(1)>運転免許証.jpg")
    return msg.as_bytes()


class SecurityCase(WebCase):

    def setUp(self):
        super().setUp()
        self.deliver(LICENSE_REQUEST)
        self.fetch_once()
        self.start_console()

    def test_every_route_without_a_session_goes_to_login(self):
        c = Client(self.url)
        for path in ROUTES_GET:
            r = c.get(path)
            self.assertEqual(r.status, 303, path)
            self.assertTrue(r.header("Location").startswith("/login"), path)
        for path in ROUTES_POST:
            r = c.post(path, {"csrf": "0" * 64, "text": "x", "reason": "x"})
            self.assertEqual(r.status, 303, path)
            self.assertEqual(r.header("Location"), "/login", path)
        # A forged session cookie is no session.
        c.jar.set_cookie(make_cookie("pi_session", "A" * 43))
        self.assertEqual(c.get("/").status, 303)
        # Nothing was changed or read.
        self.assertEqual(self.count("SELECT count(*) FROM ticket_events WHERE kind = 'note'"), 0)
        self.assertEqual(len(self.audit_rows("attachment viewed")), 0)
        # After signing in, the page asked for first is where we land.
        r = c.get("/tickets/PRV-2026-000001")
        self.assertEqual(r.header("Location"), "/login?next=/tickets/PRV-2026-000001")
        r = c.post("/login", {"user": "sato", "password": PASSWORD,
                              "next": "/tickets/PRV-2026-000001"})
        self.assertEqual(r.header("Location"), "/tickets/PRV-2026-000001")
        # ...but never another site.
        c2 = Client(self.url)
        r = c2.post("/login", {"user": "sato", "password": PASSWORD, "next": "//evil.example/"})
        self.assertEqual(r.header("Location"), "/")

    def test_post_without_or_with_a_wrong_csrf_token_is_refused(self):
        c = self.client(login="sato")
        good = c.csrf()
        other = self.client(login="suzuki").csrf()
        self.assertNotEqual(good, other, "the token is per session")
        ticket = "/tickets/PRV-2026-000001"
        for fields in ({}, {"csrf": ""}, {"csrf": "0" * 64}, {"csrf": other},
                       {"csrf": good[:-1] + ("0" if good[-1] != "0" else "1")}):
            r = c.post(ticket + "/notes", dict(fields, text="should not land"))
            self.assertEqual(r.status, 403, fields)
            r = c.post(ticket + "/actions/verify", dict(fields, document_type="passport"))
            self.assertEqual(r.status, 403, fields)
            r = c.post("/drafts/1/approve", fields)
            self.assertEqual(r.status, 403, fields)
        # A state change by GET is not a thing.
        self.assertEqual(c.get(ticket + "/notes").status, 405)
        self.assertEqual(c.get("/drafts/1/approve").status, 405)
        # A right token from another site's form (Origin) is refused too.
        r = c.post(ticket + "/notes", {"csrf": good, "text": "x"},
                   headers={"Origin": "http://evil.example",
                            "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.count("SELECT count(*) FROM ticket_events WHERE kind = 'note'"), 0)
        self.assertEqual(self.ticket_state(), "awaiting_verification")
        self.assertEqual(self.count("SELECT count(*) FROM drafts WHERE state = 'approved'"), 0)
        # With the token it works.
        r = c.post(ticket + "/notes", {"csrf": good, "text": "本人に電話で確認済み"})
        self.assertEqual(r.status, 303)
        [note] = self.db().execute("SELECT actor, detail FROM ticket_events WHERE kind = 'note'")
        self.assertEqual(tuple(note), ("sato", "本人に電話で確認済み"))
        self.assertEqual(self.audit_rows("note")[0]["actor"], "sato")

    def ticket_state(self, ref="PRV-2026-000001"):
        return self.db().execute("SELECT state FROM tickets WHERE ref = ?", (ref,)).fetchone()[0]

    def test_staff_get_403_on_admin_pages(self):
        staff = self.client(login="sato")
        token = staff.csrf()
        with open(os.path.join(self.templates_dir(), "ja", "ack.tmpl"), "rb") as f:
            before = f.read()
        for path in ("/templates", "/templates/ja/ack", "/templates/en/partials/signature",
                     "/users"):
            self.assertEqual(staff.get(path).status, 403, path)
        r = staff.post("/templates/ja/ack/save", {"csrf": token, "text": "Subject: x\n\nhacked\n"})
        self.assertEqual(r.status, 403)
        with open(os.path.join(self.templates_dir(), "ja", "ack.tmpl"), "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertNotIn('href="/templates"', staff.get("/").text, "no link to what is refused")
        admin = self.client(login="kato")
        self.assertEqual(admin.get("/templates").status, 200)
        self.assertEqual(admin.get("/users").status, 200)

    def templates_dir(self):
        return os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "templates")

    def test_attachments_by_id_only_with_no_store_and_every_view_audited(self):
        c = self.client(login="sato")
        photo = next(parse_mail(fixture(LICENSE_REQUEST)).iter_attachments()).get_content()
        [(doc_id,)] = self.db().execute("SELECT id FROM attachments WHERE kind = 'id_document'")
        r = c.get(f"/attachments/{doc_id}")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, photo)
        self.assertEqual(r.header("Content-Type"), "image/jpeg")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertIn("sandbox", r.header("Content-Security-Policy"))
        c.get(f"/attachments/{doc_id}")
        views = self.audit_rows("attachment viewed")
        self.assertEqual(len(views), 2)
        self.assertTrue(all(v["actor"] == "sato" and v["ticket_ref"] == "PRV-2026-000001"
                            for v in views))
        # Paths, traversal, other ids: nothing, and nothing audited.
        spool_file = self.db().execute("SELECT spool_path FROM attachments").fetchone()[0]
        for path in ("/attachments/../state/privacy-inbox.db", "/attachments/..%2F..%2Fetc%2Fpasswd",
                     "/attachments/%2e%2e/%2e%2e/etc/passwd", f"/attachments/{spool_file}",
                     "/attachments/0", "/attachments/-1", f"/attachments/{doc_id}abc",
                     f"/attachments/{doc_id + 1}", "/attachments/99999999999999999999",
                     "/attachments/1e3", "/attachments/0x1", "/attachments/%00"):
            r = c.get(path)
            self.assertIn(r.status, (404, 303), path)
            self.assertNotEqual(r.body, photo, path)
        self.assertEqual(len(self.audit_rows("attachment viewed")), 2)
        # Guessing ids without a session leads to the sign-in page only.
        self.assertEqual(Client(self.url).get(f"/attachments/{doc_id}").status, 303)
        # A destroyed document is gone, and says so.
        self.pi("tickets", "reject", "PRV-2026-000001", "--by", "sato", "--reason", "test")
        self.pi("purge", env={"PRIVACY_INBOX_NOW": "2099-01-01T00:00:00Z"})
        self.assertEqual(c.get(f"/attachments/{doc_id}").status, 410)

    def test_hostile_mail_renders_inert(self):
        self.deliver(hostile_request())
        self.fetch_once()
        c = self.client(login="sato")
        [(ref,)] = self.db().execute("SELECT ref FROM tickets WHERE requester_address = 'xss@example.org'")
        [(draft,)] = self.db().execute(
            "SELECT d.id FROM drafts d JOIN tickets t ON t.id = d.ticket_id WHERE t.ref = ?", (ref,))
        pages = {p: c.get(p) for p in ("/", f"/tickets/{ref}", f"/drafts/{draft}", "/drafts",
                                       "/audit")}
        for path, r in pages.items():
            self.assertEqual(r.status, 200, path)
            for probe in ("<script>alert", "<img src=x", "<svg onload", 'href="javascript:',
                          " onerror=alert(1)>", " style="):
                self.assertNotIn(probe, r.text, f"{probe!r} live on {path}")
        ticket = pages[f"/tickets/{ref}"].text
        self.assertIn("&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;", ticket)
        self.assertIn("&lt;/pre&gt;&lt;script&gt;alert(&#39;body&#39;)&lt;/script&gt;", ticket)
        self.assertIn("&lt;svg onload=alert(1)&gt;運転免許証.jpg", ticket)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;山田", pages["/"].text)
        # The only scripts a page loads are our own file.
        for r in pages.values():
            self.assertEqual(r.text.count("<script"), 1)
            self.assertIn('<script src="/assets/console.js" defer></script>', r.text)
            self.assertIn("default-src 'self'", r.header("Content-Security-Policy"))

    def test_login_rate_limit_holds(self):
        c = Client(self.url)
        for i in range(5):
            r = c.login("sato", "wrong password " + str(i), expect=401)
        # Now even the right password is refused for a while, without a session.
        r = c.login("sato", PASSWORD, expect=429)
        self.assertIsNone(c.cookie("pi_session"))
        self.assertEqual(r.header("Retry-After"), "900")
        # Another account is not locked by it...
        self.client(login="suzuki")
        # ...until the address itself has failed too often.
        for i in range(15):
            Client(self.url).login(f"nobody{i}", "guess", expect=401)
        Client(self.url).login("suzuki", PASSWORD, expect=429)
        self.assertEqual(len(self.audit_rows("login failed")), 20)
        self.assertEqual(self.count("SELECT count(*) FROM login_failures"), 20)
        # When the window has passed, sign-in works again.
        self.db().execute("UPDATE login_failures SET at = '2000-01-01T00:00:00Z'").connection.commit()
        self.client(login="sato")

    def test_sessions_cookies_and_headers(self):
        c = self.client(login="sato")
        cookie = c.cookie("pi_session")
        self.assertIsNotNone(cookie)
        self.assertEqual(len(cookie.value), 43, "256 random bits, base64url")
        self.assertFalse(cookie.secure, "plain HTTP on loopback")
        r = self.raw_login_headers()
        self.assertIn("HttpOnly", r)
        self.assertIn("SameSite=Strict", r)
        self.assertNotIn("Secure", r)
        # Stored hashed only.
        [(stored,)] = self.db().execute("SELECT id_hash FROM web_sessions LIMIT 1")
        self.assertNotIn(cookie.value, str(self.db().execute("SELECT * FROM web_sessions").fetchall()))
        hashes = [row[0] for row in self.db().execute("SELECT id_hash FROM web_sessions")]
        self.assertIn(hashlib.sha256(cookie.value.encode()).hexdigest(), hashes)
        page = c.get("/")
        for name, value in (("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
                            ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store")):
            self.assertEqual(page.header(name), value, name)
        self.assertTrue(page.header("Content-Security-Policy").startswith("default-src 'self'"))
        self.assertIn("frame-ancestors 'none'", page.header("Content-Security-Policy"))
        # Logout ends the session for good: the old cookie no longer works.
        token = page.csrf()
        old = cookie.value
        self.assertEqual(c.post("/logout", {"csrf": token}).status, 303)
        replay = Client(self.url)
        replay.jar.set_cookie(make_cookie("pi_session", old))
        self.assertEqual(replay.get("/").status, 303)
        self.assertEqual(self.audit_rows("logout")[0]["actor"], "sato")
        # Idle and absolute timeouts.
        idle = self.client(login="suzuki")
        self.assertEqual(idle.get("/").status, 200)
        self.db().execute("UPDATE web_sessions SET last_seen_at = '2000-01-01T00:00:00Z'").connection.commit()
        self.assertEqual(idle.get("/").status, 303)
        old_session = self.client(login="suzuki")
        self.db().execute("UPDATE web_sessions SET created_at = '2000-01-01T00:00:00Z'").connection.commit()
        self.assertEqual(old_session.get("/").status, 303)
        # Disabling an account ends its sessions at once.
        live = self.client(login="sato")
        self.assertEqual(live.get("/").status, 200)
        self.pi("users", "disable", "sato")
        self.assertEqual(live.get("/").status, 303)
        Client(self.url).login("sato", PASSWORD, expect=401)
        # The console's acts carry the person: a sign-in is audited with them.
        self.assertIn("sato", [row["actor"] for row in self.audit_rows("login")])

    def raw_login_headers(self):
        host, port = self.url.split("//")[1].rstrip("/").split(":")
        body = f"user=sato&password={PASSWORD.replace(' ', '+')}".encode()
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return [line for line in data.decode().split("\r\n")
                if line.lower().startswith("set-cookie:")][0]

    def test_limits_and_misbehaving_clients_do_not_stop_the_others(self):
        c = self.client(login="sato")
        token = c.csrf()
        host, port = self.url.split("//")[1].rstrip("/").split(":")
        # Too large: refused before the body is read (a raw socket, since the
        # server answers and closes while a client would still be sending).
        cookie = c.cookie("pi_session").value
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"POST /tickets/PRV-2026-000001/notes HTTP/1.1\r\nHost: x\r\n"
                      b"Cookie: pi_session=" + cookie.encode() + b"\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: 2097152\r\n\r\ncsrf=" + token.encode() + b"&text=xxx")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 413"))
        self.assertEqual(self.count("SELECT count(*) FROM ticket_events WHERE kind = 'note'"), 0)
        # Not a form.
        r = c.post("/tickets/PRV-2026-000001/notes", data=b'{"text": "x"}',
                   headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 415)
        # A client that sends half a request and then nothing, and one that
        # sends garbage: the others are served meanwhile.
        slow = socket.create_connection((host, int(port)), timeout=10)
        slow.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nuser=")
        garbage = socket.create_connection((host, int(port)), timeout=10)
        garbage.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200) + b"\r\n\r\n")
        started = time.monotonic()
        for _ in range(5):
            self.assertEqual(c.get("/").status, 200)
        self.assertLess(time.monotonic() - started, 10)
        garbage.settimeout(10)
        reply = garbage.recv(4096)
        self.assertTrue(reply == b"" or reply.startswith(b"HTTP/1.1 400"), reply[:100])
        slow.close()
        garbage.close()
        # Header floods are cut off by the connection's memory limit.
        r = c.get("/", headers={"X-Junk": "a" * 100000})
        self.assertIn(r.status, (413, 414, 431, 400))
        self.assertEqual(c.get("/").status, 200)

    def test_plain_http_only_on_loopback_and_https_with_secure_cookies(self):
        proc = self.start_console(listen="0.0.0.0:0", expect_url=False)
        self.assertEqual(proc.wait(timeout=30), 1)
        self.assertIn("plain HTTP", self.console_log_text())
        tls = make_ca(os.path.join(shared_tls_dir(), "web"))
        config = self.write_config(name="https.ini", extra=(
            f"[web]\ncert_file = {tls['cert']}\nkey_file = {tls['key']}\n"))
        self.start_console(config=config, listen="127.0.0.1:0")
        self.assertTrue(self.url.startswith("https://"), self.url)
        context = ssl.create_default_context(cafile=tls["ca"])
        c = Client(self.url, context=context)
        r = c.login("sato")
        cookie = c.cookie("__Host-pi_session")
        self.assertIsNotNone(cookie, [x.name for x in c.jar])
        self.assertTrue(cookie.secure)
        page = c.get("/")
        self.assertEqual(page.status, 200)
        self.assertIn("max-age=", page.header("Strict-Transport-Security"))
        # A client that does not trust the certificate gets nothing.
        with self.assertRaises(Exception):
            Client(self.url, context=ssl.create_default_context(cafile=tls["other_ca"])).get("/login")


def make_cookie(name, value):
    import http.cookiejar as cj
    return cj.Cookie(0, name, value, None, False, "127.0.0.1", False, False, "/", True, False,
                     None, False, None, None, {})
