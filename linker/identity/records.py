"""Plain records the linker works on, and the decisions it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class LinkStatus(StrEnum):
    """The status of an identity -> customer link (stored as its string value)."""

    AUTO = "auto"
    """Linked by the linker above the auto-link threshold."""
    PENDING = "pending"
    """A candidate waiting for a person's decision."""
    REJECTED = "rejected"
    """Not this customer (set by a person, or by the linker below the review threshold)."""
    CONFIRMED = "confirmed"
    """Confirmed by a person."""


AUTO = LinkStatus.AUTO
PENDING = LinkStatus.PENDING
REJECTED = LinkStatus.REJECTED
CONFIRMED = LinkStatus.CONFIRMED


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A linkable CRM customer (the caller passes only customers with recorded consent)."""

    customer_id: int
    crm_id: str = ""
    first_name: str | None = None
    last_name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    profile_urls: tuple[str, ...] = ()
    city: str | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    """A social identity (an author) as collected from a platform."""

    identity_id: int
    platform: str
    account_id: str = ""
    handle: str | None = None
    display_name: str | None = None
    profile_url: str | None = None
    bio: str | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class LinkThresholds:
    auto: float = 0.95
    review: float = 0.60
    name_only_auto: float = 0.97
    """A probabilistic link whose only evidence is the name (no matching place, no shared contact)
    is auto-linked only from this probability on; below it goes to review. Names are the weakest
    identifier and a wrong link is personal data about the wrong person (GDPR Art. 5(1)(d)), so an
    uncorroborated match of two common names ("Anna Schmidt" in a CRM of a few hundred: ~0.96)
    waits for a human. Costs about 2 points of auto recall on the benchmark; set it to the auto
    threshold to switch it off."""

    def status(self, probability: float, corroborated: bool = True) -> LinkStatus:
        if probability >= self.auto and (corroborated or probability >= self.name_only_auto):
            return AUTO
        if probability >= self.review:
            return PENDING
        return REJECTED


@dataclass(slots=True)
class LinkDecision:
    """The linker's verdict on one (identity, customer) pair."""

    identity_id: int
    customer_id: int
    method: str
    """email / phone / handle / profile_url / probabilistic."""
    probability: float
    status: LinkStatus
    evidence: list[str] = field(default_factory=list)
