"""HTTPS for phones on the LAN without a public certificate: a local certificate authority (made once,
kept in `<data dir>/tls/`) signs a server certificate for this machine's names and addresses.

Install `ca.crt` on each phone once (README: "Using it from a phone"); `gemba serve --https` then serves
with the server certificate, renewing it when it nears expiry or when the names change. The CA's key
never leaves this machine (file mode 0600).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 397  # phones (iOS) refuse server certificates valid for longer
RENEW_BEFORE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca_cert: Path
    cert: Path
    key: Path
    names: tuple[str, ...]


def default_names() -> list[str]:
    """This machine's host names and addresses as the LAN may know them (no network traffic)."""
    names = {"localhost", "127.0.0.1", socket.gethostname(), socket.getfqdn()}
    for host in (socket.gethostname(), socket.getfqdn()):
        try:
            names.update(info[4][0] for info in socket.getaddrinfo(host, None) if info[0] in (socket.AF_INET, socket.AF_INET6))
        except OSError:
            pass
    return sorted(name for name in names if name and not name.startswith("fe80"))


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(path, 0o600)


def _certificate(subject: x509.Name, issuer: x509.Name, public_key, signer, days: int, now: datetime) -> x509.CertificateBuilder:  # noqa: ANN001
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _load_or_make_ca(directory: Path, now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = directory / "ca.crt", directory / "ca.key"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if cert.not_valid_after_utc - now > RENEW_BEFORE:
            return cert, key  # type: ignore[return-value]
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gemba local CA"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"Gemba local CA ({socket.gethostname()})")])
    cert = (
        _certificate(name, name, key.public_key(), key, CA_DAYS, now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.crt").unlink(missing_ok=True)  # signed by the old CA
    return cert, key


def _current_names(cert_path: Path, ca: x509.Certificate, now: datetime) -> set[str] | None:
    if not cert_path.exists():
        return None
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    if cert.issuer != ca.subject or cert.not_valid_after_utc - now < RENEW_BEFORE:
        return None
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(value) for value in sans.get_values_for_type(x509.DNSName)} | {
        str(value) for value in sans.get_values_for_type(x509.IPAddress)}


def ensure(directory: Path, names: list[str] | None = None, now: datetime | None = None) -> TlsFiles:
    """Make (or reuse) the CA and a server certificate valid for this machine's names and `names`."""
    now = now or datetime.now(UTC)
    names = sorted(set(default_names()) | set(names or []))
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = _load_or_make_ca(directory, now)
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    if _current_names(cert_path, ca, now) != set(names) or not key_path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        cert = (
            _certificate(subject, ca.subject, key.public_key(), ca_key, SERVER_DAYS, now)
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write_key(key_path, key)
        # The chain (server, then CA) so that clients that lack the CA get a clear error, not a silent one.
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    return TlsFiles(ca_cert=directory / "ca.crt", cert=cert_path, key=key_path, names=tuple(names))


def fingerprint(path: Path) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
