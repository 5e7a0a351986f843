"""Import CRM customers from CSV; upsert on ``crm_id``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, field_validator
from sqlalchemy.engine import Engine

from resonanz.core.i18n import _
from resonanz.core.tables import CUSTOMER
from resonanz.importing.common import (
    ImportReport,
    drop_erased,
    log_progress,
    parse_datetime,
    split_multi,
    stored_by_key,
    validated_batches,
    write_batch,
)
from resonanz.pipeline.suppression import CRM_ID
from store.db import session_scope
from store.types import utcnow

REQUIRED = {"crm_id"}
CONSENT = {"granted", "withdrawn", "unknown"}
FIELDS = (
    "first_name",
    "last_name",
    "company",
    "emails",
    "phones",
    "handles",
    "profile_urls",
    "city",
    "consent_status",
    "consent_basis",
    "consent_at",
)


class CustomerRow(BaseModel):
    crm_id: str
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    emails: list[str] = []
    phones: list[str] = []
    handles: list[str] = []
    profile_urls: list[str] = []
    city: str | None = None
    consent_status: str = "unknown"
    consent_basis: str | None = None
    consent_at: datetime | None = None

    @field_validator("crm_id")
    @classmethod
    def _crm_id(cls, v: str) -> str:
        if not v.strip():
            raise ValueError(_("crm_id must not be empty"))
        return v.strip()

    @field_validator("emails", mode="before")
    @classmethod
    def _emails(cls, v: Any) -> list[str]:
        values = split_multi(v) if isinstance(v, str) else list(v or [])
        for email in values:
            if "@" not in email or " " in email or email.startswith("@"):
                raise ValueError(_("not an e-mail address: {value!r}").format(value=email))
        return [e.lower() for e in values]

    @field_validator("phones", "handles", "profile_urls", mode="before")
    @classmethod
    def _multi(cls, v: Any) -> list[str]:
        return split_multi(v) if isinstance(v, str) else list(v or [])

    @field_validator("consent_status", mode="before")
    @classmethod
    def _consent(cls, v: Any) -> str:
        value = (v or "unknown").strip().lower()
        if value not in CONSENT:
            raise ValueError(_("must be one of {values}").format(values=", ".join(sorted(CONSENT))))
        return str(value)

    @field_validator("consent_at", mode="before")
    @classmethod
    def _consent_at(cls, v: Any) -> datetime | None:
        return parse_datetime(v) if v else None

    @field_validator("first_name", "last_name", "company", "city", "consent_basis", mode="before")
    @classmethod
    def _blank_none(cls, v: Any) -> Any:
        return v or None


def _values(row: CustomerRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def import_customers(engine: Engine, path: Path, encoding: str = "utf-8") -> ImportReport:
    """Validate every row of ``path`` and upsert the good ones, batch by batch, in a single transaction.

    Streams the file in batches (see :func:`resonanz.importing.common.validated_batches`): memory stays at
    about one batch plus the set of CRM ids seen, whatever the file's size; a failure rolls back every batch.
    """
    report = ImportReport(file=str(path), kind="customers")
    c = CUSTOMER.c
    columns = [c.id, *(c[name] for name in FIELDS)]
    with session_scope(engine) as session:
        batches = validated_batches(path, REQUIRED, CustomerRow, "crm_id", report, encoding, check=_consent_problem)
        for n, good in enumerate(batches, start=1):
            drop_erased(session, good, CRM_ID, report, lambda row: row.crm_id)
            existing = stored_by_key(session, c.crm_id, columns, good)
            now = utcnow()
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            for crm_id, (_line, row) in good.items():
                values = _values(row)
                stored = existing.get(crm_id)
                if stored is None:
                    inserts.append({"crm_id": crm_id, **values, "created_at": now, "updated_at": now})
                    report.inserted += 1
                elif any(getattr(stored, k) != v for k, v in values.items()):
                    updates.append({"id": stored.id, **values, "updated_at": now})
                    report.updated += 1
                else:
                    report.unchanged += 1
            write_batch(session, CUSTOMER, inserts, updates)
            log_progress(report, n)
    return report


def _consent_problem(row: CustomerRow) -> str | None:
    if row.consent_status == "granted" and not row.consent_basis:
        return _("consent_status granted needs a consent_basis")
    return None
