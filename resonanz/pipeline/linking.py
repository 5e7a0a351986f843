"""Identity linking against the database: ``resonanz link`` and its scheduled job.

Consent withdrawal and GDPR erasure are :mod:`resonanz.pipeline.erasure`; the CSV/JSON export of
the links is :mod:`resonanz.pipeline.link_export`.

Rules the database side enforces (the matching itself is :func:`linker.identity.pipeline.link_records`):

* Only customers with recorded consent are linkable (:mod:`resonanz.pipeline.consent`: consent granted
  with a ``consent_basis``, and not erased). Every run first deletes all links of customers who are not
  (any more) linkable - withdrawal is respected at the next run, and at once via
  :func:`withdraw_consent`, which also re-weights their posts.
* Links a human decided (``confirmed``, ``rejected``; the rule is :mod:`resonanz.pipeline.link_decisions`,
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

from linker.identity.pipeline import LinkConfig, LinkResult, ProgressHook, link_records
from linker.identity.records import AUTO, PENDING, REJECTED, CustomerRecord, IdentityRecord, LinkThresholds
from resonanz.core.settings import Settings, get_settings
from resonanz.core.tables import CUSTOMER, IDENTITY, LINK
from resonanz.pipeline import link_decisions
from resonanz.pipeline.consent import linkable_clause
from resonanz.pipeline.duplicates import merge_duplicates
from resonanz.pipeline.link_decisions import LINKED_STATUSES, LinkNotFoundError
from store.db import session_scope
from store.models import IdentityLink
from store.records import IDENTITY_FIELDS
from store.types import utcnow

log = logging.getLogger(__name__)

CUSTOMER_FIELDS = ("id", "crm_id", "first_name", "last_name", "emails", "phones", "handles", "profile_urls", "city",
                   "company")  # fmt: skip
"""The customer columns the linker reads (:class:`linker.identity.records.CustomerRecord`)."""

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
            *(CUSTOMER.c[name] for name in CUSTOMER_FIELDS),
        ).where(linkable_clause())
    ).all()
    return [
        CustomerRecord(
            customer_id=r.id,
            crm_id=r.crm_id,
            first_name=r.first_name,
            last_name=r.last_name,
            emails=tuple(r.emails or ()),
            phones=tuple(r.phones or ()),
            handles=tuple(r.handles or ()),
            profile_urls=tuple(r.profile_urls or ()),
            city=r.city,
            company=r.company,
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
            *(IDENTITY.c[name] for name in ("id", "platform", "account_id", *IDENTITY_FIELDS)),
            IDENTITY.c.last_seen,
            IDENTITY.c.link_checked_at,
        )
    ).all()
    chosen: list[IdentityRecord] = []
    skipped = 0
    for row in rows:
        iid, last_seen, checked = row.id, row.last_seen, row.link_checked_at
        if iid in decided:
            continue
        if (
            full
            or checked is None
            or iid in pending
            or (last_seen is not None and last_seen > checked)
            or (changed is not None and changed > checked)
        ):
            chosen.append(
                IdentityRecord(
                    identity_id=row.id,
                    platform=row.platform,
                    account_id=row.account_id,
                    handle=row.handle,
                    display_name=row.display_name,
                    profile_url=row.profile_url,
                    bio=row.bio,
                    location=row.location,
                )
            )
        else:
            skipped += 1
    return chosen, skipped


def _mark_checked(session: Session, identity_ids: list[int], when: Any) -> None:
    for start in range(0, len(identity_ids), 900):
        session.execute(
            update(IDENTITY).where(IDENTITY.c.id.in_(identity_ids[start : start + 900])).values(link_checked_at=when)
        )


def link_identities(
    engine: Engine, settings: Settings, *, progress: ProgressHook | None = None, full: bool = False
) -> LinkReport:
    """Link the identities without a decided link that are new or changed (``full``: all of them)."""
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
    # new links can make two identities one author: their cross-posts become one queue item now
    merge_duplicates(engine)
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


def confirm_or_reject(engine: Engine, link_id: int, status: str, actor: str) -> IdentityLink:
    """Record a human decision (``confirmed`` or ``rejected``) on a link; a run never overrides it.

    The rule (consent, the other candidates) is :func:`resonanz.pipeline.link_decisions.decide_link`.
    """
    with session_scope(engine) as session:
        try:
            return link_decisions.decide_link(session, link_id, status, actor).link
        except LinkNotFoundError as exc:
            raise LinkNotFoundError(f"{exc}; list them with `resonanz links export`") from None


def scheduled_link_job(settings: Settings | None = None) -> LinkReport:
    """For the scheduler: link new identities, then re-weight every scored post."""
    from resonanz.core.db import engine_from_settings
    from resonanz.pipeline.weighting import apply_weights

    settings = settings or get_settings()
    engine = engine_from_settings(settings)
    try:
        report = link_identities(engine, settings)
        apply_weights(engine, settings)
        return report
    finally:
        engine.dispose()
