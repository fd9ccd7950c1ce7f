"""One POST to a receiver, with bounded time and nothing followed: the answer, or why none came.

The host name is resolved and checked once (receivers.resolve), and the connection goes to that
very address (TLS still verifies the name); a redirect is an answer like any other, never
followed. Connecting may take 5 seconds at most, the whole exchange `timeout` seconds: a hard
deadline, not a wait per read. Connecting, the TLS handshake and sending the request are each
given only the time left (Python bounds each of them as a whole), and every read of the answer
too, so a receiver that trickles its status line or headers a byte at a time is cut off at the
deadline. Of the body, READ_LIMIT bytes at most are read; the status is the answer, so a body
still trickling at the deadline is left unread, not counted as no answer.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import ssl
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, cast

from flask_babel import force_locale

from campaign.webhooks.receivers import IPAddress, Refused, parse, resolve

CONNECT_SECONDS = 5.0
READ_LIMIT = 4096  # the receiver's body is not kept: a little is read to end the exchange


@dataclass(frozen=True)
class Answer:
    """What came of one attempt: the HTTP status (None: no answer), or the error in a sentence,
    and how long it took."""

    status: int | None
    error: str
    milliseconds: int


def post(
    url: str, body: bytes, headers: Mapping[str, str], timeout: float, allowed: Collection[str]
) -> Answer:
    """POST `body` to the receiver at `url` and return what came of it; never raises."""
    started = time.monotonic()
    try:
        status = _exchange(url, body, headers, started + timeout, allowed)
        return Answer(status, "", _since(started))
    except Refused as refused:
        with force_locale("en"):  # the log keeps the service's own sentences in English
            return Answer(None, str(refused.args[0]), _since(started))
    except TimeoutError:
        return Answer(None, f"No answer within {timeout:g} seconds.", _since(started))
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, _said(error), _since(started))


def _exchange(
    url: str, body: bytes, headers: Mapping[str, str], deadline: float, allowed: Collection[str]
) -> int:
    """Send the request to the first checked address and return the answer's status."""
    parts = parse(url, allowed)
    address = resolve(parts, allowed)[0]
    connection = _connection(parts.scheme, parts.hostname or "", parts.port, address, deadline)
    try:
        path = parts.path or "/"
        target = f"{path}?{parts.query}" if parts.query else path
        connection.connect()  # and the TLS handshake, within the time left
        _left(connection, deadline)
        connection.request("POST", target, body, {**headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        with contextlib.suppress(TimeoutError):  # the status came: that is the answer
            response.read(READ_LIMIT)  # to end the exchange; the body is not kept
        return response.status
    finally:
        connection.close()


def _connection(
    scheme: str, host: str, port: int | None, address: IPAddress, deadline: float
) -> http.client.HTTPConnection:
    """Return a connection to `host` that connects to the checked `address` only."""
    connect = min(CONNECT_SECONDS, deadline - time.monotonic())
    if scheme == "https":
        context = ssl.create_default_context()
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=connect, context=context
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=connect)
    pinned = (str(address), connection.port)

    def to_pinned(_where: object, timeout: float, source: tuple[str, int] | None) -> socket.socket:
        made = socket.create_connection(pinned, timeout, source)
        made.settimeout(max(deadline - time.monotonic(), 0.001))  # the handshake's time
        return made

    def bounded_answer(sock: socket.socket, **kwargs: Any) -> http.client.HTTPResponse:
        reader = cast(socket.socket, _Deadlined(sock, deadline))  # it has what the answer reads
        return http.client.HTTPResponse(reader, **kwargs)

    connection._create_connection = to_pinned  # type: ignore[attr-defined]  # http.client's hook
    connection.response_class = bounded_answer  # type: ignore[assignment]  # a class's stand-in
    return connection


class _Deadlined:
    """A connected socket as http.client's answer reads it: through a file that gives up at
    the deadline however slowly the bytes come."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        # The socket's own file, as http.client's: it keeps the socket open while read.
        raw = self._sock.makefile("rb", buffering=0)
        return io.BufferedReader(_BoundedReads(self._sock, raw, self._deadline))


class _BoundedReads(io.RawIOBase):
    """Reads from a socket's file, each allowed only the time left before the deadline."""

    def __init__(self, sock: socket.socket, raw: Any, deadline: float) -> None:
        self._sock = sock
        self._raw = raw
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self._sock.settimeout(left)
        return int(self._raw.readinto(buffer))

    def close(self) -> None:
        self._raw.close()
        super().close()


def _left(connection: http.client.HTTPConnection, deadline: float) -> None:
    """Give the next read only the time left of the whole exchange."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    if connection.sock is not None:
        connection.sock.settimeout(left)


def _since(started: float) -> int:
    """Return the milliseconds since `started`."""
    return round((time.monotonic() - started) * 1000)


def _said(error: Exception) -> str:
    """Say in a sentence why no answer came."""
    if isinstance(error, ssl.SSLError):
        return f"The TLS connection failed: {error.reason or error}."
    if isinstance(error, ConnectionRefusedError):
        return "The receiver refused the connection."
    return f"The connection failed: {error}."[:500]
