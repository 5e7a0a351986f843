"""Who may be linked to a social identity: the one definition of a *linkable customer*.

A customer is linkable when consent is granted (``consent_status == "granted"``), a GDPR legal
basis is recorded (``consent_basis`` not empty or blank), and the customer was not erased
(``erased_at`` is null). Everything that links, weights, values or answers by customer uses this
rule: the link run and ``links confirm`` (:mod:`resonanz.pipeline.linking`), a confirmation in the review
queue (:mod:`resonanz.pipeline.link_decisions`), the weights and values (:mod:`resonanz.pipeline.weighting`,
:mod:`resonanz.pipeline.valuation`) and the answers' author segment (:func:`resonanz.answers.sql.link_subquery`).

The rule exists in two forms because it is evaluated in two places: :func:`linkable_clause` in SQL
and :func:`not_linkable_reason` / :func:`is_linkable` on a loaded row. Both are written here, next
to each other, and a test checks that they agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import col

from store.models import Customer

GRANTED = "granted"
WITHDRAWN = "withdrawn"
UNKNOWN = "unknown"
"""The values of ``Customer.consent_status``."""


def linkable_clause() -> ColumnElement[bool]:
    """SQL: the ``customer`` row may be linked and weighted (use it where ``customer`` is joined)."""
    basis = col(Customer.consent_basis)
    return (
        (col(Customer.consent_status) == GRANTED)
        & basis.is_not(None)
        & (func.trim(basis) != "")
        & col(Customer.erased_at).is_(None)
    )


def not_linkable_reason(
    consent_status: str | None, consent_basis: str | None, erased_at: datetime | None
) -> str | None:
    """Why a customer may not be linked (German, for people), or None when they may."""
    if erased_at is not None:
        return "die Kund:in wurde gelöscht (DSGVO Art. 17)"
    if consent_status == WITHDRAWN:
        return "die Kund:in hat ihre Einwilligung widerrufen"
    if consent_status != GRANTED:
        return "für die Kund:in ist keine Einwilligung erfasst"
    if not (consent_basis and consent_basis.strip()):
        return "für die Einwilligung der Kund:in ist keine Rechtsgrundlage erfasst"
    return None


def is_linkable(consent_status: str | None, consent_basis: str | None, erased_at: datetime | None) -> bool:
    """Python twin of :func:`linkable_clause`, for a customer already loaded."""
    return not_linkable_reason(consent_status, consent_basis, erased_at) is None


def customer_is_linkable(customer: Customer | None) -> bool:
    return customer is not None and is_linkable(customer.consent_status, customer.consent_basis, customer.erased_at)
