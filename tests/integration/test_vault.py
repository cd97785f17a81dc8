"""The spool under lock, disposal, the audit log, reports, and staff working
while the daemon fetches — against real Dovecot and SMTP servers:

- an identity document fetched over IMAP is encrypted at rest (checked with
  an independent secretstream implementation, PyNaCl), shown only through a
  pipe, exported to a 0600 file, every access audited;
- it is destroyed id_retention_days after the ticket is finished, with the
  clock faked through PRIVACY_INBOX_NOW (no sleeping), the row kept with
  SHA-256, time and reason, and a deletion record printed;
- the audit chain verifies, and fails naming the row after one is edited
  with the sqlite3 shell; the CSV export parses;
- staff approve, reject and list while `fetch --once` works through 300
  messages: no lock errors, every approval recorded, one ticket per message.
"""
import csv
import email.message
import email.utils
import hashlib
import io
import json
import os
import pty
import shutil
import sqlite3
import subprocess
import threading
import time
import unittest

from tests.integration.harness import BIN, PipelineCase, fixture, parse_mail, spool_plaintext

LICENSE_REQUEST = "requests/ja-iso2022jp-disclosure-license.eml"
T0 = "2026-11-02T10:00:00+09:00"


def licence_photo():
    return next(parse_mail(fixture(LICENSE_REQUEST)).iter_attachments()).get_content()


