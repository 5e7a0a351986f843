"""Plain records the linker works on, and the decisions it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

AUTO = "auto"
PENDING = "pending"
REJECTED = "rejected"
CONFIRMED = "confirmed"


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

    def status(self, probability: float) -> str:
        if probability >= self.auto:
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
    status: str
    evidence: list[str] = field(default_factory=list)
