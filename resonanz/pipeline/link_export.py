"""The identity links as rows for ``resonanz links export`` (CSV/JSON): who is linked to whom, how sure, why."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.core.messages import link_evidence
from resonanz.core.tables import CUSTOMER, IDENTITY, LINK
from store.db import session_scope

log = logging.getLogger(__name__)


LINK_COLUMNS = (
    "link_id", "platform", "account_id", "handle", "display_name", "crm_id", "customer_id", "probability", "status",
    "method", "evidence", "created_at", "decided_by", "decided_at",
)  # fmt: skip
"""The columns of :func:`link_rows` (``evidence`` as stored: the linker's sentences, machine-readable)."""
SHOWN_EVIDENCE = "evidence_shown"
"""The evidence in the interface language, joined by `` | `` (added by :func:`export_rows`)."""
EXPORT_COLUMNS = (*LINK_COLUMNS, SHOWN_EVIDENCE)


def link_rows(session: Session) -> list[dict[str, Any]]:
    """Every link joined with its identity and the customer's CRM id, in link-id order."""
    lk, ident = LINK.c, IDENTITY.c
    query = (
        select(
            lk.id,
            ident.platform,
            ident.account_id,
            ident.handle,
            ident.display_name,
            CUSTOMER.c.crm_id,
            lk.customer_id,
            lk.probability,
            lk.status,
            lk.method,
            lk.evidence,
            lk.created_at,
            lk.decided_by,
            lk.decided_at,
            lk.identity_id,
        )  # fmt: skip
        .join(IDENTITY, ident.id == lk.identity_id)
        .join(CUSTOMER, CUSTOMER.c.id == lk.customer_id)
        .order_by(lk.id)
    )
    keys = (*LINK_COLUMNS, "identity_id")
    return [dict(zip(keys, row, strict=True)) for row in session.execute(query).all()]


def export_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every link with its identity, customer, probability, status and evidence (for ``links export``)."""
    with session_scope(engine) as session:
        rows = link_rows(session)
    for row in rows:
        row.pop("identity_id")
        row["evidence"] = list(row["evidence"] or [])
        row[SHOWN_EVIDENCE] = " | ".join(link_evidence(row["evidence"]))
        for key in ("created_at", "decided_at"):
            row[key] = row[key].isoformat() if row[key] else None
    return rows
