"""What the demo's staff wrote in the browser before the pilot started: the lead administrator's
edit of a step (so the sequence has a history to show), Ale's own paragraph at the welcome's
help place, and the day Ale brings in its meeting software as a milestone. Made through the
same functions the pages use, so the demo shows them as real ones."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts.models import User
from campaign.drip import stored
from campaign.drip.local import Where, save_paragraph
from campaign.milestones.models import Milestone
from campaign.network.models import Campaign, Membership, Organisation

SEQUENCE = "pilot-group"
STEP = "sv/03-bra-ljud.md"
OLD = "subject: Bra ljud gör hela skillnaden\n"
NEW = "subject: Bra ljud gör hela skillnaden – några enkla knep\n"
HELP = (
    "Hos oss i Ale svarar IT-servicedesken på 0303-33 00 00 vardagar 8–16, och på intranätet "
    "finns korta filmer om hur du startar ett möte."
)


def author(db_session: Session, campaign: Campaign, before: datetime) -> None:
    """Write the demo's own texts, dated a little before the pilot's first day `before`."""
    lead = db_session.scalar(select(User).where(User.email == "lead@demo.example"))
    rep = db_session.scalar(select(User).where(User.email == "rep@demo.example"))
    ale = _membership(db_session, campaign.id, "ale")
    if lead is None or rep is None or ale is None:
        return
    _edit_step(db_session, campaign.id, lead.id, before - timedelta(days=7))
    where = Where(SEQUENCE, "01", "sv")
    save_paragraph(db_session, ale, where, "help", HELP, rep, before - timedelta(days=5))
    db_session.add(
        Milestone(
            campaign_id=campaign.id, organisation_id=ale.organisation_id, name="teams",
            description="Teams ersätter Lync i hela Ale kommun",
            day=(before + timedelta(days=90)).date(), updated_at=before - timedelta(days=5),
        )
    )  # fmt: skip


def _edit_step(db_session: Session, campaign_id: int, author_id: int, now: datetime) -> None:
    """The lead administrator's sharper subject for the step about sound."""
    files = stored.current(db_session, campaign_id, SEQUENCE).files
    if STEP not in files or OLD not in files[STEP]:
        return
    edited = {**files, STEP: files[STEP].replace(OLD, NEW, 1)}
    stored.save(
        db_session, campaign_id, SEQUENCE, edited, author_id=author_id, note="edit:03", now=now
    )


def _membership(db_session: Session, campaign_id: int, slug: str) -> Membership | None:
    return db_session.scalar(
        select(Membership)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.campaign_id == campaign_id, Organisation.slug == slug)
    )
