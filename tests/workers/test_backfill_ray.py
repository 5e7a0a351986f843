"""``resonanz backfill`` (issue 18, part 5): a local Ray with 2 CPUs and 2 actors scores the stored posts of a real
PostgreSQL range by range; one actor dies right after writing a range and another range raises after writing, and
still every post ends up with exactly one score, and a second run finds nothing to do. Without Ray: the plan, what
the actors are told, the model version check, the refusal on SQLite and the message without Ray installed."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from resonanz.backfill import (
    BackfillModelMismatchError,
    BackfillReport,
    RangeScorer,
    RayMissingError,
    actor_environment,
    import_ray,
    run_backfill,
    unscored_ranges,
)
from resonanz.backfill.driver import tally
from resonanz.cli.main import app as cli
from resonanz.core.settings import Settings, get_settings, reset_settings_cache
from resonanz.pipeline.scoring import shared_analyzer
from store.db import open_engine, session_scope
from store.models import Score
from tests.workers.fleet import seed_posts

runner = CliRunner()

POSTS = 200
CHUNK = 25
CHEAP = {
    # the sentiment model alone, one thread per actor (as the worker tests): two actors load it at once on 2 cores
    "RESONANZ_NLP__OFFENSIVE_MODEL": "",
    "RESONANZ_NLP__EMBEDDING_MODEL": "",
    "RESONANZ_NLP__FLAG_MODEL": "",
    "RESONANZ_NLP__THREADS": "1",
}
FAULTS = "RESONANZ_TEST_FAULTS"
"""A directory for :class:`FailsOnce`'s marker files (forwarded to the actors: it starts with ``RESONANZ_``)."""


