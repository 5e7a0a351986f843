"""Identity linking against the database: ``resonanz link``, review decisions, consent and erasure.

Rules the database side enforces (the matching itself is :func:`linker.pipeline.link_records`):

* Only customers with recorded consent are linkable (:mod:`resonanz.consent`: consent granted
  with a ``consent_basis``, and not erased). Every run first deletes all links of customers who are not
  (any more) linkable - withdrawal is respected at the next run, and at once via
  :func:`withdraw_consent`, which also re-weights their posts.
* Links a human decided (``confirmed``, ``rejected``; the rule is :mod:`resonanz.link_decisions`,
  shared with the web queue) are never changed by a run, and an identity
  with an ``auto`` or ``confirmed`` link is not re-examined. Incremental: of the undecided
  identities, a run examines only new ones, ones seen again since their last examination, ones
  with a pending link, and all of them when a linkable customer changed since
  (``SocialIdentity.link_checked_at``); ``resonanz link --all`` examines every undecided one.
  Pending links are re-scored: updated, upgraded to auto, or deleted when the evidence no longer
  supports them.
* Rejected outcomes of an automatic run are *not* stored: the author stays an anonymous prospect
  and is examined again next time (a new customer may match them). Storing a weak guess that a
  stranger might be one of our customers would be personal data without purpose.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session
from sqlmodel import select as orm_select

from linker.pipeline import LinkConfig, LinkResult, ProgressHook, link_records
from linker.records import AUTO, PENDING, REJECTED, CustomerRecord, IdentityRecord, LinkThresholds
from resonanz import link_decisions
from resonanz.consent import WITHDRAWN, linkable_clause
from resonanz.link_decisions import LINKED_STATUSES, LinkNotFoundError
from resonanz.settings import Settings, get_settings
from resonanz.weighting import CUSTOMER, EVENT, IDENTITY, LINK, ORDER, VALUE
from store.db import session_scope
from store.models import Customer, IdentityLink
from store.types import utcnow

log = logging.getLogger(__name__)

DECIDED = LINKED_STATUSES
"""An identity with a link in one of these is not re-examined by a run."""
LINKER_ACTOR = "linker"


@dataclass
class LinkReport:
    evaluated: int = 0
    auto: int = 0
    pending: int = 0
    rejected: int = 0
    no_candidate: int = 0
    deterministic: int = 0
    probabilistic: int = 0
    inserted: int = 0
    updated: int = 0
    stale_pending_deleted: int = 0
    removed_for_consent: int = 0
    linkable_customers: int = 0
    skipped_unchanged: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def link_config(settings: Settings) -> LinkConfig:
    s = settings.link
    return LinkConfig(
        thresholds=LinkThresholds(
            auto=s.auto_threshold, review=s.review_threshold, name_only_auto=s.name_only_threshold
        ),
        expected_customer_share=s.expected_customer_share,
    )


def enforce_consent(session: Session) -> int:
    """Delete every link of a customer who is not linkable (consent withdrawn/unknown, erased)."""
    blocked = select(CUSTOMER.c.id).where(~linkable_clause())
    result = session.execute(
        delete(LINK).where(LINK.c.customer_id.in_(blocked)), execution_options={"synchronize_session": False}
    )
    removed = int(getattr(result, "rowcount", 0) or 0)
    if removed:
        log.info("consent: removed %d links of customers without (or with withdrawn) consent", removed)
    return removed


def _customer_records(session: Session) -> list[CustomerRecord]:
    rows = session.execute(
        select(
            *(CUSTOMER.c[name] for name in ("id", "crm_id", "first_name", "last_name", "emails", "phones")),
            *(CUSTOMER.c[name] for name in ("handles", "profile_urls", "city")),
        ).where(linkable_clause())
    ).all()
    return [
        CustomerRecord(
            r[0], r[1], r[2], r[3], tuple(r[4] or ()), tuple(r[5] or ()), tuple(r[6] or ()), tuple(r[7] or ()), r[8]
        )
        for r in rows
    ]


def _customers_changed_at(session: Session) -> Any:
    """The latest change to any linkable customer (import, edit, consent), or None."""
    c = CUSTOMER.c
    row = session.execute(
        select(func.max(c.updated_at), func.max(c.created_at), func.max(c.consent_at)).where(linkable_clause())
    ).one()
    stamps = [v for v in row if v is not None]
    return max(stamps) if stamps else None


def _identity_records(
    session: Session, decided: set[int], pending: set[int], full: bool
) -> tuple[list[IdentityRecord], int]:
    """Identities to examine, and how many undecided ones were skipped as unchanged.

    An undecided identity is examined when it was never examined, when it has a pending link, when
    it was seen again since (its profile may have changed), or when any linkable customer changed
    since (a new customer may match it); ``full`` examines every undecided identity.
    """
    changed = _customers_changed_at(session)
    rows = session.execute(
        select(
            *(IDENTITY.c[name] for name in ("id", "platform", "account_id", "handle", "display_name", "profile_url")),
            IDENTITY.c.bio,
            IDENTITY.c.location,
            IDENTITY.c.last_seen,
            IDENTITY.c.link_checked_at,
        )
    ).all()
    chosen: list[IdentityRecord] = []
    skipped = 0
    for *fields, last_seen, checked in rows:
        iid = fields[0]
        if iid in decided:
            continue
        if (
            full
            or checked is None
            or iid in pending
            or (last_seen is not None and last_seen > checked)
            or (changed is not None and changed > checked)
        ):
            chosen.append(IdentityRecord(*fields))
        else:
            skipped += 1
    return chosen, skipped


def _mark_checked(session: Session, identity_ids: list[int], when: Any) -> None:
    for start in range(0, len(identity_ids), 900):
        session.execute(
            update(IDENTITY).where(IDENTITY.c.id.in_(identity_ids[start : start + 900])).values(link_checked_at=when)
        )


def link_identities(
    engine: Engine, settings: Settings | None = None, *, progress: ProgressHook | None = None, full: bool = False
) -> LinkReport:
    """Link the identities without a decided link that are new or changed (``full``: all of them)."""
    settings = settings or get_settings()
    config = link_config(settings)
    report = LinkReport()
    started = time.perf_counter()
    with session_scope(engine) as session:
        report.removed_for_consent = enforce_consent(session)
        links = session.execute(select(LINK.c.id, LINK.c.identity_id, LINK.c.customer_id, LINK.c.status)).all()
        decided = {iid for _, iid, _, status in links if status in DECIDED}
        excluded = frozenset((iid, cid) for _, iid, cid, status in links if status == REJECTED)
        pending = {(iid, cid): lid for lid, iid, cid, status in links if status == PENDING}
        customers = _customer_records(session)
        identities, report.skipped_unchanged = _identity_records(session, decided, {iid for iid, _ in pending}, full)
        report.linkable_customers = len(customers)
        report.seconds["load"] = time.perf_counter() - started
        result = link_records(customers, identities, config, excluded, progress)
        _write(session, result, pending, report, {i.identity_id for i in identities})
        _mark_checked(session, [i.identity_id for i in identities], utcnow())
    report.evaluated = result.identities
    report.no_candidate = result.no_candidate
    report.deterministic = result.deterministic
    report.probabilistic = result.probabilistic
    report.rejected = result.count(REJECTED)
    report.seconds.update({f"link_{k}": v for k, v in result.seconds.items()})
    report.seconds["total"] = time.perf_counter() - started
    return report


def _write(
    session: Session,
    result: LinkResult,
    pending: dict[tuple[int, int], int],
    report: LinkReport,
    evaluated: set[int],
) -> None:
    now = utcnow()
    keep: set[tuple[int, int]] = set()
    inserts: list[dict[str, Any]] = []
    for d in result.decisions:
        if d.status == REJECTED:
            continue
        key = (d.identity_id, d.customer_id)
        keep.add(key)
        values = {
            "method": d.method,
            "probability": d.probability,
            "status": d.status,
            "evidence": d.evidence,
            "decided_by": LINKER_ACTOR if d.status == AUTO else None,
            "decided_at": now if d.status == AUTO else None,
        }
        if d.status == AUTO:
            report.auto += 1
        else:
            report.pending += 1
        if key in pending:
            session.execute(
                update(LINK).where(LINK.c.id == pending[key]).values(**values),
                execution_options={"synchronize_session": False},
            )
            report.updated += 1
        else:
            inserts.append({"identity_id": d.identity_id, "customer_id": d.customer_id, "created_at": now, **values})
    for start in range(0, len(inserts), 2000):
        session.execute(insert(LINK), inserts[start : start + 2000])
    report.inserted = len(inserts)
    stale = [lid for key, lid in pending.items() if key[0] in evaluated and key not in keep]
    for start in range(0, len(stale), 900):
        session.execute(
            delete(LINK).where(LINK.c.id.in_(stale[start : start + 900])),
            execution_options={"synchronize_session": False},
        )
    report.stale_pending_deleted = len(stale)
    log.debug("links written for %d examined identities", len(evaluated))


def decide_link(engine: Engine, link_id: int, status: str, actor: str) -> IdentityLink:
    """Record a human decision (``confirmed`` or ``rejected``) on a link; a run never overrides it.

    The rule (consent, the other candidates) is :func:`resonanz.link_decisions.decide_link`.
    """
    with session_scope(engine) as session:
        try:
            return link_decisions.decide_link(session, link_id, status, actor).link
        except LinkNotFoundError as exc:
            raise LinkNotFoundError(f"{exc}; list them with `resonanz links export`") from None


def find_customer(session: Session, ref: str) -> Customer | None:
    """A customer by CRM id, or by database id when ``ref`` is ``#<id>`` or all digits and no CRM id matches."""
    customer = session.exec(orm_select(Customer).where(Customer.crm_id == ref)).first()
    if customer is None:
        digits = ref.lstrip("#")
        if digits.isdigit():
            customer = session.get(Customer, int(digits))
    return customer


