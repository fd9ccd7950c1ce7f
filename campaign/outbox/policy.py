"""What the outbox is told from above: whose mail waits, whose mail never goes, and how fast each
campaign may send. It applies only to participants' mail (rows with a participant).

The outbox knows messages, addresses and campaign ids, not the people or campaigns behind them.
The layer that knows them (campaign/enrolment/holds.py) installs a Policy when the app starts.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from flask import Flask
from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session


class Policy(Protocol):
    """The rules of the layer above that the dispatcher applies to every batch."""

    def held(self) -> Select[int]:
        """Return a query of the participant ids whose queued mail waits for now."""
        ...

    def waiting(self, db_session: Session, now: datetime) -> ColumnElement[bool]:
        """Return the condition of the participants' messages that wait at `now` for a reason
        beyond the person (their campaign has not started)."""
        ...

    def closed(
        self, db_session: Session, campaign_ids: Collection[int], now: datetime
    ) -> dict[int, str]:
        """Return those of `campaign_ids` whose participants' mail never goes at `now`, each
        with the answer a message cancelled for it records."""
        ...

    def stopped(self, db_session: Session, participant_ids: Collection[int]) -> set[int]:
        """Return those of `participant_ids` who get no more mail at all."""
        ...

    def refused(self, db_session: Session, participant_id: int, answer: str, now: datetime) -> None:
        """Take note that the mail server refused a participant's address for good (5xx)."""
        ...

    def failed(self, db_session: Session, message_id: int, now: datetime) -> None:
        """Take note that a message was given up for good (its row is written)."""
        ...

    def rate_limits(self, db_session: Session, campaign_ids: Collection[int]) -> dict[int, int]:
        """Return the per-minute limit of each campaign that has one, and lock those campaigns
        until the caller commits (so that two dispatchers never count at the same time)."""
        ...


def install(app: Flask, policy: Policy) -> None:
    """Make `policy` the one the app's dispatcher applies."""
    app.extensions["campaign.outbox_policy"] = policy


def policy_of(app: Flask) -> Policy:
    """Return the app's policy; an app without one must not send (nobody would be held)."""
    policy: Policy | None = app.extensions.get("campaign.outbox_policy")
    if policy is None:
        raise LookupError("No outbox policy is installed: create_app installs enrolment.holds.")
    return policy
