"""The linking stage of ``resonanz demo``: a short table of the links the demo run made."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from resonanz.core.i18n import _, compact, currency, number
from resonanz.core.messages import link_evidence
from resonanz.core.tables import CUSTOMER, IDENTITY, VALUE
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
            ).where(v.is_current)  # each customer's current row (current_value_order, marked by the valuation)
        ).all():
            values[value_row[0]] = value_row
        links = link_rows(session)
        n_identities = session.execute(select(func.count()).select_from(IDENTITY)).scalar_one()
    value_table = Table(title=_("Customer value (latest calculation)"), title_justify="left")
    for heading, right in ((_("Customer no."), False), (_("Name"), False), ("ABC", False),
                           (_("Revenue"), True), (_("RFM"), False), (_("CLV"), True),
                           (_("Loyalty points"), True), (_("Weight"), True)):  # fmt: skip
        value_table.add_column(heading, justify="right" if right else "left")
    ranked = sorted(customers, key=lambda c: (-(values[c[0]][2] if c[0] in values else 0.0), c[1]))
    for cid, crm_id, first, last in ranked[:limit]:
        name = f"{first or ''} {last or ''}".strip()
        val = values.get(cid)
        if val is None:
            value_table.add_row(crm_id, name, "-", "-", "-", "-", "-", "-")
            continue
        _cid, abc, revenue, segment, clv, points, loyal, weight = val
        value_table.add_row(
            crm_id, name, abc, currency(revenue, 2), segment or "-", currency(clv),
            number(points) + (" " + _("(loyal)") if loyal else ""), compact(weight),
        )  # fmt: skip
    link_table = Table(title=_("Linked authors"), title_justify="left")
    for heading in (_("Author account"), _("Customer no."), _("Status"), "p", _("Evidence")):
        link_table.add_column(heading)
    shown = sorted(links, key=lambda r: (r["status"] not in LINKED_STATUSES, -r["probability"], r["link_id"]))
    for row in shown[: limit * 2]:
        author = f"{row['platform']}: {row['display_name'] or ''} ({row['handle'] or row['account_id']})"
        evidence = "\n".join(link_evidence((row["evidence"] or [])[:3]))
        link_table.add_row(author, row["crm_id"], row["status"], number(row["probability"], 3), evidence)
    linked = len({row["identity_id"] for row in links if row["status"] in LINKED_STATUSES})
    footer = _("{linked} of {total} authors are assigned to customers; the others remain anonymous prospects.").format(
        linked=linked, total=n_identities
    )
    if not values:
        footer += " " + _("(No customer values yet: run `resonanz value`.)")
    return Group(value_table, link_table, footer)
