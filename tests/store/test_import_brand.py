"""``resonanz import posts --brand`` and a ``brand`` column (issue 17, leftover 2): imported posts can be a
competitor's; unknown brands are refused with the allowed ones (the import for ``--brand``, the row for a cell)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session, col
from typer.testing import CliRunner

from resonanz.answers.sql import brand_of_post
from resonanz.cli.main import app
from resonanz.core.tables import POST
from store.db import open_engine
from store.models import Post, Source

runner = CliRunner()
HEADER = "platform,external_id,text,created_at,author_account_id,brand\n"
RL, BRIX = "Röstlicht", "Brix Kaffeehafen"


@pytest.fixture
def tagged(db_url: str) -> str:
    """Two competitors tagged on sources, and an untagged (own brand) source that collected post m-9."""
    engine = open_engine(db_url)
    with Session(engine) as session:
        own = Source(name="eigen", platform="mastodon")
        session.add_all([own, Source(name="rl-suche", platform="mastodon", brand=RL),
                         Source(name="brix-suche", platform="bluesky", brand=BRIX)])  # fmt: skip
        session.flush()
        session.add(Post(platform="mastodon", external_id="m-9", text="gesammelt", source_id=own.id,
                         created_at=datetime(2026, 11, 16, 9, tzinfo=UTC)))  # fmt: skip
        session.commit()
    engine.dispose()
    return db_url


def brands(db_url: str) -> dict[str, str | None]:
    """external id -> the brand the answers count the post for (``None``: the own brand)."""
    engine = open_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(POST.c.external_id, brand_of_post())).all()
    engine.dispose()
    return {str(ext): brand for ext, brand in rows}


def write(tmp_path: Path, *rows: str, name: str = "posts.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"mastodon,{r},2026-11-16T10:00:00Z,acc-1,\n" for r in rows), encoding="utf-8")
    return path


def test_brand_option_imports_a_competitors_posts(tagged: str, tmp_path: Path) -> None:
    path = write(tmp_path, "m-1,Röstlicht liefert nie pünktlich", "m-2,Röstlicht schmeckt")
    result = runner.invoke(app, ["import", "posts", str(path), "--brand", "röstlicht"])  # the tag's spelling wins
    assert result.exit_code == 0, result.output
    assert brands(tagged) == {"m-9": None, "m-1": RL, "m-2": RL}
    engine = open_engine(tagged)
    with Session(engine) as session:
        source = session.execute(select(Source).where(col(Source.platform) == "import")).scalars().one()
        assert (source.brand, source.enabled) == (RL, False)  # never collected
    engine.dispose()
    again = runner.invoke(app, ["import", "posts", str(write(tmp_path, "m-3,noch einer")), "--brand", RL])
    assert again.exit_code == 0, again.output
    assert brands(tagged)["m-3"] == RL and len(set(brands(tagged).values())) == 2  # one import source per brand


def test_without_brand_the_posts_are_the_own_brands(tagged: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "posts", str(write(tmp_path, "m-1,Lieferung kam nicht"))])
    assert result.exit_code == 0, result.output
    assert brands(tagged) == {"m-9": None, "m-1": None}


def test_an_unknown_brand_option_is_refused_in_german_with_the_allowed_ones(tagged: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "posts", str(write(tmp_path, "m-1,x")), "--brand", "Kaffeekönig"])
    assert result.exit_code != 0
    assert "unbekannte Marke 'Kaffeekönig'" in result.output
    assert f"{BRIX}, {RL}, „eigene Marke“" in result.output and "resonanz sources tag" in result.output
    assert brands(tagged) == {"m-9": None}  # nothing was imported


def test_the_brand_option_explains_when_no_competitor_is_tagged(db_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "posts", str(write(tmp_path, "m-1,x")), "--brand", RL])
    assert result.exit_code != 0
    assert "noch keine Quelle mit einem Wettbewerber getaggt" in result.output


def test_a_brand_column_decides_per_row_and_bad_cells_are_rejected_per_row(tagged: str, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        HEADER
        + "mastodon,m-1,ohne Angabe,2026-11-16T10:00:00Z,acc-1,\n"  # line 2: the file's brand (--brand)
        + f"mastodon,m-2,Brix ist laut,2026-11-16T10:00:00Z,acc-1,{BRIX}\n"
        + "mastodon,m-3,klein geschrieben,2026-11-16T10:00:00Z,acc-1,brix kaffeehafen\n"
        + "mastodon,m-4,wer ist das,2026-11-16T10:00:00Z,acc-1,Kaffeekönig\n"  # line 5: refused
        + "mastodon,m-5,unser Laden,2026-11-16T10:00:00Z,acc-1,eigene Marke\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", "posts", str(path), "--brand", RL])
    assert result.exit_code == 1  # a rejected row, as for any other bad value
    assert f"{path}:5: brand: unbekannte Marke 'Kaffeekönig'" in result.output
    assert "4 neu" in result.output or "4 new" in result.output
    assert brands(tagged) == {"m-9": None, "m-1": RL, "m-2": BRIX, "m-3": BRIX, "m-5": None}


def test_a_stated_brand_moves_imported_posts_but_never_collected_ones(tagged: str, tmp_path: Path) -> None:
    path = write(tmp_path, "m-1,erst eigen", "m-9,gesammelt")
    assert runner.invoke(app, ["import", "posts", str(path)]).exit_code == 0
    assert brands(tagged) == {"m-9": None, "m-1": None}
    assert runner.invoke(app, ["import", "posts", str(path), "--brand", BRIX]).exit_code == 0
    assert brands(tagged) == {"m-9": None, "m-1": BRIX}  # m-9 stays with the source that collected it
    assert runner.invoke(app, ["import", "posts", str(path), "--brand", RL]).exit_code == 0
    assert brands(tagged)["m-1"] == RL
    assert runner.invoke(app, ["import", "posts", str(path)]).exit_code == 0  # no brand stated: stays
    assert brands(tagged)["m-1"] == RL
    assert runner.invoke(app, ["import", "posts", str(path), "--brand", "eigene Marke"]).exit_code == 0
    assert brands(tagged) == {"m-9": None, "m-1": None}
