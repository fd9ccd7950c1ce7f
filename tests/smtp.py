"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and can misbehave."""

from __future__ import annotations

import asyncio
import email
import email.parser
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived
    peer: object = None  # the client's address and port: which session it came over

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(self.data)
        return str(headers["Message-ID"]).strip()


@dataclass
class Sink:
    """The handler: accepts mail unless told otherwise by the lists below."""

    received: list[Received] = field(default_factory=list)
    rcpt_answers: dict[str, list[str]] = field(default_factory=dict)  # address -> answers to give
    data_answers: list[str] = field(default_factory=list)  # answers to give to DATA, in turn
    hang_up_after: int | None = None  # close the connection before answering the Nth DATA
    delay: float = 0.0  # blocks the server: one connection at a time is slowed down
    latency: float = 0.0  # a relay's answer time: each connection waits, others go on
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        answers = self.rcpt_answers.get(address)
        if answers:
            return answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.delay:
            time.sleep(self.delay)
        if self.latency:
            await asyncio.sleep(self.latency)
        with self.lock:
            if self.hang_up_after is not None:
                self.hang_up_after -= 1
                if self.hang_up_after < 0:
                    self.hang_up_after = None
                    # The mail arrived, but the client never hears so: it must resend it.
                    self.received.append(
                        Received(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)
                    )
                    server.transport.close()
                    return "421 gone"
            if self.data_answers:
                return self.data_answers.pop(0)
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content,
                    peer=session.peer,
                )
            )
        return "250 Message accepted"

    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(sink: Sink, port: int | None = None) -> Iterator[int]:
    """Run the sink on 127.0.0.1 for the duration of the block; yield its port."""
    port = port or free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