def withdraw_consent(engine: Engine, ref: str, settings: Settings | None = None) -> int:
    """Record a withdrawal of consent now: links are deleted and the author's posts re-weighted at once."""
    from resonanz.weighting import apply_weights

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
        return out


def forget_customer(engine: Engine, ref: str, settings: Settings | None = None) -> ForgetReport:
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

    from resonanz.weighting import apply_weights

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


EXPORT_COLUMNS = (
    "link_id", "platform", "account_id", "handle", "display_name", "crm_id", "customer_id", "probability", "status",
    "method", "evidence", "created_at", "decided_by", "decided_at",
)  # fmt: skip


def _link_rows(session: Session) -> list[dict[str, Any]]:
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
    keys = (*EXPORT_COLUMNS, "identity_id")
    return [dict(zip(keys, row, strict=True)) for row in session.execute(query).all()]


def export_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every link with its identity, customer, probability, status and evidence (for ``links export``)."""
    with session_scope(engine) as session:
        rows = _link_rows(session)
    for row in rows:
        row.pop("identity_id")
        row["evidence"] = list(row["evidence"] or [])
        for key in ("created_at", "decided_at"):
            row[key] = row[key].isoformat() if row[key] else None
    return rows


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
            ).order_by(v.computed_at, v.id)
        ).all():
            values[value_row[0]] = value_row
        links = _link_rows(session)
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
            f"{points:g}" + (" (treu)" if loyal else ""), f"{weight:g}",
        )  # fmt: skip
    link_table = Table(title="Verknüpfte Autor:innen", title_justify="left")
    for col in ("Autor", "Kunde", "Status", "p", "Belege"):
        link_table.add_column(col)
    shown = sorted(links, key=lambda r: (r["status"] not in DECIDED, -r["probability"], r["link_id"]))
    for row in shown[: limit * 2]:
        author = f"{row['platform']}: {row['display_name'] or ''} ({row['handle'] or row['account_id']})"
        evidence = "\n".join((row["evidence"] or [])[:3])
        link_table.add_row(author, row["crm_id"], row["status"], f"{row['probability']:.3f}", evidence)
    linked = len({row["identity_id"] for row in links if row["status"] in DECIDED})
    footer = (
        f"{linked} von {n_identities} Autor:innen sind Kund:innen zugeordnet; "
        "die übrigen bleiben anonyme Interessent:innen."
    )
    if not values:
        footer += " (Noch keine Kundenwerte: `resonanz value` ausführen.)"
    return Group(value_table, link_table, footer)


def scheduled_link_job(settings: Settings | None = None) -> LinkReport:
    """For the scheduler: link new identities, then re-weight every scored post."""
    from resonanz.db import engine_from_settings
    from resonanz.weighting import apply_weights

    settings = settings or get_settings()
    engine = engine_from_settings(settings)
    try:
        report = link_identities(engine, settings)
        apply_weights(engine, settings)
        return report
    finally:
        engine.dispose()
