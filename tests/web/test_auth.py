"""Login, sessions, roles and CSRF on every route."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select

from resonanz.core.settings import Settings, WebSettings
from resonanz.web import create_app
from resonanz.web.app import SESSION_COOKIE
from resonanz.web.deps import get_session
from store.models import ReviewEvent, ReviewItem, User
from tests.answers.factory import Scenario
from tests.web.conftest import PASSWORD, csrf_of, login

GET_ROUTES = [
    "/queue",
    "/queue/1",
    "/links",
    "/dashboard",
    "/ask",
    "/digests",
    "/digests/1",
    "/digests/1/html",
    "/admin/users",
]
QUEUE_POSTS = [
    ("/queue/1/assign", {"assignee": "carla"}),
    ("/queue/1/status", {"status": "resolved"}),
    ("/queue/1/note", {"note": "hallo"}),
    ("/queue/1/sentiment", {"sentiment": "positive"}),
    ("/queue/1/topic", {"topic": "Versand"}),
    ("/links/5/decide", {"decision": "confirmed", "item_id": "1"}),
]
ADMIN_POSTS = [
    ("/admin/users", {"username": "neu", "password": "long enough pw", "role": "analyst"}),
    ("/admin/users/cem/active", {"active": "0"}),
    ("/admin/users/cem/role", {"role": "admin"}),
]
ALL_POSTS = [*QUEUE_POSTS, *ADMIN_POSTS, ("/logout", {})]


@pytest.mark.parametrize("path", GET_ROUTES + ["/"])
def test_not_logged_in_redirects_to_login(client: TestClient, scenario: Scenario, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    if path != "/":
        assert response.headers["location"] == "/login?next=" + path
    else:
        assert client.get("/queue").headers["location"].startswith("/login")


@pytest.mark.parametrize(("path", "data"), ALL_POSTS)
def test_post_without_login_redirects_and_changes_nothing(
    client: TestClient, scenario: Scenario, session: Session, path: str, data: dict[str, str]
) -> None:
    token = csrf_of(client.get("/login").text)  # even with a valid anonymous CSRF token
    response = client.post(path, data=data | {"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert session.exec(select(ReviewEvent)).all() == []


def test_login_page_and_wrong_password(client: TestClient, users: dict[str, User]) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.text
    token = csrf_of(page.text)
    bad = client.post("/login", data={"username": "carla", "password": "nope", "csrf_token": token})
    assert bad.status_code == 401 and "Benutzername oder Passwort falsch" in bad.text
    unknown = client.post("/login", data={"username": "nobody", "password": PASSWORD, "csrf_token": token})
    assert unknown.status_code == 401


def test_login_needs_csrf(client: TestClient, users: dict[str, User]) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "carla", "password": PASSWORD})
    assert response.status_code == 403
    response = client.post("/login", data={"username": "carla", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403


def test_session_cookie_is_httponly_lax_and_not_secure_by_default(client: TestClient, users: dict[str, User]) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "carla", "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE) and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie.replace("samesite", "")


def test_secure_cookies_configurable(mem_engine, session: Session, users: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(web=WebSettings(secret_key=SecretStr("k" * 32), secure_cookies=True)), engine=mem_engine)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        token = csrf_of(client.get("/login").text)
        response = client.post("/login", data={"username": "carla", "password": PASSWORD, "csrf_token": token})
        assert "; secure" in response.headers["set-cookie"].lower()


def test_login_redirects_only_to_local_paths(client: TestClient, users: dict[str, User]) -> None:
    for target, expected in (
        ("/dashboard", "/dashboard"),
        ("//evil.example/x", "/queue"),
        ("https://evil.example", "/queue"),
    ):
        client.cookies.clear()
        token = csrf_of(client.get("/login").text)
        data = {"username": "carla", "password": PASSWORD, "csrf_token": token, "next": target}
        assert client.post("/login", data=data).headers["location"] == expected


def test_login_renews_session_and_logout_ends_it(client: TestClient, users: dict[str, User]) -> None:
    anonymous_token = csrf_of(client.get("/login").text)
    token = login(client, "carla")
    assert token != anonymous_token
    assert client.get("/queue").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/queue").status_code == 303


def test_tampered_cookie_is_ignored(client: TestClient, users: dict[str, User]) -> None:
    login(client, "carla")
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    payload, _, _signature = value.rpartition(".")
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, payload + ".forged-signature")
    assert client.get("/queue").status_code == 303
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value)
    assert client.get("/queue").status_code == 200


def test_deactivated_user_is_logged_out(client: TestClient, session: Session, users: dict[str, User]) -> None:
    login(client, "carla")
    users["carla"].active = False
    session.add(users["carla"])
    session.commit()
    assert client.get("/queue").status_code == 303
    token = csrf_of(client.get("/login").text)
    assert (
        client.post("/login", data={"username": "carla", "password": PASSWORD, "csrf_token": token}).status_code == 401
    )


@pytest.mark.parametrize(("path", "data"), ALL_POSTS)
def test_missing_or_wrong_csrf_is_403(
    client: TestClient, scenario: Scenario, session: Session, path: str, data: dict[str, str]
) -> None:
    login(client, "ada")  # the admin may do everything, so only the token decides
    assert client.post(path, data=data).status_code == 403
    assert client.post(path, data=data | {"csrf_token": "x" * 43}).status_code == 403
    assert session.exec(select(ReviewEvent)).all() == []
    assert session.get(ReviewItem, 1).status == "open"  # type: ignore[union-attr]
    assert client.get("/queue").status_code == 200  # still logged in


def test_csrf_token_of_another_session_is_rejected(app, client: TestClient, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    login(client, "carla")
    with TestClient(app, follow_redirects=False) as other:
        other_token = login(other, "cem")
    assert client.post("/queue/1/note", data={"note": "x", "csrf_token": other_token}).status_code == 403


@pytest.mark.parametrize(("path", "data"), QUEUE_POSTS)
def test_analyst_reads_but_cannot_act(
    client: TestClient, scenario: Scenario, session: Session, path: str, data: dict[str, str]
) -> None:
    token = login(client, "anton")
    assert client.get("/queue/1").status_code == 200
    response = client.post(path, data=data | {"csrf_token": token})
    assert response.status_code == 403
    assert "kann die Queue lesen, aber nicht bearbeiten" in response.text
    assert session.exec(select(ReviewEvent)).all() == []


def test_analyst_sees_no_action_forms(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")
    page = client.get("/queue/1").text
    assert 'action="/queue/1/status"' not in page and "nur Community-Manager:innen und Admins" in page
    assert 'action="/links/' not in client.get("/links").text


@pytest.mark.parametrize("who", ["carla", "anton"])
@pytest.mark.parametrize(("path", "data"), ADMIN_POSTS)
def test_only_admin_manages_users(
    client: TestClient, scenario: Scenario, session: Session, who: str, path: str, data: dict[str, str]
) -> None:
    token = login(client, who)
    assert client.get("/admin/users").status_code == 403
    assert client.post(path, data=data | {"csrf_token": token}).status_code == 403
    assert session.exec(select(User).where(User.username == "neu")).first() is None
    assert session.exec(select(User).where(User.username == "cem")).one().role == "community_manager"
    assert 'href="/admin/users"' not in client.get("/queue").text


def test_security_headers(client: TestClient, users: dict[str, User]) -> None:
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