class FailsOnce(RangeScorer):
    """Fails right after a range is written, twice in the whole run: the first call to get there kills its actor's
    process (``died.json``), the next one raises (``raised.json``); each marker holds what that call had scored."""

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        out = super().__call__(batch)
        for name in ("died", "raised"):
            try:
                fd = os.open(Path(os.environ[FAULTS]) / f"{name}.json", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                continue
            os.write(fd, json.dumps(out).encode())
            os.close(fd)
            if name == "died":
                os._exit(1)
            raise RuntimeError("Testfehler nach dem Schreiben des Bereichs")
        return out


@pytest.fixture(scope="module")
def local_ray() -> Iterator[ModuleType]:
    """One local Ray with 2 CPUs for the module; :func:`run_backfill` joins it instead of starting its own."""
    ray = import_ray()
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


@pytest.fixture
def cheap_nlp(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CHEAP.items():
        monkeypatch.setenv(key, value)
    reset_settings_cache()


def _scores(engine: Engine) -> tuple[int, int, int]:
    """Score rows, posts with a score, review items."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM score")).scalar_one()
        posts = conn.execute(text("SELECT count(DISTINCT post_id) FROM score")).scalar_one()
        items = conn.execute(text("SELECT count(*) FROM review_item")).scalar_one()
    return int(rows), int(posts), int(items)


# -- on Ray ---------------------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_two_actors_score_every_post_once_although_ranges_fail_after_writing(
    local_ray: ModuleType, pg_url: str, cheap_nlp: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_engine(pg_url)
    seed_posts(engine, POSTS)
    monkeypatch.setenv("RESONANZ_DATABASE_URL", pg_url)  # the driver passes it on; Ray was started without it
    monkeypatch.setenv(FAULTS, str(tmp_path))
    reset_settings_cache()
    settings = get_settings()
    analyzer = shared_analyzer(settings)

    report = run_backfill(engine, settings, actors=2, cpus_per_actor=1, chunk=CHUNK, progress=False,
                          analyzer=analyzer, scorer=FailsOnce)  # fmt: skip

    died, raised = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("died", "raised"))
    rows, posts, _items = _scores(engine)
    assert (rows, posts) == (POSTS, POSTS)  # nothing lost, nothing twice
    assert report.ranges == report.done == -(-POSTS // CHUNK) and report.planned == POSTS
    assert (report.scored, report.left) == (POSTS, 0)
    for lost in (died, raised):  # each had written its whole range before it failed ...
        assert lost["scored"] == lost["posts"] and lost["scored"][0] > 0
    # ... so their counts never came back: the ranges sent again found nothing left to score
    assert report.reported <= POSTS - died["scored"][0] - raised["scored"][0]
    with engine.connect() as conn:
        versions = set(conn.execute(text("SELECT DISTINCT model_version FROM score")).scalars())
    assert versions == {analyzer.version}

    # the same again, through the command: the plan is empty, nothing starts, nothing is written
    monkeypatch.setattr("resonanz.backfill.driver.build_analyzer", lambda s: shared_analyzer(s))  # loaded already
    result = runner.invoke(cli, ["backfill", "--actors", "2", "--chunk", str(CHUNK)])
    assert result.exit_code == 0, result.output
    assert "Nichts zu bewerten" in result.output and analyzer.version in result.output
    assert _scores(engine)[:2] == (rows, posts)
    engine.dispose()


# -- without Ray ----------------------------------------------------------------------------------------------------


def test_the_plan_holds_exactly_the_unscored_posts_in_ranges_of_chunk_posts(sqlite_engine: Engine) -> None:
    seed_posts(sqlite_engine, 60)
    with sqlite_engine.connect() as conn:
        ids = [int(i) for i in conn.execute(text("SELECT id FROM post ORDER BY id")).scalars()]
    done = set(ids[5:12]) | set(ids[30:31])
    with session_scope(sqlite_engine) as session:  # scored by this model, and one by another version
        session.add_all(Score(post_id=i, model_name="m", model_version="1", sentiment="neutral") for i in done)
        session.add(Score(post_id=ids[0], model_name="m", model_version="0", sentiment="neutral"))
    todo = [i for i in ids if i not in done]
    for page in (10, 1000):  # pages of one range (10 -> 7 ids) and all in one
        ranges = unscored_ranges(sqlite_engine, "m", "1", chunk=7, page=page)
        inside = [[i for i in todo if r.first_id <= i <= r.last_id] for r in ranges]
        assert [i for part in inside for i in part] == todo  # every unscored post once, in order
        assert [len(part) for part in inside] == [r.posts for r in ranges]
        assert all(1 <= r.posts <= 7 for r in ranges) and sum(r.posts for r in ranges) == len(todo)
        assert all(a.last_id < b.first_id for a, b in zip(ranges, ranges[1:], strict=False))
    limited = unscored_ranges(sqlite_engine, "m", "1", chunk=7, limit=20, page=10)
    assert sum(r.posts for r in limited) == 20 and limited[-1].last_id == todo[19]


def test_actors_get_the_database_url_absolute_paths_and_their_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "resonanz.toml"
    config.write_text("[nlp]\nbatch_tokens = 2048\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESONANZ_CONFIG", "resonanz.toml")  # relative to the driver's working directory
    monkeypatch.setenv("RESONANZ_DATA_DIR", "daten")
    url = "postgresql://nutzer:geheim@db.example:5432/resonanz"
    env = actor_environment(Settings(database_url=url), threads=3)
    assert env["RESONANZ_DATABASE_URL"] == url
    assert env["RESONANZ_CONFIG"] == str(config.resolve()) and env["RESONANZ_DATA_DIR"] == str(tmp_path / "daten")
    assert env["RESONANZ_NLP__THREADS"] == "3"
    assert not {key for key in env if not key.startswith("RESONANZ_")}
    monkeypatch.setenv("RESONANZ_NLP__THREADS", "1")  # set by the user: kept
    assert actor_environment(Settings(database_url=url), threads=3)["RESONANZ_NLP__THREADS"] == "1"


def test_an_actor_with_another_model_version_scores_nothing_and_the_driver_says_why(
    db_url: str, cheap_nlp: None
) -> None:
    engine = open_engine(db_url)
    seed_posts(engine, 5)
    actor = RangeScorer(model_version="0000-anders", chunk=CHUNK)  # in-process: the class is plain Python
    rows = actor({"first_id": [1], "last_id": [5], "posts": [5]})
    assert rows["scored"] == [0] and _scores(engine)[0] == 0
    report = BackfillReport(model_name="m", model_version="0000-anders", actors=1)
    with pytest.raises(BackfillModelMismatchError) as caught:
        list(tally(report, [dict(zip(rows, values, strict=True)) for values in zip(*rows.values(), strict=True)]))
    message = str(caught.value)
    assert "0000-anders" in message and actor.analyzer.version in message and "[nlp]" in message
    engine.dispose()


def test_sqlite_is_refused_before_anything_loads(db_url: str) -> None:
    result = runner.invoke(cli, ["backfill", "--actors", "1"])
    assert result.exit_code == 2, result.output
    assert "braucht PostgreSQL" in result.output and "sqlite" in result.output and "resonanz score" in result.output


def test_without_ray_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    with pytest.raises(RayMissingError, match=r"resonanz\[cluster\]"):
        import_ray()


def test_the_command_line_starts_without_ray(tmp_path: Path) -> None:
    """Ray is imported when a backfill runs, not when ``resonanz`` starts or shows the command's help."""
    from tests.test_lazy_imports import imported

    code = "from resonanz.cli.main import app\ntry:\n    app(['backfill', '--help'])\nexcept SystemExit:\n    pass"
    assert imported(code, ("ray", "resonanz.backfill.driver"), tmp_path) == ["resonanz.backfill.driver"]
