"""web_support — what the web console tests (test_web_*.py and the browser
test) share on top of daemon_support.DaemonCase: accounts, `privacy-inbox
serve` in the background, and an HTTP client (urllib, no proxy, its own
cookie jar, redirects NOT followed so tests see every 303)."""
import http.cookiejar
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.integration.daemon_support import DaemonCase
from tests.integration.harness import BIN

PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name)

    def csrf(self):
        m = CSRF_RE.search(self.text)
        return m.group(1) if m else None

    def __repr__(self):
        return f"<{self.status} {self.text[:300]!r}>"


class Client:
    """One browser: a cookie jar, no proxy, no automatic redirects."""

    def __init__(self, base, context=None):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar),
                    NoRedirect()]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, method, path, fields=None, data=None, headers=None):
        if fields is not None:
            data = urllib.parse.urlencode(fields, doseq=True).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers or {})
        if data is not None and "Content-Type" not in (headers or {}):
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=30) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields=None, data=None, **kw):
        if fields is None and data is None:
            fields = {}
        return self.request("POST", path, fields=fields, data=data, **kw)

    def login(self, user, password=PASSWORD, expect=303):
        r = self.post("/login", {"user": user, "password": password, "next": "/"})
        if expect is not None and r.status != expect:
            raise AssertionError(f"login as {user}: {r.status} {r.text[:500]}")
        return r

    def csrf(self, path="/"):
        token = self.get(path).csrf()
        if token is None:
            raise AssertionError(f"no CSRF token on {path}")
        return token

    def cookie(self, name):
        for c in self.jar:
            if c.name == name:
                return c
        return None


class WebCase(DaemonCase):
    """Accounts sato and suzuki (staff) and kato (admin), and the console."""

    users = (("sato", "staff"), ("suzuki", "staff"), ("kato", "admin"))

    def setUp(self):
        super().setUp()
        self.consoles = []
        self.addCleanup(self._stop_consoles)
        pw = os.path.join(self.dir, "secrets", "web-password")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pw, 0o600)
        for name, role in self.users:
            self.pi("users", "add", name, "--role", role, "--password-file", pw)

    def _stop_consoles(self):
        for proc in self.consoles:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def start_console(self, config=None, listen="127.0.0.1:0", env=None, expect_url=True):
        full_env = dict(os.environ)
        full_env.pop("PRIVACY_INBOX_CONFIG", None)
        full_env.update(env or {})
        self.console_log = os.path.join(self.dir, "serve.log")
        log = open(self.console_log, "ab")
        self.addCleanup(log.close)
        proc = subprocess.Popen([BIN, "--config", config or self.config, "serve", "--listen",
                                 listen], stdout=subprocess.PIPE, stderr=log, env=full_env)
        self.consoles.append(proc)
        if not expect_url:
            return proc
        line = proc.stdout.readline().decode()
        m = re.search(r"(https?://\S+/)", line)
        if m is None:
            proc.wait(timeout=10)
            self.fail(f"serve did not start: {line!r}\n{self.console_log_text()}")
        self.console_proc = proc
        self.url = m.group(1)
        return proc

    def console_log_text(self):
        with open(self.console_log, errors="replace") as f:
            return f.read()

    def stop_console(self, proc=None):
        proc = proc or self.console_proc
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0, self.console_log_text()[-3000:])

    def client(self, login=None, **kw):
        c = Client(self.url, **kw)
        if login:
            c.login(login)
        return c

    def fetch_once(self, **kw):
        return self.pi("fetch", "--once", "--no-send", **kw)

    def audit_rows(self, action=None):
        sql = "SELECT actor, action, ticket_ref, detail FROM audit"
        if action:
            return self.db().execute(sql + " WHERE action = ? ORDER BY id", (action,)).fetchall()
        return self.db().execute(sql + " ORDER BY id").fetchall()

    def wait_for(self, what, condition, timeout=30, interval=0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(interval)
        self.fail(f"timed out waiting for {what}")
