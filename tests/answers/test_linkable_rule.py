"""One definition of a linkable customer and of the linked statuses, used by every call site (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlmodel import Session

from resonanz.answers import sql as answer_sql
from resonanz.answers.sql import AnswerFilter, link_subquery, post_rows
from resonanz.core.periods import iso_week
from resonanz.core.settings import Settings
from resonanz.pipeline import consent, domain_config, link_decisions, linking, valuation, weighting
from resonanz.pipeline.consent import is_linkable, linkable_clause, not_linkable_reason
from resonanz.pipeline.weighting import identity_weights
from resonanz.review import detail as review_detail
from store.models import Customer
from tests.answers.factory import WEEK, Scenario

W47 = iso_week(WEEK)
ERASED = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_call_site_uses_the_one_rule() -> None:
    for module in (answer_sql, weighting, valuation, linking):
        assert module.linkable_clause is consent.linkable_clause, module.__name__
    for module in (answer_sql, weighting, valuation, review_detail):
        assert module.LINKED_STATUSES is link_decisions.LINKED_STATUSES, module.__name__
    assert linking.DECIDED is link_decisions.LINKED_STATUSES
    assert not hasattr(linking, "is_linkable")  # the Python form lives only in resonanz.pipeline.consent


CASES = [
    ("granted", "Art. 6 Abs. 1 lit. a DSGVO", None, True),
    ("granted", None, None, False),
    ("granted", "", None, False),
    ("granted", "   ", None, False),
    ("withdrawn", "Art. 6 Abs. 1 lit. a DSGVO", None, False),
    ("unknown", "Art. 6 Abs. 1 lit. a DSGVO", None, False),
    ("granted", "Art. 6 Abs. 1 lit. a DSGVO", ERASED, False),
]


@pytest.mark.parametrize(("status", "basis", "erased_at", "linkable"), CASES)
def test_sql_and_python_forms_agree(
    db: tuple[Session, Scenario], status: str, basis: str | None, erased_at: datetime | None, linkable: bool
) -> None:
    session, _ = db
    customer = Customer(crm_id="K-rule", consent_status=status, consent_basis=basis, erased_at=erased_at)
    session.add(customer)
    session.flush()
    in_sql = session.execute(
        select(Customer.id).where(Customer.id == customer.id, linkable_clause())  # type: ignore[call-overload]
    ).all()
    assert bool(in_sql) is linkable
    assert is_linkable(status, basis, erased_at) is linkable
    assert (not_linkable_reason(status, basis, erased_at) is None) is linkable


def test_answers_and_weights_ignore_a_customer_without_consent_basis(db: tuple[Session, Scenario]) -> None:
    """answer_sql.link_subquery used to check only consent_status and erased_at; now it is the shared rule."""
    session, sc = db
    anna, ben = sc.customers["anna"], sc.customers["ben"]
    anna.consent_basis = None  # consent "granted" but no legal basis recorded
    session.add(anna)
    session.flush()

    linked = dict(session.execute(select(link_subquery())).all())  # type: ignore[arg-type]
    assert sc.identities["anna"].id not in linked
    assert linked[sc.identities["ben"].id] == ben.id

    rows = post_rows(AnswerFilter(period=W47), session.get_bind().dialect.name)
    segments = {iid: seg for iid, seg in session.execute(select(rows.c.identity_id, rows.c.segment)).all()}
    assert segments[sc.identities["anna"].id] == "prospect"
    assert segments[sc.identities["ben"].id] == "A"

    weights = identity_weights(session, domain_config.weight_config(Settings()))
    assert sc.identities["anna"].id not in weights and sc.identities["ben"].id in weights
