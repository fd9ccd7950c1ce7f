"""Alpha's own paragraph in the welcome, for the role matrix: no page of Beta or of another
campaign may show it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.drip.local import Where, save_paragraph
from campaign.network.models import Membership
from tests.conftest import START, Network


def local_objects(session: Session, network: Network) -> dict[str, str]:
    """Give Alpha a paragraph at the welcome's help place; return the URL value of the step."""
    membership = session.scalars(
        select(Membership).where(
            Membership.campaign_id == network.campaign.id,
            Membership.organisation_id == network.alpha.id,
        )
    ).one()
    where = Where("pilot-group", "01", "sv")
    save_paragraph(session, membership, where, "help", "ALPHA-SECRET-TIP", network.rep_alpha, START)
    session.commit()
    return {"step_ident": "01"}
