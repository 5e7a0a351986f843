"""Property: no query parameter or path value makes a page answer 500 (issue 13, hypothesis)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.answers.factory import Scenario
from tests.web.conftest import login

TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["0001-W01", "9999-W52", "2026-W99", "0001-01-01", "9999-12-31", "2026-13-45", "-1", "0",
                     "99999999999999999999", "1e400", "NaN", "' OR 1=1 --", "<script>", "..%2f..%2f", "\x00", "all",
                     "me", "A", "prospect", "json", "csv"]),
)  # fmt: skip
PAGES = {
    "/queue": ["status", "severity", "class", "platform", "topic", "assignee", "page"],
    "/ask": ["class", "rfm", "loyal", "topic", "platform", "language", "since", "until", "week", "format"],
    "/dashboard": ["weeks", "week", "platform"],
    "/links": ["page"],
    "/digests": ["page"],
}
PATHS = ["/queue/{}", "/digests/{}", "/digests/{}/html"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_parameter_gives_a_server_error(client: TestClient, scenario: Scenario, data: st.DataObject) -> None:
    if not getattr(client, "fuzz_logged_in", False):  # hypothesis reuses the client across examples
        login(client, "ada")
        client.fuzz_logged_in = True  # type: ignore[attr-defined]
    page = data.draw(st.sampled_from(sorted(PAGES)))
    names = data.draw(st.lists(st.sampled_from(PAGES[page]), max_size=4))
    query = urlencode([(name, data.draw(TEXT)) for name in names])
    response = client.get(f"{page}?{query}")
    assert response.status_code < 500, (page, query, response.status_code)
    value = quote(str(data.draw(st.one_of(st.integers(), TEXT))), safe="")
    path = data.draw(st.sampled_from(PATHS)).format(value)
    assert client.get(path).status_code < 500, path
