"""cutproxy — a SCRIPTED MISBEHAVING network path for failure tests: a TCP
proxy on loopback in front of a real server that, on its first CUTS
connections, closes both sides once the server has sent AFTER bytes past
the start of the first IMAP literal of a BODY[] ("BODY[] {n}\\r\\n").  Later
connections pass untouched.  Plain text only (it has to see the bytes).

    with CutProxy(target_port, cuts=1, after=100000) as proxy:
        proxy.port, proxy.cut  # connections cut so far
"""
import socket
import threading

HOST = "127.0.0.1"


class CutProxy:
    def __init__(self, target_port, cuts=1, after=100000):
        self.target_port, self.cuts, self.after = target_port, cuts, after
        self.cut = 0
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = None

    @property
    def port(self):
        return self.sock.getsockname()[1]

    def start(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                cut_this = self.connections <= self.cuts
            server = socket.create_connection((HOST, self.target_port))
            threading.Thread(target=self._pipe, args=(client, server, False, False),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True, cut_this),
                             daemon=True).start()

    def _pipe(self, src, dst, from_server, cut_this):
        seen = b""
        literal_at = None  # bytes forwarded when the first literal started
        forwarded = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if cut_this and literal_at is None:
                    window = seen + data
                    i = window.find(b"BODY[] {")
                    if i >= 0 and b"}\r\n" in window[i:i + 40]:
                        literal_at = forwarded
                    seen = window[-64:]
                if cut_this and literal_at is not None and \
                        forwarded + len(data) - literal_at > self.after:
                    keep = max(0, literal_at + self.after - forwarded)
                    dst.sendall(data[:keep])
                    with self.lock:
                        self.cut += 1
                    break
                dst.sendall(data)
                forwarded += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def stop(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
