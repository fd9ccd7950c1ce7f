"""A real IMAP server for the tests: Debian's Dovecot on 127.0.0.1 with its own throwaway
configuration, certificate, user and Maildir, plus a tiny OAuth2 server (a token endpoint for the
client-credentials flow and the introspection endpoint Dovecot's oauth2 passdb asks).

Dovecot runs as root in CI (then its processes take the `dovecot`/`dovenull` users and the mail
belongs to `dovecot`) and as the test's own user elsewhere.
"""

from __future__ import annotations

import grp
import imaplib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

USER = "kampanj@example.org"
PASSWORD = "s3cret-imap-pässword"  # not ASCII: the login must carry it as UTF-8
DOVECOT = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def require_dovecot() -> str:
    """Return the dovecot binary, or skip the test saying how to install it."""
    if DOVECOT is None:
        reason = "Dovecot is not installed here (apt-get install dovecot-imapd; .ci/run does)"
        if os.environ.get("CAMPAIGN_TEST_DOVECOT") == "required":  # set by .ci/run
            pytest.fail(reason)
        pytest.skip(reason)
    return DOVECOT


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class OAuth2Server:
    """A token endpoint (client credentials) and an introspection endpoint, over plain HTTP."""

    port: int
    tokens_issued: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    client_secret: str = "client-secret"
    expires_in: int = 3599  # seconds, as Microsoft's endpoint says

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        """Return the status and JSON body for a POST to `path` with `form`."""
        if path == "/token":
            return self._token(form)
        active = form.get("token") in self.valid
        return 200, {"active": "true", "username": USER} if active else {"active": "false"}

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        if form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000215"}
        token = f"token-{len(self.tokens_issued) + 1}-{form.get('scope')}"
        self.tokens_issued.append(token)
        self.valid.add(token)
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in, "access_token": token}


@contextmanager
def oauth2_server() -> Iterator[OAuth2Server]:
    """Run an OAuth2Server on 127.0.0.1 in a thread until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OAuth2Handler)
    state = OAuth2Server(server.server_address[1])
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class _OAuth2Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        status, body = self.server.state.answer(self.path, form)  # type: ignore[attr-defined]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Dovecot:
    """A running Dovecot: where it listens, who may log in, and the CA that signed its cert."""

    imaps_port: int
    imap_port: int  # plain IMAP that requires STARTTLS before a login
    ca_file: Path
    folder: Path
    user: str = USER
    password: str = PASSWORD

    def url(self, *, starttls: bool = False, folder: str = "INBOX") -> str:
        """Return a CAMPAIGN_IMAP_URL for this server."""
        if starttls:
            return f"imap+starttls://{self.user}@127.0.0.1:{self.imap_port}/{folder}"
        return f"imaps://{self.user}@127.0.0.1:{self.imaps_port}/{folder}"

    def settings(self, **more: str) -> dict[str, str]:
        """Return the app settings that point the imap job at this server."""
        return {
            "CAMPAIGN_IMAP_URL": self.url(),
            "CAMPAIGN_IMAP_PASSWORD": self.password,
            "CAMPAIGN_IMAP_CA_FILE": str(self.ca_file),
            **more,
        }

    @contextmanager
    def client(self) -> Iterator[imaplib.IMAP4_SSL]:
        """Yield a logged-in IMAP connection of the test's own."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        connection = _FromElsewhere("127.0.0.1", self.imaps_port, ssl_context=context)
        connection.authenticate("PLAIN", lambda _: f"\0{self.user}\0{self.password}".encode())
        try:
            yield connection
        finally:
            connection.logout()

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message into a folder by IMAP APPEND."""
        with self.client() as connection:
            status, answer = connection.append(folder, None, None, raw)
            assert status == "OK", answer

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """Return the raw messages in a folder (none if it does not exist), in UID order."""
        with self.client() as connection:
            status, _ = connection.select(_quoted(folder), readonly=True)
            if status != "OK":
                return []
            _, found = connection.uid("FETCH", "1:*", "(BODY.PEEK[])")
        return [item[1] for item in found if isinstance(item, tuple)]

    def folders(self) -> set[str]:
        """Return the names of the folders, with the server's hierarchy delimiter."""
        with self.client() as connection:
            _, listed = connection.list()
        names = set()
        for line in listed:
            match = re.search(rb'"(?:[^"\\]|\\.)*" "?([^"]*)"?$', line or b"")
            if match:
                names.add(match.group(1).decode())
        return names


