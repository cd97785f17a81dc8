"""Deployment: the systemd units in systemd/ pass `systemd-analyze verify`
with the hardening the README promises, and `run` speaks the Type=notify
protocol (READY=1 once it works the mailbox, STOPPING=1 on SIGTERM) over a
real $NOTIFY_SOCKET."""
import os
import re
import shutil
import socket
import subprocess
import unittest

from tests.integration.daemon_support import DaemonCase
from tests.integration.harness import BIN, ROOT

UNITS = ("privacy-inbox.service", "privacy-inbox-web.service")
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
             "Restart=on-failure")


class Units(unittest.TestCase):

    def test_units_verify_and_are_hardened(self):
        analyze = shutil.which("systemd-analyze")
        self.assertIsNotNone(analyze, "systemd-analyze (package systemd) is needed")
        work = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"pi-units-{os.getpid()}")
        os.makedirs(work, exist_ok=True)
        self.addCleanup(shutil.rmtree, work, True)
        paths = []
        for name in UNITS:
            with open(os.path.join(ROOT, "systemd", name), encoding="utf-8") as f:
                text = f.read()
            for line in HARDENING:
                self.assertIn(f"\n{line}\n", text, f"{name} lacks {line}")
            self.assertRegex(text, r"\nReadWritePaths=/var/lib/privacy-inbox\n")
            execs = re.findall(r"^ExecStart=(\S+) (\w+)", text, re.M)
            self.assertEqual(len(execs), 1, name)
            # the command the unit runs exists in this build
            command = execs[0][1]
            self.assertEqual(subprocess.run([BIN, command, "--help"], capture_output=True).returncode,
                             0, f"{name}: `privacy-inbox {command}` is not a command")
            # verify needs the binary where the unit says: point it at the build
            path = os.path.join(work, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(execs[0][0], BIN))
            paths.append(path)
        proc = subprocess.run([analyze, "verify", *paths], capture_output=True, text=True)
        self.assertEqual((proc.returncode, proc.stdout + proc.stderr), (0, ""))


class Notify(DaemonCase):
    extra_config = "[daemon]\nbackoff_max_seconds = 2\n"

    def test_ready_and_stopping_reach_the_notify_socket(self):
        path = os.path.join(self.dir, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        os.chmod(path, 0o777)
        sock.settimeout(30)
        proc = self.start_daemon(env={"NOTIFY_SOCKET": path})
        states = []
        while not any(s.startswith("READY=1") for s in states):
            states.append(sock.recv(4096).decode())
        self.assertTrue(self.status()["running"])
        self.stop_daemon(proc)
        while not any(s.startswith("STOPPING=1") for s in states):
            states.append(sock.recv(4096).decode())


if __name__ == "__main__":
    unittest.main()
