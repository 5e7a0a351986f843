"""Sessions that end and logins that cannot be guessed at speed (issue 13)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from resonanz.web.accounts import set_password, set_role
from resonanz.web.sessions import MAX_FAILS_ACCOUNT, MAX_FAILS_ADDRESS, LoginThrottle
from store.models import User
from tests.web.conftest import PASSWORD, csrf_of, login


def _try(client: TestClient, username: str, password: str) -> int:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}).status_code


def test_a_cookie_copied_before_logout_is_refused_after_it(app: FastAPI, users: dict[str, User]) -> None:
    with TestClient(app, follow_redirects=False) as browser:
        token = login(browser, "ada")
        stolen = dict(browser.cookies)
        assert browser.get("/admin/users").status_code == 200
        browser.post("/logout", data={"csrf_token": token})
    with TestClient(app, cookies=stolen, follow_redirects=False) as replay:
        response = replay.get("/admin/users")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_role_and_password_changes_end_the_users_sessions(
    app: FastAPI, users: dict[str, User], session: Session
) -> None:
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, "cem")
        assert browser.get("/queue", follow_redirects=False).status_code == 200
        set_role(session, "cem", "analyst")
        session.commit()
        assert browser.get("/queue", follow_redirects=False).status_code == 303  # log in again for the new role
        login(browser, "cem")
        set_password(session, "cem", "another long password")
        session.commit()
        assert browser.get("/queue", follow_redirects=False).status_code == 303


def test_wrong_passwords_are_throttled_per_account(client: TestClient, users: dict[str, User]) -> None:
    codes = [_try(client, "carla", f"wrong {i}") for i in range(MAX_FAILS_ACCOUNT)]
    assert codes == [401] * MAX_FAILS_ACCOUNT
    assert _try(client, "carla", PASSWORD) == 429  # even the right password waits: no oracle for guessers
    assert (
        "Zu viele fehlgeschlagene Anmeldungen"
        in client.post(
            "/login", data={"username": "carla", "password": PASSWORD, "csrf_token": csrf_of(client.get("/login").text)}
        ).text
    )
    assert _try(client, "anton", PASSWORD) == 303  # another account from the same address still works


def test_the_throttle_window_by_hand() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for i in range(MAX_FAILS_ADDRESS):
        throttle.failed(f"user{i}", "10.0.0.1")  # many accounts, one address
    assert throttle.retry_after("fresh-user", "10.0.0.1") > 0 and throttle.retry_after("fresh-user", "10.0.0.2") == 0
    now[0] = 15 * 60 + 1  # the window moved on
    assert throttle.retry_after("fresh-user", "10.0.0.1") == 0
    for _ in range(MAX_FAILS_ACCOUNT):
        throttle.failed("bob", "10.0.0.3")
    throttle.succeeded("bob")
    assert throttle.retry_after("bob", "10.0.0.4") == 0