class Vault(PipelineCase):

    def key_hex(self):
        with open(os.path.join(self.dir, "state", "spool.key")) as f:
            return f.read().strip()

    def audit_rows(self, action):
        return self.db().execute(
            "SELECT actor, ticket_ref, detail FROM audit WHERE action = ? ORDER BY id",
            (action,)).fetchall()

    def test_identity_document_from_fetch_to_destruction(self):
        raw = fixture(LICENSE_REQUEST)
        photo = licence_photo()
        self.deliver(raw)
        self.pi("fetch", "--once", "--no-send", env={"PRIVACY_INBOX_NOW": T0})
        [t] = self.tickets()
        ref = t["ref"]
        row = self.db().execute(
            "SELECT id, sha256, spool_path FROM attachments WHERE kind = 'id_document'").fetchone()
        doc_id, sha, path = row["id"], row["sha256"], self.spool(row["spool_path"])
        raw_path = self.spool(self.db().execute("SELECT raw_path FROM messages").fetchone()[0])

        # At rest: neither the photo nor the mail is readable, and a
        # libsodium implementation other than ours decrypts both.
        key_path = os.path.join(self.dir, "state", "spool.key")
        self.assertEqual(os.stat(key_path).st_mode & 0o777, 0o600)
        for p, plain in ((path, photo), (raw_path, raw)):
            with open(p, "rb") as f:
                stored = f.read()
            self.assertTrue(stored.startswith(b"PIVAULT3"))
            self.assertNotIn(plain[100:164], stored)
            self.assertEqual(spool_plaintext(p, self.key_hex()), plain)
            self.assertEqual(os.stat(p).st_mode & 0o777, 0o600)
        self.assertEqual(hashlib.sha256(photo).hexdigest(), sha)
        self.assertEqual(os.listdir(self.spool("tmp")), [])

        listed = self.pi_json("attachments", "list", ref, "--json")
        self.assertEqual([(a["id"], a["kind"], a["stored"]) for a in listed],
                         [(doc_id, "id_document", "kept")])

        # show: through a pipe only, and audited.
        shown = self.pi("attachments", "show", str(doc_id), "--by", "sato").stdout
        self.assertEqual(shown, photo)
        self.assertEqual(self.pi("attachments", "show", str(doc_id), expect=2).returncode, 2)
        master, slave = pty.openpty()
        try:
            proc = subprocess.run([BIN, "--config", self.config, "attachments", "show",
                                   str(doc_id), "--by", "sato"], stdout=slave,
                                  stderr=subprocess.PIPE, timeout=30)
        finally:
            os.close(slave)
            os.close(master)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"refusing to write an identity document to the terminal", proc.stderr)

        # export: a new 0600 file, never over an existing one.
        out = os.path.join(self.dir, "exported.jpg")
        self.pi("attachments", "export", str(doc_id), "--by", "suzuki", "--output", out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), photo)
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        again = self.pi("attachments", "export", str(doc_id), "--by", "suzuki", "--output", out,
                        expect=1)
        self.assertIn("never overwrites", again.err)

        viewed = self.audit_rows("attachment viewed")
        self.assertEqual([(r["actor"], r["ticket_ref"]) for r in viewed],
                         [("sato", ref), ("suzuki", ref)])
        self.assertIn(f"attachment {doc_id} ", viewed[0]["detail"])
        self.assertIn("standard output", viewed[0]["detail"])
        self.assertIn(out, viewed[1]["detail"])

        # The ticket is finished (refused) a day later …
        self.pi("tickets", "reject", ref, "--by", "sato", "--reason",
                "本人確認ができませんでした", env={"PRIVACY_INBOX_NOW": "2026-11-03T10:00:00+09:00"})
        # … 29 days after that nothing is due; 31 days after, the licence
        # and the mail that carried it are destroyed.
        early = self.pi("purge", env={"PRIVACY_INBOX_NOW": "2026-12-02T10:00:00+09:00"}).out
        self.assertIn("0 identity documents and 0 raw messages destroyed", early)
        self.assertTrue(os.path.exists(path))
        dry = self.pi("purge", "--dry-run",
                      env={"PRIVACY_INBOX_NOW": "2026-12-04T10:00:00+09:00"}).out
        self.assertIn(f"would destroy identity document #{doc_id} of {ref}", dry)
        self.assertTrue(os.path.exists(path))
        done = self.pi("purge", "--by", "admin",
                       env={"PRIVACY_INBOX_NOW": "2026-12-04T10:00:00+09:00"}).out
        self.assertIn(f"destroyed identity document #{doc_id} of {ref}", done)
        self.assertIn("1 identity documents and 1 raw messages destroyed", done)
        self.assertFalse(os.path.exists(path))
        self.assertFalse(os.path.exists(raw_path))
        kept = self.db().execute(
            "SELECT sha256, spool_path, destroyed_at, destroy_reason FROM attachments"
            " WHERE id = ?", (doc_id,)).fetchone()
        self.assertEqual(kept["sha256"], sha)
        self.assertIsNone(kept["spool_path"])
        self.assertEqual(kept["destroyed_at"], "2026-12-04T01:00:00Z")
        self.assertIn("id_retention_days = 30", kept["destroy_reason"])

        gone = self.pi("attachments", "show", str(doc_id), "--by", "sato", expect=1)
        self.assertIn("was destroyed on 2026-12-04T01:00:00Z", gone.err)

        record = self.pi_json("purge", "--record", ref, "--json")
        self.assertEqual(record["state"], "rejected")
        self.assertEqual(record["finished_at"], "2026-11-03T01:00:00Z")
        destroyed = {(d["what"], d["sha256"]) for d in record["destroyed"]}
        self.assertIn(("id_document", sha), destroyed)
        self.assertIn(("raw_message", hashlib.sha256(raw).hexdigest()), destroyed)
        text = self.pi("purge", "--record", ref).out
        self.assertIn(f"Deletion record of {ref}", text)
        self.assertIn(sha, text)
        self.assertIn("destroyed 2026-12-04T01:00:00Z", text)
        purges = self.audit_rows("purge")
        self.assertEqual(sum(1 for r in purges if r["ticket_ref"] == ref), 2)
        self.assertEqual(purges[-1]["actor"], "admin")

        # The monthly report counts the request and the destruction.
        report = self.pi_json("report", "--month", "2026-12", "--json")
        self.assertEqual(report["destroyed"]["id_documents"], 1)
        csv_report = self.pi("report", "--month", "2026-12", "--csv").out
        self.assertIn("id_documents_destroyed,,,1\r\n", csv_report)

        # The audit chain verifies; a row edited with the sqlite3 shell is
        # found and named.
        self.assertIn("audit log intact", self.pi("audit", "verify").out)
        db = os.path.join(self.dir, "state", "privacy-inbox.db")
        refused = subprocess.run(["sqlite3", db, "UPDATE audit SET actor = 'mallory' WHERE id = 2"],
                                 capture_output=True, text=True)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("append-only", refused.stderr)

        exported = self.pi("audit", "export", "--since", "2026-11-01").out
        self.assertTrue(exported.startswith("id,at,actor,action,ticket_ref,detail,prev_hash,hash\r\n"))
        rows = list(csv.DictReader(io.StringIO(exported, newline="")))
        in_db = self.db().execute("SELECT count(*) FROM audit").fetchone()[0]
        self.assertEqual(len(rows), in_db - 1)  # the export's own row comes after it
        self.assertIn("attachment viewed", {r["action"] for r in rows})
        self.assertTrue(any("," in r["detail"] for r in rows), "quoting is exercised")
        self.assertEqual(len(self.audit_rows("audit exported")), 1)

        subprocess.run(["sqlite3", db, "DROP TRIGGER audit_no_update;"
                        " UPDATE audit SET actor = 'mallory' WHERE id = 2"], check=True)
        bad = self.pi("audit", "verify", expect=1)
        self.assertRegex(bad.err, r"^privacy-inbox: audit log: row 2 \(.*, mallory, .*\): "
                                  r"its contents do not match its hash")
        self.assertEqual(bad.err.count("\n"), 1)

    def test_the_key_file_is_required(self):
        self.deliver(LICENSE_REQUEST)
        self.pi("fetch", "--once", "--no-send")
        key = os.path.join(self.dir, "state", "spool.key")
        os.chmod(key, 0o644)
        loose = self.pi("tickets", "list", expect=1)
        self.assertIn("chmod 600", loose.err)
        os.chmod(key, 0o600)
        shutil.move(key, key + ".backup")
        missing = self.pi("tickets", "list", expect=1)
        self.assertIn("is missing, but the spool", missing.err)
        self.assertEqual(missing.err.count("\n"), 1)
        self.assertFalse(os.path.exists(key), "no new key over encrypted files")
        shutil.move(key + ".backup", key)
        self.assertEqual(len(self.tickets()), 1)


