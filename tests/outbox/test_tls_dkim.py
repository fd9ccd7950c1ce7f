"""STARTTLS, SMTPS and login against a real aiosmtpd server; DKIM signatures that verify."""

from __future__ import annotations

import base64
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from campaign.outbox.compose import compose
from campaign.outbox.signing import dkim_sign
from campaign.outbox.transports import ConnectFailed, SMTPTransport
from tests.smtp import Sink, free_port

WHEN = datetime(2014, 3, 3, 8, 0, tzinfo=UTC)


def _openssl(*args: str) -> bytes:
    return subprocess.run(["openssl", *args], check=True, capture_output=True).stdout


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(cert),
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
    )
    return key, cert


def _authenticate(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = auth_data.login == b"kampanj" and auth_data.password == b"hemligt losen"
    return AuthResult(success=ok)


def _mail() -> bytes:
    return compose(
        sender="kampanj@kungalv.se",
        recipient="a@alpha.se",
        subject="Hej Åsa",
        text="Hej",
        html="<p>Hej</p>",
        message_id="<m1@kungalv.se>",
        date=WHEN,
    )


def _context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[1]), str(certificate[0]))
    return context


def test_starttls_and_login(certificate: tuple[Path, Path]) -> None:
    sink = Sink()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=_context(certificate),
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        url = f"smtp://kampanj:hemligt%20losen@127.0.0.1:{controller.port}?verify=off&timeout=5"
        connection = SMTPTransport.from_url(url).connect()
        assert connection.smtp.sock.version().startswith("TLS")  # type: ignore[union-attr]
        assert connection.send("kampanj@kungalv.se", "a@alpha.se", _mail()).startswith("250")
        connection.close()
        wrong = SMTPTransport.from_url(url.replace("hemligt", "fel").replace("=5", "=2"))
        with pytest.raises(ConnectFailed):
            wrong.connect()
        unverified = SMTPTransport.from_url(url.replace("verify=off", "verify=on"))
        with pytest.raises(ConnectFailed, match="CERTIFICATE_VERIFY_FAILED"):
            unverified.connect()  # a self-signed certificate is refused unless told otherwise
    finally:
        controller.stop()
    assert len(sink.received) == 1


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    sink = Sink()
    controller = Controller(
        sink, hostname="127.0.0.1", port=free_port(), ssl_context=_context(certificate)
    )
    controller.start()
    try:
        transport = SMTPTransport.from_url(f"smtps://127.0.0.1:{controller.port}?verify=off")
        assert transport.implicit_tls
        connection = transport.connect()
        connection.send("kampanj@kungalv.se", "a@alpha.se", _mail())
        connection.close()
    finally:
        controller.stop()
    assert sink.received[0].recipients == ["a@alpha.se"]


def test_dkim_signature_verifies_with_the_published_key(tmp_path: Path) -> None:
    private = _openssl("genrsa", "2048")
    public_der = subprocess.run(
        ["openssl", "rsa", "-pubout", "-outform", "DER"],
        input=private,
        check=True,
        capture_output=True,
    ).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)
    signed = dkim_sign(_mail(), selector="kampanj", domain="kungalv.se", private_key=private)
    assert signed.startswith(b"DKIM-Signature:")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"kampanj._domainkey.kungalv.se."
        return record

    assert dkim.verify(signed, dnsfunc=dns)
    assert not dkim.verify(
        signed.replace(b"Hej \xc3\x85sa", b"Hej Asa").replace(b"SGVq", b"SGVr"), dnsfunc=dns
    )  # a changed body no longer verifies


def test_dispatcher_signs_when_a_key_is_configured(tmp_path: Path) -> None:
    from campaign import create_app
    from campaign.outbox.dispatch import settings_from_config

    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(_openssl("genrsa", "2048"))
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "CAMPAIGN_DKIM_KEY_FILE": str(key_file),
            "CAMPAIGN_DKIM_SELECTOR": "kampanj",
            "CAMPAIGN_MAIL_FROM": "Kampanj <kampanj@kungalv.se>",
        }
    )
    settings = settings_from_config(app.config)
    assert settings.dkim is not None
    selector, domain, key = settings.dkim
    assert (selector, domain) == ("kampanj", "kungalv.se") and key == key_file.read_bytes()
