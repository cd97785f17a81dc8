"""courier — a second IMAP server implementation for the tests: Courier-IMAP's
imapd (Debian's courier-imap), which has no MOVE, no IDLE unless told, and
(with uidplus=False) no UIDPLUS, so clients take their fallback paths.

Debian's courier-imap package conflicts with dovecot-imapd (both provide
imap-server), so it is never installed: ensure_imapd() fetches the package
with `apt-get download` and unpacks its imapd with dpkg-deb into a cache
folder (its libraries — libcourier-unicode4, courier-authlib, libgamin0,
libgdbm6, libidn12 — come from scripts/install-deps).  No authentication
daemon either: a small listener on 127.0.0.1 starts one pre-authenticated
imapd per connection (greeting "* PREAUTH", as Courier does after a login
through its authlib), on a Maildir in the instance's folder.  Plain text on
loopback only.

    from tests.lib.courier import Courier
    with Courier(dir, uidplus=False) as c:     # dir=None: a temporary folder
        c.imap_port, c.deliver(raw, mailbox="INBOX"), c.uids("INBOX")
        c.pause(); c.resume()                  # an outage: connections cut

The helpers (deliver, uids, messages, flags, fetch, mailboxes) are those of
tests.lib.dovecot.Dovecot, over the same listener.
"""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading

from tests.lib.dovecot import Dovecot

HOST = "127.0.0.1"
CACHE = os.path.join(tempfile.gettempdir(), "privacy-inbox-courier-imap")


def ensure_imapd():
    """The path of Courier's imapd: installed, or unpacked from the package."""
    if os.path.exists("/usr/bin/imapd") and "courier" in os.path.realpath("/usr/bin/imapd") or \
            os.path.exists("/usr/lib/courier/courier/imaplogin"):
        return "/usr/bin/imapd"
    binary = os.path.join(CACHE, "usr", "bin", "imapd")
    if os.path.exists(binary):
        return binary
    work = tempfile.mkdtemp(prefix="courier-dl-")
    try:
        subprocess.run(["apt-get", "download", "-q", "courier-imap"], cwd=work, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        [deb] = glob.glob(os.path.join(work, "courier-imap_*.deb"))
        unpacked = os.path.join(work, "x")
        subprocess.run(["dpkg-deb", "-x", deb, unpacked], check=True)
        os.makedirs(os.path.dirname(binary), exist_ok=True)
        tmp = binary + f".tmp{os.getpid()}"
        shutil.copy2(os.path.join(unpacked, "usr", "bin", "imapd"), tmp)
        os.replace(tmp, binary)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return binary


class Courier(Dovecot):
    """Courier's imapd behind a pre-authenticating listener."""

    def __init__(self, dir=None, uidplus=True, idle=False):
        super().__init__(dir, user="pi", password="unused", no_tls=True)
        self.uidplus, self.idle = uidplus, idle
        self.sock = None
        self.children = []
        self.lock = threading.Lock()
        self.port = None
        self.imapd = None

    def capabilities(self):
        caps = ["IMAP4rev1", "CHILDREN", "NAMESPACE", "SORT", "QUOTA"]
        if self.uidplus:
            caps.append("UIDPLUS")
        if self.idle:
            caps.append("IDLE")
        return caps

    def start(self, timeout=20):
        self.imapd = ensure_imapd()
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="privacy-inbox-courier-")
        self.home = os.path.join(self.dir, "home")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.home, "Maildir", sub), exist_ok=True)
        self.log_path = os.path.join(self.dir, "courier.log")
        self._listen()
        self.info = {"imap_port": self.port, "imaps_port": None, "user": self.user,
                     "password": self.password, "ca_file": None, "other_ca_file": None,
                     "dir": self.dir, "log": self.log_path, "capabilities": self.capabilities()}
        return self

    def _listen(self, port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, args=(self.sock,), daemon=True).start()

    def _accept(self, sock):
        env = {"PATH": "/usr/bin:/bin", "HOME": self.home, "AUTHENTICATED": self.user,
               "IMAP_CAPABILITY": " ".join(self.capabilities()), "IMAP_KEYWORDS": "1",
               "IMAP_ENHANCEDIDLE": "0", "IMAP_USELOCKS": "1", "TCPREMOTEIP": HOST}
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with open(self.log_path, "ab") as log:
                child = subprocess.Popen([self.imapd, "Maildir"], cwd=self.home, env=env,
                                         stdin=conn, stdout=conn, stderr=log)
            conn.close()
            with self.lock:
                self.children = [c for c in self.children if c.poll() is None] + [child]

    def imap(self):
        import imaplib
        return imaplib.IMAP4(HOST, self.port, timeout=30)  # PREAUTH: no LOGIN

    def pause(self):
        """An outage: stop listening and cut every connection."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        with self.lock:
            children, self.children = self.children, []
        for c in children:
            if c.poll() is None:
                c.kill()
                c.wait()

    def resume(self, timeout=20):
        self._listen(self.port)
        return self

    def stop(self):
        self.pause()
        if self._own_dir and self.dir and not os.environ.get("PI_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)
