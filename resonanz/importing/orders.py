"""Import orders from CSV; upsert on ``order_id``. Each order names its customer's ``crm_id``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationInfo, field_validator
from sqlalchemy.engine import Engine

from resonanz.core.i18n import _
from resonanz.core.tables import CUSTOMER, ORDER
from resonanz.importing.common import (
    ImportReport,
    RowError,
    drop_erased,
    finite_amount,
    log_progress,
    parse_amount,
    parse_datetime,
    stored_by_key,
    validated_batches,
    write_batch,
)
from resonanz.pipeline.suppression import CRM_ID, ORDER_ID
from store.db import session_scope

REQUIRED = {"order_id", "crm_id", "ordered_at", "revenue"}


class OrderRow(BaseModel):
    order_id: str
    crm_id: str
    ordered_at: datetime
    revenue: float
    cost: float = 0.0

    @field_validator("order_id", "crm_id")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError(_("must not be empty"))
        return v.strip()

    @field_validator("ordered_at", mode="before")
    @classmethod
    def _date(cls, v: Any) -> datetime:
        return parse_datetime(v)

    @field_validator("revenue", "cost", mode="before")
    @classmethod
    def _amount(cls, v: Any, info: ValidationInfo) -> float:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return finite_amount(float(v), v)
        if v is None or (isinstance(v, str) and not v.strip()):
            if info.field_name == "revenue":
                raise ValueError(_("the revenue is required (0 for a free order)"))
            return 0.0
        return parse_amount(str(v))


def import_orders(engine: Engine, path: Path, encoding: str = "utf-8") -> ImportReport:
    """Validate every row; orders of unknown customers are rejected (import customers first).

    Streams the file in batches of :data:`~resonanz.importing.common.BATCH_ROWS` rows (validated, looked up
    and written with one executemany each), all in one transaction: a million orders need about the memory
    of one batch plus the set of order ids seen (for duplicates), and a failure leaves nothing behind.
    """
    report = ImportReport(file=str(path), kind="orders")
    o = ORDER.c
    columns = (o.id, o.customer_id, o.ordered_at, o.revenue, o.cost)
    with session_scope(engine) as session:
        batches = validated_batches(path, REQUIRED, OrderRow, "order_id", report, encoding)
        for n, rows in enumerate(batches, start=1):
            drop_erased(session, rows, ORDER_ID, report, lambda row: row.order_id)
            drop_erased(session, rows, CRM_ID, report, lambda row: row.crm_id)
            crm_ids = {row.crm_id for _, row in rows.values()}
            known = stored_by_key(session, CUSTOMER.c.crm_id, [CUSTOMER.c.id], crm_ids)
            customers = {crm_id: stored.id for crm_id, stored in known.items()}
            existing = stored_by_key(session, o.order_id, columns, rows)
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            for order_id, (line, row) in rows.items():
                customer_id = customers.get(row.crm_id)
                if customer_id is None:
                    unknown = _("unknown customer crm_id {crm_id!r}; import customers first").format(crm_id=row.crm_id)
                    report.errors.append(RowError(str(path), line, unknown))
                    continue
                values: dict[str, Any] = {
                    "customer_id": customer_id,
                    "ordered_at": row.ordered_at,
                    "revenue": row.revenue,
                    "cost": row.cost,
                }
                stored = existing.get(order_id)
                if stored is None:
                    inserts.append({"order_id": order_id, **values})
                    report.inserted += 1
                elif any(getattr(stored, k) != v for k, v in values.items()):
                    updates.append({"id": stored.id, **values})
                    report.updated += 1
                else:
                    report.unchanged += 1
            write_batch(session, ORDER, inserts, updates)
            log_progress(report, n)
    return report
