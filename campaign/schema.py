"""Import every model module so that `Base.metadata` describes the whole schema."""

from campaign import audit, jobs, leases  # noqa: F401
from campaign.accounts import models as accounts_models  # noqa: F401
from campaign.announcements import models as announcements_models  # noqa: F401
from campaign.api import idempotency as api_idempotency  # noqa: F401
from campaign.api import tokens as api_tokens  # noqa: F401
from campaign.db import Base
from campaign.drip import local as drip_local  # noqa: F401
from campaign.drip import models as drip_models  # noqa: F401
from campaign.enrolment import models as enrolment_models  # noqa: F401
from campaign.events import models as events_models  # noqa: F401
from campaign.milestones import models as milestones_models  # noqa: F401
from campaign.network import models as network_models  # noqa: F401
from campaign.outbox import inbound as inbound_models  # noqa: F401
from campaign.outbox import models as outbox_models  # noqa: F401
from campaign.outbox import wording as wording_models  # noqa: F401
from campaign.surveys import models as surveys_models  # noqa: F401
from campaign.webhooks import models as webhooks_models  # noqa: F401

metadata = Base.metadata
