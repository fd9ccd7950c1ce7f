"""A pool of open sessions to the mail server, each with its own thread.

One dispatcher run keeps up to `size` SMTP sessions open (CAMPAIGN_SMTP_CONNECTIONS; a relay
limits how many one client may hold) and sends one message at a time on each, so the server's
answers overlap instead of queueing behind each other. Sessions open as the work needs them.
Every message handed to a session gets exactly one outcome back, in the order the answers come;
a session the server closes under a message says so in that outcome and is gone.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from campaign.outbox.transports import ConnectFailed, Connection, ConnectionLost, Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of one message: the server's answer, or the error it raised."""

    key: Any  # what the caller handed in with the message
    answer: str | None
    error: BaseException | None
    session: _Session


class _Session:
    """One open connection and the thread that sends on it, one message at a time."""

    def __init__(self, connection: Connection, done: queue.SimpleQueue[Outcome]) -> None:
        self.connection = connection
        self.alive = True
        self._work: queue.SimpleQueue[tuple[Any, str, str, bytes] | None] = queue.SimpleQueue()
        self._done = done
        self._thread = threading.Thread(target=self._serve, name="smtp", daemon=True)
        self._thread.start()

    def send(self, key: Any, sender: str, recipient: str, data: bytes) -> None:
        self._work.put((key, sender, recipient, data))

    def _serve(self) -> None:
        while (item := self._work.get()) is not None:
            key, sender, recipient, data = item
            try:
                answer = self.connection.send(sender, recipient, data)
            except ConnectionLost as error:
                self.alive = False
                self._done.put(Outcome(key, None, error, self))
                return
            except BaseException as error:  # noqa: BLE001 - handed to the dispatcher to judge
                self._done.put(Outcome(key, None, error, self))
            else:
                self._done.put(Outcome(key, answer, None, self))

    def close(self) -> None:
        """Let the thread finish, then end the session."""
        self._work.put(None)
        self._thread.join()
        self.connection.close()


class Pool:
    """Up to `size` open sessions to one transport; `send` hands a message to an idle one."""

    def __init__(self, transport: Transport, size: int) -> None:
        self.transport = transport
        self.size = max(1, size)
        self.done: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self._sessions: list[_Session] = []
        self._idle: list[_Session] = []

    def __enter__(self) -> Pool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def idle(self) -> int:
        """How many sessions wait for a message."""
        return len(self._idle)

    def open(self, wanted: int) -> None:
        """Open sessions until `wanted` (at most `size`) are open.

        The first one's failure is raised as ConnectFailed: nothing can be sent. A later one's
        is logged and the pool carries on with what it has (a relay at its client limit).
        """
        while len(self._sessions) < min(wanted, self.size):
            try:
                connection = self.transport.connect()
            except ConnectFailed as error:
                if not self._sessions:
                    raise
                log.info("mail server took %d sessions, not more: %s", len(self._sessions), error)
                self.size = len(self._sessions)
                return
            session = _Session(connection, self.done)
            self._sessions.append(session)
            self._idle.append(session)

    def send(self, key: Any, sender: str, recipient: str, data: bytes) -> None:
        """Hand a message to an idle session (there must be one); its outcome comes in `done`."""
        self._idle.pop().send(key, sender, recipient, data)

    def finished(self, outcome: Outcome) -> None:
        """Take back the session of an outcome the caller has read: idle again, or gone."""
        if outcome.session.alive:
            self._idle.append(outcome.session)
            return
        self._sessions.remove(outcome.session)
        outcome.session.close()

    def close(self) -> None:
        """End every session (each finishes the message it has first)."""
        for session in self._sessions:
            session.close()
        self._sessions.clear()
        self._idle.clear()