def request_mail(i, photo):
    msg = email.message.EmailMessage()
    msg["From"] = f"依頼者{i} <requester{i}@example.jp>"
    msg["To"] = "privacy@example.co.jp"
    msg["Subject"] = f"保有個人データの開示請求 {i}"
    msg["Message-ID"] = f"<concurrent-{i}@example.jp>"
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg.set_content("個人情報保護法に基づき、私の保有個人データの開示を請求します。"
                    "本人確認書類として運転免許証の写しを添付します。\n")
    # Each one a little different, so each is its own encrypted file.
    msg.add_attachment(photo + i.to_bytes(4, "big"), maintype="image", subtype="jpeg",
                       filename="運転免許証.jpg")
    return msg.as_bytes()


class StaffWhileFetching(PipelineCase):
    """Point 9: staff commands while the daemon works through a big inbox."""

    MESSAGES = 300
    WORKERS = 3

    def test_approvals_during_a_fetch_of_hundreds_of_messages(self):
        photo = licence_photo()
        conn = self.dovecot.imap()
        try:
            for i in range(self.MESSAGES):
                typ, data = conn.append("INBOX", None, None, request_mail(i, photo))
                self.assertEqual(typ, "OK", data)
        finally:
            conn.logout()
        self.pi("tickets", "list")  # the first run creates the store and its key

        errors, decided, lists = [], {}, [0]
        fetching = [True]
        fetch = subprocess.Popen([BIN, "--config", self.config, "fetch", "--once", "--no-send"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def run(*args):
            proc = subprocess.run([BIN, "--config", self.config, *args], capture_output=True,
                                  text=True, timeout=120)
            if proc.returncode != 0 or proc.stderr:
                errors.append(f"{' '.join(args)}: exit {proc.returncode}: {proc.stderr}")
            return proc

        def staff(worker):
            # Each worker takes every WORKERS-th draft as it appears: approve
            # the even ones, reject the odd ones.
            while True:
                done = not fetching[0]
                pending = [d for d in json.loads(run("drafts", "list", "--state", "pending",
                                                     "--json").stdout or "[]")
                           if d["id"] % self.WORKERS == worker]
                for d in pending:
                    approve = d["id"] % 2 == 0
                    proc = (run("drafts", "approve", str(d["id"]), "--by", f"staff{worker}")
                            if approve else
                            run("drafts", "reject", str(d["id"]), "--by", f"staff{worker}",
                                "--reason", "重複"))
                    if proc.returncode == 0:
                        decided[d["id"]] = ("approved" if approve else "rejected", fetching[0])
                if done and not pending:
                    return

        def lister():
            while fetching[0]:
                run("tickets", "list")
                lists[0] += 1

        threads = [threading.Thread(target=staff, args=(w,)) for w in range(self.WORKERS)]
        threads.append(threading.Thread(target=lister))
        for t in threads:
            t.start()
        out, err = fetch.communicate(timeout=600)
        fetching[0] = False
        for t in threads:
            t.join(timeout=600)

        self.assertEqual(fetch.returncode, 0, err.decode())
        self.assertIn(f"{self.MESSAGES} fetched", out.decode())
        self.assertNotIn(b"locked", err)
        self.assertEqual(errors, [])
        # The point of the test: staff worked while the fetch did.
        self.assertGreater(sum(1 for _, during in decided.values() if during), 0)
        self.assertGreater(lists[0], 0)

        db = self.db()
        self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone()[0], self.MESSAGES)
        self.assertEqual(db.execute("SELECT count(*) FROM tickets").fetchone()[0], self.MESSAGES)
        self.assertEqual(db.execute("SELECT count(*) FROM attachments WHERE kind = 'id_document'"
                                    " AND spool_path IS NOT NULL").fetchone()[0], self.MESSAGES)
        self.assertEqual(len(decided), self.MESSAGES)
        states = dict(db.execute("SELECT id, state FROM drafts").fetchall())
        for draft_id, (state, _) in decided.items():
            self.assertEqual(states[draft_id], state)
        approvals = sum(1 for s, _ in decided.values() if s == "approved")
        self.assertEqual(db.execute("SELECT count(*) FROM audit WHERE action = 'approved'")
                         .fetchone()[0], approvals)
        self.assertIn("audit log intact", self.pi("audit", "verify").out)
        self.assertEqual(os.listdir(self.spool("tmp")), [])

    def test_a_writer_held_too_long_is_a_clear_temporary_error(self):
        self.deliver("requests/ja-stop-use.eml")
        self.pi("fetch", "--once", "--no-send")
        [draft] = self.drafts()
        # Another process holds the write lock longer than the 10 s wait.
        holder = sqlite3.connect(os.path.join(self.dir, "state", "privacy-inbox.db"),
                                 isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            busy = self.pi("drafts", "approve", str(draft["id"]), "--by", "sato", expect=1)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertRegex(busy.err, r"^privacy-inbox: the database is busy: .* try again\n$")
        self.assertNotIn("locked", busy.err)
        # Nothing was changed; once free, the same command works.
        self.assertEqual(self.drafts()[0]["state"], "pending")
        self.pi("drafts", "approve", str(draft["id"]), "--by", "sato")


if __name__ == "__main__":
    unittest.main()
