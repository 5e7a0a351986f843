"""Import orders from CSV; upsert on ``order_id``. Each order names its customer's ``crm_id``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, field_validator
from sqlalchemy.engine import Engine
from sqlmodel import select

from resonanz.importing.common import ImportReport, RowError, csv_rows, explain, parse_amount, parse_datetime
from store.db import session_scope
from store.models import Customer, Order

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
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("ordered_at", mode="before")
    @classmethod
    def _date(cls, v: Any) -> datetime:
        return parse_datetime(v)

    @field_validator("revenue", "cost", mode="before")
    @classmethod
    def _amount(cls, v: Any) -> float:
        if isinstance(v, int | float):
            return float(v)
        if v is None or (isinstance(v, str) and not v.strip()):
            return 0.0
        return parse_amount(str(v))


def import_orders(engine: Engine, path: Path, encoding: str = "utf-8") -> ImportReport:
    """Validate every row; orders of unknown customers are rejected (import customers first)."""
    report = ImportReport(file=str(path), kind="orders")
    rows: dict[str, tuple[int, OrderRow]] = {}
    for line, raw in csv_rows(path, REQUIRED, encoding):
        report.rows += 1
        if "__extra__" in raw:
            report.errors.append(RowError(str(path), line, "more fields than columns in the header"))
            continue
        try:
            row = OrderRow.model_validate(raw)
        except ValidationError as exc:
            report.errors.append(RowError(str(path), line, explain(exc)))
            continue
        if row.order_id in rows:
            first = rows[row.order_id][0]
            report.errors.append(
                RowError(str(path), line, f"duplicate order_id {row.order_id!r} (first at line {first})")
            )
            continue
        rows[row.order_id] = (line, row)

    with session_scope(engine) as session:
        crm_ids = {row.crm_id for _, row in rows.values()}
        customers = {
            c.crm_id: c.id
            for c in session.exec(select(Customer).where(Customer.crm_id.in_(list(crm_ids))))  # type: ignore[attr-defined]
        }
        existing = {
            o.order_id: o
            for o in session.exec(select(Order).where(Order.order_id.in_(list(rows))))  # type: ignore[attr-defined]
        }
        for order_id, (line, row) in rows.items():
            customer_id = customers.get(row.crm_id)
            if customer_id is None:
                report.errors.append(
                    RowError(str(path), line, f"unknown customer crm_id {row.crm_id!r}; import customers first")
                )
                continue
            values: dict[str, Any] = {
                "customer_id": customer_id,
                "ordered_at": row.ordered_at,
                "revenue": row.revenue,
                "cost": row.cost,
            }
            order = existing.get(order_id)
            if order is None:
                session.add(Order(order_id=order_id, **values))
                report.inserted += 1
                continue
            changed = {k: v for k, v in values.items() if getattr(order, k) != v}
            if not changed:
                report.unchanged += 1
                continue
            for key, value in changed.items():
                setattr(order, key, value)
            session.add(order)
            report.updated += 1
    return report