class _FromElsewhere(imaplib.IMAP4_SSL):
    """The test's own connections come from 127.0.0.2: Dovecot slows down every login from an
    address after a failed one (the job's, from 127.0.0.1), and the test only looks."""

    def _create_socket(self, timeout: float | None) -> socket.socket:
        address = (self.host, self.port)
        plain = socket.create_connection(address, timeout, source_address=("127.0.0.2", 0))
        return self.ssl_context.wrap_socket(plain, server_hostname=self.host)


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextmanager
def dovecot_server(introspection_url: str | None = None) -> Iterator[Dovecot]:
    """Start Dovecot on 127.0.0.1 with a throwaway configuration; stop it and remove it after."""
    binary = require_dovecot()
    # Outside pytest's private tmp folder: when root, Dovecot's own users must reach it.
    folder = Path(tempfile.mkdtemp(prefix="campaign-dovecot-"))
    folder.chmod(0o755)
    try:
        server = _prepare(folder, introspection_url)
        with _running(binary, folder, server):
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _prepare(folder: Path, introspection_url: str | None) -> Dovecot:
    """Write the certificate, the user, the mail folder and dovecot.conf; return the server."""
    _make_certificate(folder)
    (folder / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
    (folder / "users").chmod(0o644)
    server = Dovecot(free_port(), free_port(), folder / "cert.pem", folder)
    mail_uid, mail_gid, internal, group, login = _who()
    (folder / "mail").mkdir()
    os.chown(folder / "mail", mail_uid, mail_gid)
    for name in ("run", "state"):
        (folder / name).mkdir()
    oauth = _oauth2_passdb(folder, introspection_url) if introspection_url else ""
    (folder / "dovecot.conf").write_text(
        CONFIG.format(
            folder=folder, imaps=server.imaps_port, imap=server.imap_port, uid=mail_uid,
            gid=mail_gid, internal=internal, group=group, login=login, oauth=oauth,
            mechanisms="plain login xoauth2 oauthbearer" if oauth else "plain login",
        ),
        encoding="utf-8",
    )  # fmt: skip
    return server


def _who() -> tuple[int, int, str, str, str]:
    """Return the mail owner's uid and gid, and Dovecot's internal user and group and its
    login user."""
    if os.geteuid() == 0:
        dovecot = pwd.getpwnam("dovecot")
        return dovecot.pw_uid, dovecot.pw_gid, "dovecot", "dovecot", "dovenull"
    me, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    return os.getuid(), os.getgid(), me, group, me


def _make_certificate(folder: Path) -> None:
    """Make a throwaway self-signed certificate for 127.0.0.1 (its own CA)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip


def _oauth2_passdb(folder: Path, introspection_url: str) -> str:
    """Write the oauth2 passdb's settings; return the passdb block that uses them."""
    path = folder / "oauth2.conf.ext"
    path.write_text(OAUTH2.format(url=introspection_url), encoding="utf-8")
    path.chmod(0o644)
    return (
        f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {path}\n}}\n"
    )


@contextmanager
def _running(binary: str, folder: Path, server: Dovecot) -> Iterator[None]:
    """Run dovecot in the foreground, in a process group of its own, until the block ends."""
    process = subprocess.Popen(
        [binary, "-F", "-c", str(folder / "dovecot.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    with process:  # closes its stderr pipe at the end
        try:
            _wait_for(process, folder, server.imaps_port, server.imap_port)
            yield
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the Dovecot we started and its processes (the group it leads: a second faster
    than letting the master wait for them)."""
    if process.poll() is not None:
        return  # it stopped by itself (at start: the test says why)
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_for(process: subprocess.Popen[bytes], folder: Path, *ports: int) -> None:
    """Wait until Dovecot listens on the ports; fail with its log if it stops first."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"dovecot stopped at start:\n{stderr}\n{log}")
        if all(_listening(port) for port in ports):
            return
        time.sleep(0.05)
    pytest.fail("dovecot did not listen within 15 seconds")


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = campaign-test-{imaps}
log_path = {folder}/dovecot.log
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 1
ssl = required
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
{oauth}passdb {{
  driver = passwd-file
  args = scheme=PLAIN {folder}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/mail/%u
}}
mail_location = maildir:~/Maildir
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

OAUTH2 = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
force_introspection = yes
"""
