"""Placeholder until its part of issue 18 is merged: recognises nothing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campaign.inbound.parsed import Incoming


def handle(db_session: Session, incoming: Incoming) -> bool:
    """Recognise nothing yet."""
    return False
