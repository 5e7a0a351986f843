"""Consent withdrawal and GDPR erasure (Art. 17) of a customer: ``resonanz forget``, ``resonanz links withdraw``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session
from sqlmodel import select as orm_select

from resonanz.core.settings import Settings
from resonanz.core.tables import EVENT, IDENTITY, LINK, ORDER, VALUE
from resonanz.pipeline.consent import WITHDRAWN
from resonanz.pipeline.link_decisions import LINKED_STATUSES, LinkNotFoundError
from resonanz.pipeline.linking import enforce_consent
from resonanz.pipeline.suppression import CRM_ID, ORDER_ID, identity_key, record_erased, redact
from resonanz.pipeline.suppression import IDENTITY as SUPPRESSED_IDENTITY
from store.db import session_scope
from store.models import Customer
from store.types import utcnow

log = logging.getLogger(__name__)


def find_customer(session: Session, ref: str) -> Customer | None:
    """A customer by CRM id, or by database id when ``ref`` is ``#<id>`` or all digits and no CRM id matches."""
    customer = session.exec(orm_select(Customer).where(Customer.crm_id == ref)).first()
    if customer is None:
        digits = ref.lstrip("#")
        if digits.isdigit():
            customer = session.get(Customer, int(digits))
    return customer


def withdraw_consent(engine: Engine, ref: str, settings: Settings) -> int:
    """Record a withdrawal of consent now: links are deleted and the author's posts re-weighted at once."""
    from resonanz.pipeline.weighting import apply_weights

    with session_scope(engine) as session:
        customer = find_customer(session, ref)
        if customer is None:
            raise LinkNotFoundError(f"no customer {ref!r}; use the CRM id as in the import file")
        customer.consent_status = WITHDRAWN
        customer.consent_at = utcnow()
        customer.updated_at = customer.consent_at
        session.add(customer)
        session.flush()
        removed = enforce_consent(session)
    apply_weights(engine, settings)
    return removed


@dataclass
class ForgetReport:
    customer_id: int
    crm_id: str
    links_removed: list[str] = field(default_factory=list)
    fields_erased: dict[str, int] = field(default_factory=dict)
    orders_anonymised: int = 0
    values_deleted: int = 0
    loyalty_events_deleted: int = 0
    scores_reweighted: int = 0
    redacted: dict[str, int] = field(default_factory=dict)
    identities_erased: int = 0
    suppressed_keys: int = 0

    def lines(self) -> list[str]:
        out = [f"Customer {self.crm_id} (#{self.customer_id}) erased (GDPR Art. 17):"]
        erased = ", ".join(f"{name} ({n})" if n > 1 else name for name, n in self.fields_erased.items() if n)
        out.append(f"  personal data erased: {erased or 'nothing left to erase'}")
        out.append(f"  identity links removed: {len(self.links_removed)}")
        out += [f"    - {link}" for link in self.links_removed]
        out.append(f"  orders kept anonymised (new random order ids, amounts and dates kept): {self.orders_anonymised}")
        out.append(
            f"  value snapshots deleted: {self.values_deleted}; loyalty events deleted: {self.loyalty_events_deleted}"
        )
        out.append(f"  scores re-weighted as anonymous prospects: {self.scores_reweighted}")
        out.append(f"  profiles of the person's linked accounts erased (name, bio, location): {self.identities_erased}")
        redacted = ", ".join(f"{place} ({n})" for place, n in self.redacted.items() if n)
        out.append(f"  mentions redacted: {redacted or 'none found'}")
        out.append(
            f"  keys on the suppression list (re-imports skip them): {self.suppressed_keys} (CRM id and order ids)"
        )
        return out


