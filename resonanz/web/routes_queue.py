"""The review queue: list, one item in context, and the actions on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from linker.identity.records import PENDING
from resonanz.answers.format import sentiment_label, status_label
from resonanz.core.errors import ActionError, UserError
from resonanz.core.i18n import N_, _, ngettext
from resonanz.core.messages import link_evidence
from resonanz.core.settings import Settings
from resonanz.review.actions import (
    add_note,
    assign,
    correct_flag,
    correct_sentiment,
    correct_topic,
    decide_queue_link,
    set_status,
)
from resonanz.review.corrections import SENTIMENTS
from resonanz.review.detail import item_detail, latest_value
from resonanz.review.queue import UNASSIGNED, QueueFilter, list_queue, queue_facets
from resonanz.review.statuses import ACTIVE_STATUSES, STATUSES
from resonanz.web.deps import acting_user, current_user, get_session, get_settings, page_cache
from resonanz.web.templating import flash, render, request_language
from store.models import Customer, IdentityLink, SocialIdentity, User

router = APIRouter(dependencies=[Depends(request_language)])
PER_PAGE = 25


def _clean(values: list[str]) -> list[str]:
    return [v for v in (v.strip() for v in values) if v]


@router.get("/")
def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue_page(
    request: Request,
    status: list[str] = Query(default=[]),
    severity: int | None = Query(default=None, ge=0, le=5),
    classes: list[str] = Query(default=[], alias="class"),
    platform: list[str] = Query(default=[]),
    topic: str = "",
    assignee: str = "",
    page: int = Query(default=1, ge=1),
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    statuses = _clean(status) or list(ACTIVE_STATUSES)
    if "all" in statuses:
        statuses = []
    who = user.username if assignee == "me" else assignee.strip() or None
    qf = QueueFilter(
        statuses=statuses,
        min_severity=severity,
        classes=_clean(classes),
        platforms=_clean(platform),
        topics=_clean([topic]),
        assignee=who,
        default_weight=settings.value.prospect_weight,
    )

    def build(holes: Mapping[str, Any]) -> Response:
        result = list_queue(session, qf, page=page, per_page=PER_PAGE)
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
        return render(
            request,
            "queue.html",
            result=result,
            qf=qf,
            statuses=STATUSES,
            facets=queue_facets(session),
            pager_query=urlencode(params),
            selected={
                "status": statuses,
                "class": qf.classes,
                "platform": qf.platforms,
                "topic": topic,
                "assignee": assignee,
                "severity": severity,
            },
            unassigned=UNASSIGNED,
            **holes,
        )

    return page_cache(request).render(request, session, ("queue", str(request.url.query), who), build)


@router.get("/queue/{item_id}")
def item_page(
    request: Request,
    item_id: int,
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:

    def build(holes: Mapping[str, Any]) -> Response:
        detail = item_detail(session, item_id, settings=settings)
        users = session.exec(select(User).where(col(User.active)).order_by(col(User.username))).all()
        return render(
            request,
            "item.html",
            d=detail,
            users=[u.username for u in users if u.role != "analyst"],
            statuses=STATUSES,
            sentiments=SENTIMENTS,
            **holes,
        )

    return page_cache(request).render(request, session, ("item", item_id), build)


ItemActionFn = Callable[[Session, int, str, str], object]
"""A review action: ``(session, item_id, value, actor)``."""


@dataclass(frozen=True)
class ItemAction:
    """A POST action on one queue item by an acting user (role and CSRF checked by :func:`acting_user`)."""

    request: Request
    item_id: int
    user: User
    session: Session

    def apply(self, action: ItemActionFn, value: str, done: str) -> Response:
        """Run ``action`` on the item as this user, commit, flash ``done`` (or the error) and go back to the item."""
        try:
            action(self.session, self.item_id, value, self.user.username)
            self.session.commit()
            flash(self.request, done, "ok")
        except (ActionError, UserError) as exc:
            self.session.rollback()
            flash(self.request, str(exc), "error")
        return RedirectResponse(f"/queue/{self.item_id}", status_code=303)


def item_action(
    request: Request,
    item_id: int,
    user: User = Depends(acting_user),
    session: Session = Depends(get_session),
) -> ItemAction:
    return ItemAction(request, item_id, user, session)


@router.post("/queue/{item_id}/assign")
def assign_item(assignee: str = Form(""), act: ItemAction = Depends(item_action)) -> Response:
    target = act.user.username if assignee == "me" else assignee
    return act.apply(assign, target, _("Assigned to {name}.").format(name=target) if target else _("Unassigned."))


@router.post("/queue/{item_id}/status")
def change_status(status: str = Form(...), act: ItemAction = Depends(item_action)) -> Response:
    return act.apply(set_status, status, _("Status set to {status}.").format(status=status_label(status)))


@router.post("/queue/{item_id}/note")
def note_item(note: str = Form(""), act: ItemAction = Depends(item_action)) -> Response:
    return act.apply(add_note, note, _("Note saved."))


@router.post("/queue/{item_id}/sentiment")
def fix_sentiment(sentiment: str = Form(...), act: ItemAction = Depends(item_action)) -> Response:
    done = _("Sentiment corrected to {sentiment}; saved as training feedback.").format(
        sentiment=sentiment_label(sentiment)
    )
    return act.apply(correct_sentiment, sentiment, done)


DONE = {
    ("topic", False): N_("Topic {value} added; counts from now on and as a training example."),
    ("topic", True): N_("Topic {value} removed; counts from now on and as a training example."),
    ("flag", False): N_("Flag {value} added; counts from now on and as a training example."),
    ("flag", True): N_("Flag {value} removed; counts from now on and as a training example."),
}


def _add_or_remove(act: ItemAction, correct: Callable[..., object], value: str, action: str, what: str) -> Response:
    """A topic or flag correction from the item page: ``action`` is ``add`` or ``remove``."""
    remove = action == "remove"
    done = _(DONE[what, remove]).format(value=value.strip())

    def run(session: Session, item_id: int, text: str, actor: str) -> object:
        return correct(session, item_id, text, actor, remove=remove)

    return act.apply(run, value, done)


@router.post("/queue/{item_id}/topic")
def fix_topic(topic: str = Form(""), action: str = Form("add"), act: ItemAction = Depends(item_action)) -> Response:
    return _add_or_remove(act, correct_topic, topic, action, "topic")


@router.post("/queue/{item_id}/flag")
def fix_flag(flag: str = Form(""), action: str = Form("add"), act: ItemAction = Depends(item_action)) -> Response:
    return _add_or_remove(act, correct_flag, flag, action, "flag")


@router.post("/links/{link_id}/decide")
def decide(
    request: Request,
    link_id: int,
    decision: str = Form(...),
    item_id: int | None = Form(None),
    user: User = Depends(acting_user),
    session: Session = Depends(get_session),
) -> Response:
    back = f"/queue/{item_id}" if item_id else "/links"
    try:
        outcome = decide_queue_link(session, link_id, decision, user.username, item_id)
        session.commit()
        others = len(outcome.rejected_others)
        also = (
            " " + ngettext("{n} other candidate of this identity rejected.",
                           "{n} other candidates of this identity rejected.", others).format(n=others)
            if others else ""
        )  # fmt: skip
        done = _("Link confirmed.") if outcome.link.status == "confirmed" else _("Link rejected.")
        flash(request, done + also, "ok")
    except ActionError as exc:
        session.rollback()
        flash(request, str(exc), "error")
    return RedirectResponse(back, status_code=303)


@router.get("/links")
def links_page(
    request: Request,
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
) -> Response:
    rows = session.exec(
        select(IdentityLink, SocialIdentity, Customer)
        .join(SocialIdentity, col(SocialIdentity.id) == IdentityLink.identity_id)
        .join(Customer, col(Customer.id) == IdentityLink.customer_id)
        .where(IdentityLink.status == PENDING)
        .order_by(col(IdentityLink.probability).desc(), col(IdentityLink.id))
        .limit(200)
    ).all()
    pending = [(link, ident, cust, latest_value(session, cust.id)) for link, ident, cust in rows if cust.id]
    return render(request, "links.html", pending=pending, link_evidence=link_evidence)
