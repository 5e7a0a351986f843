"""Link statuses and a person's decision on a link: one rule for ``resonanz links confirm|reject`` and the web queue.

The status vocabulary is :mod:`linker.identity.records` (``pending``, ``auto``, ``confirmed``, ``rejected``);
this module adds which of them count as *linked* and which a person may set. :func:`decide_link`
is the only code that writes a human decision:

* a link is confirmed only to a customer who is linkable (:mod:`resonanz.pipeline.consent`: consent
  granted with a legal basis, not erased); otherwise :class:`LinkDecisionError` says why, in German;
* confirming one candidate rejects the identity's other pending candidates (one author is one
  customer; the linker will not propose a rejected pair again);
* a decided link may be decided again (a person corrects a mistake); a link run never overrides it.

Callers add what their surface needs: :func:`resonanz.pipeline.linking.confirm_or_reject` opens a session for the
CLI, :func:`resonanz.review.actions.decide_queue_link` writes the review event for the web queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from linker.identity.records import AUTO, CONFIRMED, PENDING, REJECTED
from resonanz.pipeline.consent import not_linkable_reason
from store.models import Customer, IdentityLink
from store.types import utcnow

LINK_STATUSES = (PENDING, AUTO, CONFIRMED, REJECTED)
LINKED_STATUSES = (AUTO, CONFIRMED)
"""Links that make an author a customer: weights, values, answers and the review item page use these."""
HUMAN_DECISIONS = (CONFIRMED, REJECTED)
"""The statuses a person sets (the linker sets ``auto`` and ``pending``)."""


class LinkNotFoundError(LookupError):
    """No link or customer with the given id; the message says how to find valid ids."""


class LinkDecisionError(ValueError):
    """A decision the rules do not allow (no consent, unknown decision); the message says why."""


@dataclass(frozen=True)
class DecisionOutcome:
    """What :func:`decide_link` changed."""

    link: IdentityLink
    before: str
    """The link's status before the decision."""
    rejected_others: tuple[int, ...] = ()
    """Ids of the identity's other pending links, rejected because this one was confirmed."""


def decide_link(session: Session, link_id: int, status: str, actor: str) -> DecisionOutcome:
    """Record ``actor``'s decision (``confirmed`` or ``rejected``) on a link, in ``session`` (not committed)."""
    if status not in HUMAN_DECISIONS:
        raise LinkDecisionError(
            f"Unbekannte Entscheidung {status!r}: eine Verknüpfung wird bestätigt ({CONFIRMED!r}) "
            f"oder abgelehnt ({REJECTED!r})."
        )
    link = session.get(IdentityLink, link_id)
    if link is None:
        raise LinkNotFoundError(f"no identity link with id {link_id}")
    if status == CONFIRMED:
        customer = session.get(Customer, link.customer_id)
        reason = (
            "die Kund:in gibt es nicht mehr"
            if customer is None
            else not_linkable_reason(customer.consent_status, customer.consent_basis, customer.erased_at)
        )
        if reason:
            raise LinkDecisionError(
                f"Verknüpfung nicht bestätigt: {reason}. Ohne gültige Einwilligung darf kein Social-Media-Profil "
                "einer Kund:in zugeordnet werden; erst die Einwilligung im CRM erfassen und neu importieren."
            )
    before = link.status
    now = utcnow()
    link.status, link.decided_by, link.decided_at = status, actor, now
    session.add(link)
    rejected: list[int] = []
    if status == CONFIRMED:
        others = select(IdentityLink).where(
            IdentityLink.identity_id == link.identity_id,
            col(IdentityLink.id) != link.id,
            IdentityLink.status == PENDING,
        )
        for other in session.exec(others):
            other.status, other.decided_by, other.decided_at = REJECTED, actor, now
            session.add(other)
            rejected.append(other.id or 0)
    session.flush()
    return DecisionOutcome(link, before, tuple(sorted(rejected)))
