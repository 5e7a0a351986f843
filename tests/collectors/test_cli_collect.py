"""``resonanz sources``, ``collect`` and ``runs`` as a user runs them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from collectors.testing import FakeMastodon, LocalServer, make_account, make_status, snowflake
from resonanz.cli.main import app
from resonanz.pipeline.sources import parse_interval, parse_options

runner = CliRunner()


def test_parse_interval_and_options() -> None:
    assert [parse_interval(x) for x in ("900", "90s", "15m", "1h30m", "1d")] == [900, 90, 900, 5400, 86400]
    for bad in ("10s", "soon", "15x", ""):
        with pytest.raises(ValueError):
            parse_interval(bad)
    assert parse_options(["instance=mastodon.social", "replies=false", "max_threads=20"]) == {
        "instance": "mastodon.social", "replies": False, "max_threads": 20}  # fmt: skip
    with pytest.raises(ValueError, match="key=value"):
        parse_options(["oops"])


def test_sources_add_list_disable_remove(db_url: str) -> None:
    args = ["sources", "add", "mastodon", "brand", "-q", "#Brühwerk", "-o", "instance=social.example", "-i", "10m"]
    added = runner.invoke(app, args)
    assert added.exit_code == 0, added.output
    assert "added source brand (mastodon, every 600 s)" in added.output
    listed = runner.invoke(app, ["sources", "list"])
    assert "brand" in listed.output and "#Brühwerk" in listed.output and "600s" in listed.output
    assert "never" in listed.output
    assert runner.invoke(app, ["sources", "disable", "brand"]).exit_code == 0
    row = next(line for line in runner.invoke(app, ["sources", "list"]).output.splitlines() if "brand" in line)
    assert " no " in row
    removed = runner.invoke(app, ["sources", "remove", "brand", "--yes"])
    assert removed.exit_code == 0 and "0 posts kept" in removed.output
    assert "no sources yet" in runner.invoke(app, ["sources", "list"]).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sources", "add", "myspace", "x", "-q", "y"], "unknown platform 'myspace'"),
        (["sources", "add", "mastodon", "x", "-q", "#a"], "instance="),
        (["sources", "add", "rss", "x", "-q", "not-a-url"], "feed URL"),
        (["sources", "add", "rss", "x", "-q", "https://a.example/feed", "-i", "5s"], "minimum is 30 s"),
        (["sources", "remove", "ghost", "--yes"], "no source named 'ghost'"),
        (["runs", "--source", "ghost"], "no source named 'ghost'"),
    ],
)
def test_mistakes_are_explained_with_exit_code_2(db_url: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_duplicate_names_are_refused(db_url: str) -> None:
    args = ["sources", "add", "rss", "blog", "-q", "https://blog.example/feed/"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "exists already" in again.output


def test_collect_once_and_show_runs(db_url: str) -> None:
    now = datetime.now(UTC)
    anna = make_account("1", "anna", "mastodon.social")
    statuses = [make_status(snowflake(now - timedelta(minutes=i)), now - timedelta(minutes=i), f"<p>{i} #Brühwerk</p>",
                            anna, tags=["Brühwerk"]) for i in range(7)]  # fmt: skip
    with LocalServer(FakeMastodon(statuses)) as server:
        runner.invoke(app, ["sources", "add", "mastodon", "brand", "-q", "#Brühwerk", "-o", f"instance={server.url}"])
        result = runner.invoke(app, ["collect"])
        assert result.exit_code == 0, result.output
        row = next(line for line in result.output.splitlines() if "brand" in line and "ok" in line)
        assert row.split("│")[3].strip() == "7"  # fetched
        runs = runner.invoke(app, ["runs"])
        assert runs.exit_code == 0 and "brand" in runs.output and "ok" in runs.output
    failed = runner.invoke(app, ["collect", "brand"])  # the server is gone now
    assert failed.exit_code == 1
    assert "failed" in failed.output
    assert "no runs yet" not in runner.invoke(app, ["runs", "-s", "brand", "-n", "1"]).output
