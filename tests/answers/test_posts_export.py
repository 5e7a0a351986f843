"""Answers down to the posts (issue 17, part 3): ``posts_behind`` lists exactly the posts an answer counts,
heaviest first, a page at a time; CSV/XLSX exports carry author, customer, class, value, weight, sentiment,
aspects, flags and link, with formula prefixes neutralised; ``resonanz ask --posts`` and ``--format csv|xlsx``."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session
from typer.testing import CliRunner

from resonanz.answers.ask import AnswerFilter, ask
from resonanz.answers.posts import POST_COLUMNS, posts_behind, posts_csv, posts_xlsx
from resonanz.cli.main import app
from resonanz.core.periods import iso_week
from resonanz.core.settings import reset_settings_cache
from store.db import open_engine
from tests.answers.factory import MONDAY, WEEK, Factory, Scenario, build_scenario

runner = CliRunner()
KEYS = [key for key, _label in POST_COLUMNS]
FILTERS = [
    {},
    {"classes": ["A"]},
    {"topics": ["preis"]},  # case-insensitive, like ask
    {"classes": ["prospect"], "platforms": ["bluesky"]},
    {"loyal": True},
]


@pytest.mark.parametrize("extra", FILTERS, ids=lambda e: ",".join(e) or "all")
def test_the_posts_are_exactly_the_ones_the_answer_counts(db: tuple[Session, Scenario], extra: dict) -> None:  # type: ignore[type-arg]
    session, _sc = db
    flt = AnswerFilter(period=iso_week(WEEK), **extra)
    answer = ask(session, flt, with_pareto=False)
    page = posts_behind(session, flt, limit=None)
    assert page.total == len(page.posts) == answer.current.posts
    assert sum(p.weight for p in page.posts) == pytest.approx(answer.current.weight)
    negative = sum(p.weight for p in page.posts if p.sentiment == "negative")
    assert negative / answer.current.weight == pytest.approx(answer.current.negative_share_weighted)
    assert len({p.post_id for p in page.posts}) == page.total  # each post once (the latest score only)
    weights = [p.weight for p in page.posts]
    assert weights == sorted(weights, reverse=True)  # heaviest first


def test_each_post_carries_who_what_and_why(db: tuple[Session, Scenario]) -> None:
    session, sc = db
    page = posts_behind(session, AnswerFilter(period=iso_week(WEEK), classes=["A"]), limit=None)
    anna1 = next(p for p in page.posts if p.post_id == sc.posts["anna1"].id)
    assert (anna1.customer, anna1.crm_id, anna1.segment) == ("Anna Amsel", sc.customers["anna"].crm_id, "A")
    assert anna1.revenue == 8000.0 and anna1.weight == 5.0 and anna1.sentiment == "negative"
    assert [t for t, _p in anna1.aspects] == ["Lieferung"] and anna1.flags == ["complaint"]
    assert anna1.url == sc.posts["anna1"].url and anna1.item_id == sc.items["anna1"].id
    anna2 = next(p for p in page.posts if p.post_id == sc.posts["anna2"].id)
    assert anna2.sentiment == "negative"  # the latest score, not the old model's positive one


def test_pages_add_up_to_the_whole_list(db: tuple[Session, Scenario]) -> None:
    session, _sc = db
    flt = AnswerFilter(period=iso_week(WEEK))
    whole = [p.post_id for p in posts_behind(session, flt, limit=None).posts]
    first = posts_behind(session, flt, limit=4)
    assert (first.total, first.pages, first.page) == (len(whole), -(-len(whole) // 4), 1)
    paged = [p.post_id for i in range(first.pages) for p in posts_behind(session, flt, limit=4, offset=4 * i).posts]
    assert paged == whole


def _evil_post(session: Session) -> int:
    f = Factory(session)
    ident = f.identity("=cmd|' /C calc'!A0")
    post = f.post(ident, '=HYPERLINK("http://evil.example","klick")\x0b', MONDAY + timedelta(days=1), topics=["-2+3"])
    session.commit()
    assert post.id is not None
    return post.id


def test_csv_export_has_the_columns_and_neutralises_formulas(db: tuple[Session, Scenario]) -> None:
    session, _sc = db
    evil = _evil_post(session)
    page = posts_behind(session, AnswerFilter(period=iso_week(WEEK)), limit=None)
    rows = list(csv.DictReader(io.StringIO(posts_csv(page.posts))))
    assert list(rows[0]) == KEYS and len(rows) == page.total
    assert [float(r["weight"]) for r in rows] == [p.weight for p in page.posts]
    bad = next(r for r in rows if r["post_id"] == str(evil))
    assert bad["text"].startswith("'=HYPERLINK") and bad["author"].startswith("'=cmd")
    assert bad["aspects"].startswith("'-2+3")
    for row in rows:  # no cell a spreadsheet would run
        assert not any(v.lstrip(" ").startswith(("=", "+", "-", "@")) for k, v in row.items() if k != "weight")


def test_xlsx_export_stores_text_as_text(db: tuple[Session, Scenario]) -> None:
    session, _sc = db
    evil = _evil_post(session)
    flt = AnswerFilter(period=iso_week(WEEK))
    page = posts_behind(session, flt, limit=None)
    data = posts_xlsx(page.posts, summary=[["section", "name", "metric", "value"], ["summary", "current", "posts", 1]])
    book = load_workbook(io.BytesIO(data))
    posts, numbers = book.worksheets
    assert posts.max_column == len(KEYS) and posts.max_row == page.total + 1
    assert numbers.max_row == 2 and numbers.cell(2, 4).value == 1
    column = {key: i + 1 for i, key in enumerate(KEYS)}
    row = next(r for r in range(2, posts.max_row + 1) if posts.cell(r, column["post_id"]).value == evil)
    text = posts.cell(row, column["text"])
    assert text.data_type == "s" and str(text.value).startswith("'=HYPERLINK") and "\x0b" not in str(text.value)
    assert posts.cell(row, column["weight"]).value == pytest.approx(0.5)  # numbers stay numbers


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = open_engine(url)
    with Session(engine) as session:
        build_scenario(session)
    engine.dispose()
    monkeypatch.setenv("RESONANZ_DATABASE_URL", url)
    reset_settings_cache()
    return url


def test_cli_lists_posts_page_by_page(db_url: str) -> None:
    whole = runner.invoke(app, ["ask", "--week", WEEK, "--posts", "--format", "json", "--limit", "500"])
    assert whole.exit_code == 0, whole.output
    data = json.loads(whole.stdout)
    ids = [p["post_id"] for p in data["posts"]["posts"]]
    assert data["posts"]["total"] == data["current"]["posts"] == len(ids)
    second = json.loads(runner.invoke(app, ["ask", "--week", WEEK, "--posts", "-f", "json", "--limit", "3",
                                            "--page", "2"]).stdout)["posts"]  # fmt: skip
    assert [p["post_id"] for p in second["posts"]] == ids[3:6] and second["page"] == 2
    table = runner.invoke(app, ["ask", "--week", WEEK, "--class", "A", "--posts", "--limit", "2"])
    assert table.exit_code == 0, table.output
    assert "Die Lieferung kam schon wieder zu spät!" in table.stdout or "Viel zu teuer" in table.stdout
    assert "--page 2" in table.stdout  # 3 posts, 2 shown: how to see the rest


def test_cli_exports_all_posts_as_csv_and_xlsx(db_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "--week", WEEK, "--class", "A", "--posts", "--format", "csv", "--limit", "1"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == KEYS and len(rows) == 3 and {r["class"] for r in rows} == {"A"}  # all, not a page
    assert runner.invoke(app, ["ask", "--week", WEEK, "--format", "xlsx"]).exit_code == 2  # needs --output
    out = tmp_path / "antworten.xlsx"
    result = runner.invoke(app, ["ask", "--week", WEEK, "--class", "A", "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).worksheets[0]
    assert sheet.max_row == 4 and sheet.max_column == len(KEYS)
    numbers = load_workbook(out).worksheets[1]
    found = {(r[0], r[1], r[2]): r[3] for r in numbers.iter_rows(min_row=2, values_only=True)}
    assert found[("summary", "current", "posts")] == 3
    assert found[("summary", "current", "n_eff")] == pytest.approx(1.8)  # anna 10, ben 5: 225 / 125
