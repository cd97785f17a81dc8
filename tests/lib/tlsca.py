"""tlsca — a throwaway certificate authority for the test servers.

make_ca(folder) writes, with the openssl command line tool:
  ca.pem / ca.key            a self-signed test CA
  server.pem / server.key    a server certificate signed by it, valid for
                             localhost and 127.0.0.1
  other-ca.pem               a second, unrelated CA (for "refused certificate" tests)
and returns a dict of those paths.  Everything, keys included, is
world-readable so servers that drop privileges (Dovecot's mail user) can read
it: throwaway test material, never used outside a test's temporary folder.
"""
import os
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(folder, hostnames=("localhost",), ips=("127.0.0.1",)):
    os.makedirs(folder, exist_ok=True)
    paths = {k: os.path.join(folder, f) for k, f in {
        "ca": "ca.pem", "ca_key": "ca.key", "cert": "server.pem",
        "key": "server.key", "other_ca": "other-ca.pem"}.items()}
    if all(os.path.exists(p) for p in paths.values()):
        return paths
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
             "-subj", "/CN=privacy-inbox test CA", "-keyout", "ca.key", "-out", "ca.pem",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
             "-subj", "/CN=unrelated CA", "-keyout", "other-ca.key", "-out", "other-ca.pem",
             "-addext", "basicConstraints=critical,CA:TRUE", cwd=folder)
    san = ",".join([f"DNS:{h}" for h in hostnames] + [f"IP:{i}" for i in ips])
    with open(os.path.join(folder, "server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                f"subjectAltName={san}\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={hostnames[0]}",
             "-keyout", "server.key", "-out", "server.csr", cwd=folder)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "30", "-extfile", "server.ext",
             "-out", "server.pem", cwd=folder)
    for p in (paths["cert"], paths["ca"], paths["other_ca"]):
        os.chmod(p, 0o644)
    os.chmod(paths["key"], 0o644)
    return paths


if __name__ == "__main__":
    import sys
    print(make_ca(sys.argv[1]))
