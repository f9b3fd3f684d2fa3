"""https sources on a pinned connection: the socket goes to the checked address, while TLS still
sends the host name (SNI) and checks the certificate against the name, not the address.

A real TLS server on 127.0.0.1 with a certificate from a throwaway CA (trusted through SSL_CERT_FILE);
only the resolver is scripted, as in test_http_pinning.py."""

from __future__ import annotations

import datetime
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.error import URLError

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.pyarrow_files.http_source import get
from tests.integration.test_http_pinning import LOOPBACK, NAME, _Named, scripted_resolver

pytestmark = pytest.mark.integration


def _certificate(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey,
                 ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(x509.OID_COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(x509.OID_COMMON_NAME, issuer)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _pem(tmp_path: Path, name: str, data: bytes) -> Path:
    (tmp_path / name).write_bytes(data)
    return tmp_path / name


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], tuple[int, list]]]:
    """start(name) -> (port, SNI names seen): a TLS server on 127.0.0.1 whose certificate names `name`."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("test CA", "test CA", ca_key, ca_key, ca=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(_pem(tmp_path, "ca.pem", ca.public_bytes(serialization.Encoding.PEM))))
    started: list[ThreadingHTTPServer] = []

    def start(name: str) -> tuple[int, list]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _pem(tmp_path, "cert.pem", _certificate(name, "test CA", key, ca_key, ca=False)
                    .public_bytes(serialization.Encoding.PEM))
        key_file = _pem(tmp_path, "key.pem", key.private_bytes(serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        context, seen = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), []
        context.load_cert_chain(cert, key_file)
        context.sni_callback = lambda sock, server_name, ctx: seen.append(server_name)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Named)
        server.name = "checked"  # type: ignore[attr-defined]
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server.server_address[1], seen

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def test_https_connects_to_the_checked_address_and_verifies_the_host_name(tls_server, monkeypatch) -> None:
    answers = scripted_resolver(monkeypatch)
    port, seen = tls_server(NAME)
    with get(f"https://{NAME}:{port}/file", LOOPBACK) as response:
        assert response.read() == b"checked"
    assert seen == [NAME] and answers == ["127.0.0.1"]


def test_a_certificate_for_another_name_is_refused(tls_server, monkeypatch) -> None:
    scripted_resolver(monkeypatch)
    port, _ = tls_server("other.test")
    with pytest.raises(URLError, match="CERTIFICATE_VERIFY_FAILED"):
        get(f"https://{NAME}:{port}/file", LOOPBACK)
