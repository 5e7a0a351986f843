"""Extreme parameters get a 4xx or an error on the page, never a 500 (issue 13)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from resonanz.core.errors import InvalidFilterError
from resonanz.core.periods import iso_week, parse_moment
from tests.answers.factory import Scenario
from tests.web.conftest import login

URLS = [
    "/queue/99999999999999999999",
    "/digests/99999999999999999999",
    "/ask?week=0001-W01",
    "/ask?since=0001-01-01",
    "/ask?until=9999-12-31",
    "/dashboard?week=0001-W01",
    "/dashboard?week=9999-W52",
    "/queue?page=99999999999999999999",
    "/ask?since=2026-13-45",
    "/ask?format=csv&week=0001-W01",
]


def test_extreme_parameters_never_give_500(client: TestClient, scenario: Scenario) -> None:
    login(client, "ada")
    codes = {url: client.get(url).status_code for url in URLS}
    assert all(code < 500 for code in codes.values()), codes
    assert codes["/queue/99999999999999999999"] == 400 and codes["/dashboard?week=0001-W01"] == 400


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1899-12-31T23:00:00"])
def test_periods_outside_the_reported_years_are_refused(value: str) -> None:
    with pytest.raises(InvalidFilterError, match="1900-2100"):
        parse_moment(value)
    with pytest.raises(InvalidFilterError, match="1900-2100"):
        iso_week(f"{value[:4]}-W10")
