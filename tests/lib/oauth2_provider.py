"""oauth2_provider — a STAND-IN for an OAuth2 identity provider (Google,
Microsoft), which cannot run here: a small HTTP server on loopback with

  POST /token       RFC 6749 section 6: grant_type=refresh_token, client_id,
                    client_secret → {"access_token", "expires_in",
                    "token_type": "Bearer", "refresh_token" (when rotating)}
                    or 400 {"error": "invalid_grant" | "invalid_client"}
  POST /introspect  RFC 7662, what Dovecot's oauth2 passdb asks
                    (introspection_mode = post): token=… →
                    {"active": true, "username": USER} or {"active": false}

Tests steer it directly (it runs in the test's process, in a thread):

    with OAuth2Provider(user="pi", client_id="privacy-inbox") as idp:
        idp.token_url, idp.introspection_url
        refresh = idp.issue_refresh_token()
        idp.expires_in = 5; idp.rotate = True
        idp.revoke_refresh_tokens(); idp.revoke_access_tokens()
        idp.refresh_requests  # how many /token calls
"""
import http.server
import json
import secrets
import threading
import time
import urllib.parse

HOST = "127.0.0.1"


class OAuth2Provider:
    def __init__(self, user="pi", client_id="privacy-inbox", client_secret="client-secret",
                 expires_in=3600, rotate=False):
        self.user, self.client_id, self.client_secret = user, client_id, client_secret
        self.expires_in, self.rotate = expires_in, rotate
        self.refresh_tokens = set()
        self.access_tokens = {}  # token → expiry (monotonic)
        self.refresh_requests = 0
        self.refusals = 0
        self.introspections = 0
        self.lock = threading.Lock()
        self.server = None

    # ---- steering ----------------------------------------------------------
    def issue_refresh_token(self):
        token = "rt-" + secrets.token_urlsafe(24)
        with self.lock:
            self.refresh_tokens.add(token)
        return token

    def revoke_refresh_tokens(self):
        with self.lock:
            self.refresh_tokens.clear()

    def revoke_access_tokens(self):
        with self.lock:
            self.access_tokens.clear()

    def valid(self, user, access_token):
        """Is ACCESS_TOKEN a live token of USER (for the SMTP server)?"""
        with self.lock:
            expiry = self.access_tokens.get(access_token)
            return user == self.user and expiry is not None and expiry >= time.monotonic()

    @property
    def token_url(self):
        return f"http://{HOST}:{self.server.server_port}/token"

    @property
    def introspection_url(self):
        return f"http://{HOST}:{self.server.server_port}/introspect"

    # ---- the endpoints -----------------------------------------------------
    def _token(self, form):
        with self.lock:
            self.refresh_requests += 1
            if (form.get("client_id") != self.client_id or
                    form.get("client_secret") != self.client_secret):
                self.refusals += 1
                return 401, {"error": "invalid_client"}
            if (form.get("grant_type") != "refresh_token" or
                    form.get("refresh_token") not in self.refresh_tokens):
                self.refusals += 1
                return 400, {"error": "invalid_grant",
                             "error_description": "Token has been expired or revoked."}
            access = "at-" + secrets.token_urlsafe(24)
            self.access_tokens[access] = time.monotonic() + self.expires_in
            answer = {"access_token": access, "expires_in": self.expires_in,
                      "token_type": "Bearer", "scope": "https://mail.example/"}
            if self.rotate:
                self.refresh_tokens.discard(form["refresh_token"])
                rotated = "rt-" + secrets.token_urlsafe(24)
                self.refresh_tokens.add(rotated)
                answer["refresh_token"] = rotated
            return 200, answer

    def _introspect(self, form):
        with self.lock:
            self.introspections += 1
            expiry = self.access_tokens.get(form.get("token", ""))
            if expiry is None or expiry < time.monotonic():
                return 200, {"active": False}
            return 200, {"active": True, "username": self.user}

    # ---- the server ----------------------------------------------------------
    def start(self):
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                form = dict(urllib.parse.parse_qsl(body))
                if self.path == "/token":
                    status, answer = provider._token(form)
                elif self.path == "/introspect":
                    status, answer = provider._introspect(form)
                else:
                    status, answer = 404, {"error": "not_found"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
