"""The linking stage of ``resonanz demo``: a short table of the links the demo run made."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from resonanz.core.messages import link_evidence
from resonanz.core.tables import CUSTOMER, IDENTITY, VALUE, current_value_order
from resonanz.pipeline.link_decisions import LINKED_STATUSES
from resonanz.pipeline.link_export import link_rows
from store.db import session_scope

log = logging.getLogger(__name__)


def demo_linking_summary(engine: Engine, limit: int = 15) -> Any:
    """A rich renderable: the customers' value classes, and which authors were linked and why."""
    from rich.console import Group
    from rich.table import Table

    with session_scope(engine) as session:
        customers = session.execute(
            select(CUSTOMER.c.id, CUSTOMER.c.crm_id, CUSTOMER.c.first_name, CUSTOMER.c.last_name)
        ).all()
        v = VALUE.c
        values: dict[int, Any] = {}
        for value_row in session.execute(
            select(
                v.customer_id, v.abc_class, v.revenue, v.rfm_segment, v.clv, v.loyalty_points, v.is_loyal, v.weight
            ).order_by(*current_value_order())
        ).all():
            values.setdefault(value_row[0], value_row)  # the first row per customer is the current one
        links = link_rows(session)
        n_identities = session.execute(select(func.count()).select_from(IDENTITY)).scalar_one()
    value_table = Table(title="Kundenwert (letzte Berechnung)", title_justify="left")
    for col in ("Kunde", "Name", "ABC", "Umsatz", "RFM", "CLV", "Treuepunkte", "Gewicht"):
        value_table.add_column(col, justify="right" if col in ("Umsatz", "CLV", "Treuepunkte", "Gewicht") else "left")
    ranked = sorted(customers, key=lambda c: (-(values[c[0]][2] if c[0] in values else 0.0), c[1]))
    for cid, crm_id, first, last in ranked[:limit]:
        name = f"{first or ''} {last or ''}".strip()
        val = values.get(cid)
        if val is None:
            value_table.add_row(crm_id, name, "-", "-", "-", "-", "-", "-")
            continue
        _, abc, revenue, segment, clv, points, loyal, weight = val
        value_table.add_row(
            crm_id, name, abc, f"{revenue:,.2f} €", segment or "-", f"{clv:,.0f} €",
            f"{points:g}" + (" (treu)" if loyal else ""), f"{weight:.3g}",
        )  # fmt: skip
    link_table = Table(title="Verknüpfte Autor:innen", title_justify="left")
    for col in ("Autor", "Kunde", "Status", "p", "Belege"):
        link_table.add_column(col)
    shown = sorted(links, key=lambda r: (r["status"] not in LINKED_STATUSES, -r["probability"], r["link_id"]))
    for row in shown[: limit * 2]:
        author = f"{row['platform']}: {row['display_name'] or ''} ({row['handle'] or row['account_id']})"
        evidence = "\n".join(link_evidence((row["evidence"] or [])[:3]))
        link_table.add_row(author, row["crm_id"], row["status"], f"{row['probability']:.3f}", evidence)
    linked = len({row["identity_id"] for row in links if row["status"] in LINKED_STATUSES})
    footer = (
        f"{linked} von {n_identities} Autor:innen sind Kund:innen zugeordnet; "
        "die übrigen bleiben anonyme Interessent:innen."
    )
    if not values:
        footer += " (Noch keine Kundenwerte: `resonanz value` ausführen.)"
    return Group(value_table, link_table, footer)
