"""`gemba tls` / `gemba serve --https`: a local CA signs a server certificate that a client trusting
only that CA accepts, over a real HTTPS connection to the real server."""

from __future__ import annotations

import os
import ssl
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography import x509

from server import tls
from tests.e2e.server import GEMBA, ROOT, free_port


def test_ca_signs_a_server_certificate_for_the_given_names(tmp_path: Path) -> None:
    files = tls.ensure(tmp_path, ["gemba.lan", "10.1.2.3"])
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "gemba.lan" in sans.get_values_for_type(x509.DNSName)
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)].count("10.1.2.3") == 1
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= timedelta(days=398)
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "ca.key").stat().st_mode & 0o777) == "0o600"


def test_the_ca_is_kept_and_the_server_certificate_renewed_when_needed(tmp_path: Path) -> None:
    first = tls.ensure(tmp_path, ["a.lan"])
    ca_before, cert_before = first.ca_cert.read_bytes(), first.cert.read_bytes()
    assert tls.ensure(tmp_path, ["a.lan"]).cert.read_bytes() == cert_before  # nothing changed: reused
    assert tls.ensure(tmp_path, ["b.lan"]).cert.read_bytes() != cert_before  # a new name: new certificate
    later = datetime.now(UTC) + timedelta(days=380)
    renewed = tls.ensure(tmp_path, ["b.lan"], now=later)
    assert renewed.ca_cert.read_bytes() == ca_before  # phones keep trusting the same CA
    assert x509.load_pem_x509_certificate(renewed.cert.read_bytes()).not_valid_after_utc > later + timedelta(days=300)


def test_serve_https_with_workers_is_trusted_by_a_client_that_trusts_the_local_ca(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "GEMBA_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
           "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([str(GEMBA), "serve", "--https", "--workers", "2", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode()[-3000:] if process.stdout else ""
            try:
                context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "ca.crt"))
                answer = httpx.get(f"https://localhost:{port}/healthz", verify=context, timeout=2)
                break
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, FileNotFoundError):
                assert time.monotonic() < deadline, "gemba serve --https did not answer"
                time.sleep(0.2)
        assert answer.status_code == 200
        assert httpx.get(f"https://localhost:{port}/", verify=context).headers["content-type"].startswith("text/html")
    finally:
        process.terminate()
        process.wait(30)
    output = process.stdout.read() if process.stdout else b""
    assert b"2 workers" in output and b"Started parent process" in output, output  # uvicorn's supervisor