def forget_customer(engine: Engine, ref: str, settings: Settings) -> ForgetReport:
    """Erase a customer's personal data and links (GDPR Art. 17); orders stay, anonymised.

    Decision: orders are *kept anonymised* rather than deleted, so revenue totals, ABC shares and
    the Pareto curve of everybody else stay correct. The customer row becomes an anonymous stub
    (random ``erased-...`` CRM id, no names or contact data, consent withdrawn, ``erased_at`` set),
    its orders get random order ids, so neither can be joined back to the CRM or the shop system.
    Value history and loyalty events (a profile of the person) are deleted. The social identities
    stay as anonymous authors of public posts, unlinked. Invoices that tax law requires the shop
    to keep (§ 147 AO) live in the ERP, not here.
    """
    import uuid

    from resonanz.pipeline.weighting import apply_weights

    with session_scope(engine) as session:
        customer = find_customer(session, ref)
        if customer is None:
            raise LinkNotFoundError(f"no customer {ref!r}; use the CRM id as in the import file (or #<id>)")
        report = ForgetReport(customer.id or 0, customer.crm_id)
        rows = session.execute(
            select(LINK.c.status, IDENTITY.c.platform, IDENTITY.c.handle, IDENTITY.c.account_id)
            .join(IDENTITY, IDENTITY.c.id == LINK.c.identity_id)
            .where(LINK.c.customer_id == customer.id)
        ).all()
        report.links_removed = [f"{p}: {h or a} ({s})" for s, p, h, a in rows]
        linked = session.execute(
            select(IDENTITY.c.id, IDENTITY.c.platform, IDENTITY.c.account_id, IDENTITY.c.display_name)
            .join(LINK, LINK.c.identity_id == IDENTITY.c.id)
            .where(LINK.c.customer_id == customer.id, LINK.c.status.in_(LINKED_STATUSES))
        ).all()
        session.execute(delete(LINK).where(LINK.c.customer_id == customer.id))
        report.fields_erased = {
            "first_name": int(bool(customer.first_name)),
            "last_name": int(bool(customer.last_name)),
            "company": int(bool(customer.company)),
            "emails": len(customer.emails or []),
            "phones": len(customer.phones or []),
            "handles": len(customer.handles or []),
            "profile_urls": len(customer.profile_urls or []),
            "city": int(bool(customer.city)),
            "crm_id": 1,
        }
        full_name = " ".join(n for n in (customer.first_name, customer.last_name) if n)
        needles = [full_name, customer.company or "", customer.crm_id, *(customer.emails or []),
                   *(customer.phones or []), *(customer.handles or []), *(customer.profile_urls or [])]  # fmt: skip
        order_ids = [o for (o,) in session.execute(select(ORDER.c.order_id).where(ORDER.c.customer_id == customer.id))]
        report.suppressed_keys = record_erased(session, CRM_ID, [customer.crm_id]) + record_erased(
            session, ORDER_ID, order_ids
        )
        # the person's own linked accounts: profile fields erased, and never re-filled by a later collection
        report.suppressed_keys += record_erased(
            session, SUPPRESSED_IDENTITY, [identity_key(p, a) for _, p, a, _ in linked]
        )
        for identity_id, _, _, display_name in linked:
            needles.append(display_name or "")
            session.execute(
                update(IDENTITY).where(IDENTITY.c.id == identity_id).values(display_name=None, bio=None, location=None)
            )
        report.identities_erased = len(linked)
        report.redacted = redact(session, needles)
        customer.crm_id = f"erased-{uuid.uuid4().hex[:16]}"
        customer.first_name = customer.last_name = customer.company = customer.city = None
        customer.emails, customer.phones, customer.handles, customer.profile_urls = [], [], [], []
        customer.consent_status, customer.consent_basis, customer.consent_at = WITHDRAWN, None, None
        customer.erased_at = customer.updated_at = utcnow()
        session.add(customer)
        for (order_pk,) in session.execute(select(ORDER.c.id).where(ORDER.c.customer_id == customer.id)).all():
            session.execute(update(ORDER).where(ORDER.c.id == order_pk).values(order_id=f"erased-{uuid.uuid4().hex}"))
            report.orders_anonymised += 1
        res = session.execute(delete(VALUE).where(VALUE.c.customer_id == customer.id))
        report.values_deleted = int(getattr(res, "rowcount", 0) or 0)
        res = session.execute(delete(EVENT).where(EVENT.c.customer_id == customer.id))
        report.loyalty_events_deleted = int(getattr(res, "rowcount", 0) or 0)
    report.scores_reweighted = apply_weights(engine, settings)
    log.info("forgot customer #%d", report.customer_id)
    return report
