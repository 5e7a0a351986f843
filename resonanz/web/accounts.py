"""Users of the web app: roles, argon2 password hashes, authentication."""

from __future__ import annotations

import logging
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from resonanz.core.errors import NotFoundError, UserError
from resonanz.core.i18n import _
from resonanz.web.sessions import hash_slots, revoke_user_sessions
from store.models import User

log = logging.getLogger(__name__)

ROLES = ("community_manager", "analyst", "admin")
CAN_ACT = frozenset({"community_manager", "admin"})
"""Roles that may work the queue and decide links (analysts only read)."""
MIN_PASSWORD = 10
_NAME_RE = re.compile(r"^[A-Za-z0-9._@-]{2,100}$")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("resonanz-timing-equaliser")


def hash_password(password: str) -> str:
    with hash_slots:
        return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(_("the password is too short; use at least {n} characters").format(n=MIN_PASSWORD))


def add_user(session: Session, username: str, password: str, role: str) -> User:
    if role not in ROLES:
        raise UserError(_("unknown role {role!r}; use one of {roles}").format(role=role, roles=", ".join(ROLES)))
    if not _NAME_RE.match(username):
        raise UserError(
            _("the user name {name!r} is not allowed; use 2-100 letters, digits, '.', '_', '-', '@'").format(
                name=username
            )
        )
    check_password_rules(password)
    if session.exec(select(User).where(User.username == username)).first():
        raise UserError(_("a user named {name!r} already exists; pick another name").format(name=username))
    user = User(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    log.info("user %s added with role %s", username, role)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.username))))


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFoundError(_("no user named {name!r}; see `resonanz users list`").format(name=username))
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    user = get_user(session, username)
    user.active = active
    session.add(user)
    if not active and user.id is not None:
        revoke_user_sessions(session, user.id)
    return user


def set_role(session: Session, username: str, role: str) -> User:
    if role not in ROLES:
        raise UserError(_("unknown role {role!r}; use one of {roles}").format(role=role, roles=", ".join(ROLES)))
    user = get_user(session, username)
    if user.role != role and user.id is not None:
        revoke_user_sessions(session, user.id)  # the new role applies from the next login
    user.role = role
    session.add(user)
    return user


def set_password(session: Session, username: str, password: str) -> User:
    check_password_rules(password)
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    session.add(user)
    if user.id is not None:
        revoke_user_sessions(session, user.id)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else ``None`` (same work either way)."""
    user = session.exec(select(User).where(User.username == username)).first()
    try:
        with hash_slots:  # bounded: a login flood queues instead of allocating argon2 memory per attempt
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    return user
