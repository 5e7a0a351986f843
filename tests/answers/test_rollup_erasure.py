"""Erasing a customer (GDPR Art. 17) leaves no trace of them in the answers' rollups: the days of their accounts are
recomputed in the same run (its re-weighting marks them), so no pack keeps their customer id as a voice; on SQLite
and PostgreSQL."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.answers import packs, rollup
from resonanz.core.settings import Settings
from resonanz.pipeline.erasure import forget_customer
from tests.answers.factory import build_scenario


def _voices(session: Session) -> set[int]:
    found: set[int] = set()
    query = select(rollup.PACK.c.kind, rollup.PACK.c.vocab, rollup.PACK.c.data).where(
        rollup.PACK.c.kind == rollup.ACCOUNTS
    )
    for kind, vocab, data in session.execute(query):
        found.update(np.unique(packs.unpack(kind, vocab, data).rows["voice_key"]).tolist())
    return found


def test_an_erased_customer_is_gone_from_the_packs(engine: Engine) -> None:
    with Session(engine) as session:
        scenario = build_scenario(session)
        session.commit()
        rollup.rebuild(session)
        session.commit()
        anna = scenario.customers["anna"]
        assert anna.id is not None
        anna_id, crm_id = anna.id, anna.crm_id
        assert anna_id in _voices(session)
    forget_customer(engine, crm_id, Settings())
    with Session(engine) as session:
        left = _voices(session)
    assert anna_id not in left
    assert left  # the other customers and the prospects are still there
