"""Every route of the web app, fuzzed by schemathesis from the app's own OpenAPI description (issue 13).

The app serves HTML, so it publishes no schema; FastAPI still derives one from the routes' declared
parameters and forms (``app.openapi()``), and schemathesis generates requests from it: path ids, query
values and form bodies, valid and invalid. Each request is sent by a logged-in admin with the session's
CSRF token, so the generated values reach the handlers instead of bouncing off the login or the CSRF
check. The property: no request gives a server error (5xx). Logout and login are left out (they would
end the session the fuzzing runs in; they are covered in test_auth and test_sessions_security).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from resonanz.core.settings import Settings
from resonanz.web import create_app
from store.db import make_engine
from tests.answers.factory import Scenario
from tests.web.conftest import login

SPEC = create_app(Settings(), engine=make_engine("sqlite://")).openapi()
SPEC["paths"] = {path: ops for path, ops in SPEC["paths"].items() if path not in ("/login", "/logout")}
schema = schemathesis.openapi.from_dict(SPEC)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gives_a_server_error(case: Any, client: TestClient, scenario: Scenario) -> None:
    if not getattr(client, "fuzz_token", None):  # hypothesis reuses the fixtures across examples
        client.fuzz_token = login(client, "ada")  # type: ignore[attr-defined]
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = {**(kwargs.pop("headers", None) or {}), "X-CSRF-Token": client.fuzz_token}  # type: ignore[attr-defined]
    headers.pop("Cookie", None)
    kwargs.pop("cookies", None)
    response = client.request(**kwargs, headers=headers)
    assert response.status_code < 500, (case.method, case.formatted_path, kwargs, response.text[:500])
