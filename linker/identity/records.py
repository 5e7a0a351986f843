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
    company: str | None = None
    """The company a business customer is ("Hotel Rheinblick GmbH"); a profile that says it is not
    this company is ruled out (:mod:`linker.identity.contradictions`)."""

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
    is auto-linked only from this probability on, and only when nobody else plausibly bears the
    name (:func:`linker.identity.namefreq.plausibly_shared`); otherwise it goes to review. Names
    are the weakest identifier and a wrong link is personal data about the wrong person (GDPR
    Art. 5(1)(d)). With the bundled name tables every name counts as plausibly shared, so a name
    alone never links automatically; the threshold matters for names a finer table shows unique."""

    def status(
        self, probability: float, corroborated: bool = True, *, name_shared: bool = True, contradicted: bool = False
    ) -> LinkStatus:
        """AUTO, PENDING or REJECTED for a candidate with this probability.

        ``corroborated``: more than the name agrees (the place, a contact). ``name_shared``: others
        plausibly bear the name. ``contradicted``: evidence against the match (another known place,
        another own e-mail domain) that no shared contact outweighs; such a candidate is never
        auto-linked, however high its probability: the probability believes the name, the
        contradiction says the name may belong to someone else.
        """
        if probability < self.review:
            return REJECTED
        if probability < self.auto or contradicted:
            return PENDING
        if corroborated or (not name_shared and probability >= self.name_only_auto):
            return AUTO
        return PENDING


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
