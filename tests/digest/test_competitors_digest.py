"""The digest's competitor section (issue 17, part 6): the digest week's share of voice per brand, its change, n."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.core.settings import Settings
from resonanz.digest import build_digest
from resonanz.digest.mailer import plain_text
from tests.answers.competitor_world import BRIX, RL, build_world
from tests.answers.factory import WEEK, Factory


def test_the_digest_compares_the_week_per_brand(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine, expire_on_commit=False) as session:
        build_world(session)
    digest = build_digest(sqlite_engine, Settings(), WEEK)
    s = digest.summary
    assert s["posts"] == 2  # the own brand's numbers leave the competitors out
    rows = {r["brand"]: r for r in s["competitors"]}
    assert [r["brand"] for r in s["competitors"]] == [None, RL, BRIX]
    assert (rows[RL]["posts"], rows[RL]["share"]) == (3, pytest.approx(0.5))
    assert rows[None]["share_weighted"] == pytest.approx(5.5 / 12)
    assert rows[RL]["share_change_weighted"] == pytest.approx(0.5)  # no Röstlicht post the week before
    assert rows[BRIX]["net_weighted"] == pytest.approx(-1.0)
    html = digest.content_html
    section = html.split('id="competitors"', 1)[1].split("</table>", 1)[0]
    assert "Eigene Marke" in section and RL in section and "+50,0 Pp." in section
    assert "Wettbewerb: Stimmenanteil dieser Woche" in html
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 4  # + the share-of-voice chart
    text = plain_text(digest)
    assert f"{RL}: 50 % Stimmenanteil, netto +0,75, 3 Beiträge" in text
    assert "Eigene Marke: 46 % Stimmenanteil, netto -0,82, 2 Beiträge" in text


def test_without_competitors_the_digest_has_no_such_section(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        f = Factory(session)
        f.post(f.identity("@solo@social.example"), "solo", sentiment="positive")
        session.commit()
    digest = build_digest(sqlite_engine, Settings(), WEEK)
    assert digest.summary["competitors"] is None and 'id="competitors"' not in digest.content_html
    assert "Wettbewerb" not in plain_text(digest)
