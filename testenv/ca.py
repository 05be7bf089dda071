"""A test certificate authority: server certificates for 127.0.0.1 and localhost, signed by a
CA of its own or by the test control plane's (testenv/controlplane.py's pki/ca.crt, ca.key),
for the registry and file servers of testenv/registry.py. openssl comes from
scripts/setup-apt.sh."""
import os
import secrets
import subprocess


class CaError(Exception):
    pass


def _openssl(args, cwd):
    try:
        result = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise CaError("openssl is not installed; run scripts/setup-apt.sh (or scripts/setup.sh)")
    if result.returncode != 0:
        raise CaError(f"openssl {' '.join(args[:2])} failed: {result.stderr.strip()}")


class CertificateAuthority:
    """A CA that signs server certificates for 127.0.0.1 and localhost."""

    def __init__(self, cert_file, key_file):
        self.cert_file, self.key_file = cert_file, key_file

    @classmethod
    def create(cls, folder):
        os.makedirs(folder, exist_ok=True)
        _openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                  "-days", "30", "-subj", "/CN=wasm-operator-registry-test-ca"], folder)
        return cls(os.path.join(folder, "ca.crt"), os.path.join(folder, "ca.key"))

    @classmethod
    def from_pki(cls, pki_dir):
        """The test control plane's CA (testenv/controlplane.py writes pki/ca.crt and ca.key)."""
        ca = cls(os.path.join(pki_dir, "ca.crt"), os.path.join(pki_dir, "ca.key"))
        for f in (ca.cert_file, ca.key_file):
            if not os.path.isfile(f):
                raise CaError(f"{f} not found: not a control plane's pki folder")
        return ca

    def issue_server(self, folder, name):
        """(cert, key) in folder, valid for 127.0.0.1 and localhost."""
        os.makedirs(folder, exist_ok=True)
        ext = os.path.join(folder, f"{name}.ext")
        with open(ext, "w") as f:
            f.write("extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n"
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        _openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                  "-subj", f"/CN={name}"], folder)
        # A serial of its own rather than -CAcreateserial: the control plane's pki folder is
        # not ours to write into.
        _openssl(["x509", "-req", "-in", f"{name}.csr", "-CA", self.cert_file, "-CAkey", self.key_file,
                  "-set_serial", str(secrets.randbits(63)), "-out", f"{name}.crt", "-days", "30",
                  "-extfile", ext], folder)
        return os.path.join(folder, f"{name}.crt"), os.path.join(folder, f"{name}.key")


def pick_ca(ca, pki_dir, folder):
    """ca if given, else the CA of the pki folder if given, else a new one in folder/ca."""
    if ca:
        return ca
    if pki_dir:
        return CertificateAuthority.from_pki(pki_dir)
    return CertificateAuthority.create(os.path.join(folder, "ca"))
