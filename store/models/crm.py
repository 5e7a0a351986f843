"""CRM customers, their orders, computed values and links to social identities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import JSONType, UTCDateTime, utcnow


class CustomerBase(SQLModel):
    crm_id: str = Field(max_length=100, unique=True, index=True)
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    emails: list[str] = Field(default_factory=list, sa_type=JSONType)
    phones: list[str] = Field(default_factory=list, sa_type=JSONType)
    handles: list[str] = Field(default_factory=list, sa_type=JSONType, description="e.g. '@max@mastodon.social'")
    profile_urls: list[str] = Field(default_factory=list, sa_type=JSONType)
    city: str | None = None
    consent_status: str = Field(default="unknown", max_length=20, description="granted/withdrawn/unknown")
    consent_basis: str | None = Field(default=None, description="GDPR legal basis, e.g. 'Art. 6(1)(a) consent'")
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Customer(CustomerBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrderBase(SQLModel):
    order_id: str = Field(max_length=100, unique=True, index=True)
    ordered_at: datetime = Field(sa_type=UTCDateTime, index=True)
    revenue: float = Field(description="net revenue in EUR; negative for refunds")
    cost: float = Field(default=0.0, description="cost of goods and service in EUR")


class Order(OrderBase, table=True):
    __tablename__ = "customer_order"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)


class CustomerValue(SQLModel, table=True):
    """A snapshot of one customer's value; every recomputation adds a row (history). ``is_current`` marks the one
    row per customer the answers, the weights and the queue read (``resonanz.core.tables.mark_current_values``)."""

    __tablename__ = "customer_value"
    __table_args__ = (Index("ix_customer_value_current", "is_current", "customer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    window_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    window_end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revenue: float = 0.0
    margin: float = 0.0
    abc_class: str = Field(default="C", max_length=1, index=True)
    abc_method: str = Field(default="cumulative", max_length=20)
    rfm_r: int = 0
    rfm_f: int = 0
    rfm_m: int = 0
    rfm_score: int = 0
    rfm_segment: str | None = Field(default=None, max_length=40)
    clv: float = 0.0
    clv_model: str | None = Field(default=None, max_length=40)
    loyalty_points: float = 0.0
    is_loyal: bool = False
    weight: float = 1.0
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    is_current: bool = Field(default=False, description="the customer's current standing (one row per customer)")


class IdentityLinkBase(SQLModel):
    method: str = Field(max_length=40, description="email/phone/handle/profile_url/probabilistic/manual")
    probability: float = 1.0
    status: str = Field(default="pending", max_length=20, index=True, description="pending/auto/confirmed/rejected")
    evidence: list[str] = Field(default_factory=list, sa_type=JSONType)


class IdentityLink(IdentityLinkBase, table=True):
    __tablename__ = "identity_link"
    __table_args__ = (UniqueConstraint("identity_id", "customer_id", name="uq_link_identity_customer"),)

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="social_identity.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoyaltyEvent(SQLModel, table=True):
    """An activity that earns loyalty points (purchase, positive post, campaign reaction, app use ...)."""

    __tablename__ = "loyalty_event"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    activity: str = Field(max_length=40)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reference: str | None = Field(default=None, max_length=200, description="order id, post id ...")


class ErasedKey(SQLModel, table=True):
    """The suppression list of GDPR erasures: hashed natural keys that an import must never bring back."""

    __tablename__ = "erased_key"
    __table_args__ = (UniqueConstraint("kind", "key_hash", name="uq_erased_key_kind_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, description="crm_id / order_id")
    key_hash: str = Field(max_length=64, index=True, description="sha256 of 'resonanz-erasure:<kind>:<key>'")
    erased_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
