"""``resonanz ask``, ``resonanz serve``, ``resonanz digest`` and ``resonanz users ...``."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from resonanz.cli.common import FAILED, err_console, fail
from resonanz.core.errors import AnswersError
from resonanz.core.hosts import is_loopback
from resonanz.core.i18n import N_, _
from resonanz.core.settings import get_settings
from store.errors import StoreError

console = Console(soft_wrap=True)
users_app = typer.Typer(help=N_("Web app users and their roles."), no_args_is_help=True)
PASSWORD_ENV = "RESONANZ_NEW_USER_PASSWORD"


def ask_command(
    classes: list[str] = typer.Option(
        [], "--class", "-c", help=N_("ABC class A/B/C, or 'prospect' (unlinked). Repeat.")
    ),
    rfm: list[str] = typer.Option([], "--rfm", help=N_("RFM segment, e.g. Champions. Repeat.")),
    loyal: bool | None = typer.Option(None, "--loyal/--not-loyal", help=N_("Only loyal (or not loyal) customers.")),
    topics: list[str] = typer.Option([], "--topic", "-t", help="Only posts about this topic. Repeat."),
    platforms: list[str] = typer.Option([], "--platform", "-p", help=N_("mastodon, bluesky, reddit ... Repeat.")),
    languages: list[str] = typer.Option([], "--language", "-l", help="Language code, e.g. de. Repeat."),
    since: str | None = typer.Option(None, help=N_("Start date (2026-11-01), Berlin time.")),
    until: str | None = typer.Option(None, help=N_("End date, inclusive (2026-11-30).")),
    week: str | None = typer.Option(None, help=N_("An ISO week instead of since/until, e.g. 2026-W47.")),
    days: int = typer.Option(28, help=N_("Without --since/--week: the last N days.")),
    model: str | None = typer.Option(None, help=N_("Use this model's scores (default: the latest score per post).")),
    output_format: str = typer.Option(
        "table",
        "--format",
        "-f",
        help=N_("table, json, csv or xlsx (xlsx: the posts and the numbers, needs --output)."),
    ),
    posts: bool = typer.Option(
        False, "--posts", help=N_("List the posts behind the numbers, heaviest first (csv/xlsx: all of them).")
    ),
    limit: int = typer.Option(20, "--limit", min=1, max=500, help=N_("Posts per page with --posts (table, json).")),
    page: int = typer.Option(1, "--page", min=1, help=N_("Which page of posts with --posts (table, json).")),
    output: Path | None = typer.Option(None, "--output", "-o", help=N_("Write the csv/json/xlsx output to this file.")),
    quotes: int = typer.Option(3, help=N_("Quotes per kind (most weighted/negative/positive).")),
    top: int = typer.Option(10, "--topics-shown", help=N_("How many topics to list.")),
    pareto: bool = typer.Option(True, "--pareto/--no-pareto", help=N_("Include the share-of-voice vs. revenue check.")),
    chart: Path | None = typer.Option(None, help=N_("Also write the Pareto chart as PNG to this file.")),
    voice: str | None = typer.Option(
        None, "--voice", help=N_("'advocate': only employees' posts (reported apart; default: customer voice).")
    ),
) -> None:
    """What does a customer segment say? Value-weighted and plain sentiment, topics, quotes, trend, Pareto."""
    from resonanz.answers.ask import AnswerFilter, ask
    from resonanz.answers.format import numbers_sheet, posts_hint, posts_table, renderables, to_csv, to_json
    from resonanz.answers.posts import PostPage, posts_behind, posts_csv, posts_xlsx
    from resonanz.core.db import engine_from_settings
    from resonanz.core.periods import resolve_period

    if output_format not in ("table", "json", "csv", "xlsx"):
        raise fail(
            ValueError(
                _("unknown format {format!r}; use table, json or csv, or xlsx with --output").format(
                    format=output_format
                )
            )
        )
    if output_format == "xlsx" and output is None:
        raise fail(ValueError(_("XLSX is a binary file: name it with --output, e.g. --output answers.xlsx")))
    if voice not in (None, "advocate"):
        raise fail(f"--voice {voice!r}: nur 'advocate' (Mitarbeitende); ohne --voice: Kundenstimme")
    settings = get_settings()
    try:
        period = resolve_period(since=since, until=until, week=week, days=days, tz=settings.digest.timezone)
        flt = AnswerFilter(
            period=period,
            classes=classes,
            rfm_segments=rfm,
            loyal=loyal,
            topics=topics,
            platforms=platforms,
            languages=languages,
            model_name=model,
            default_weight=settings.value.prospect_weight,
            voice=voice,
        )
        engine = engine_from_settings(settings)
        with Session(engine) as session:
            from resonanz.pipeline.scoring import sentiment_train_prior

            answer = ask(
                session, flt, top_topics=top, quote_limit=quotes, with_pareto=pareto or chart is not None,
                train_prior=sentiment_train_prior(settings),
            )  # fmt: skip
            listed: PostPage | None = None
            if posts or output_format == "xlsx":
                export = output_format in ("csv", "xlsx")
                listed = posts_behind(
                    session, flt, limit=None if export else limit, offset=0 if export else (page - 1) * limit
                )
    except (AnswersError, StoreError) as exc:
        raise fail(exc) from None
    tz = settings.digest.timezone
    if chart is not None and answer.pareto:
        from resonanz.digest.charts import pareto_chart

        chart.write_bytes(pareto_chart(answer.pareto))
    if output_format == "xlsx" and output is not None and listed is not None:
        output.write_bytes(posts_xlsx(listed.posts, tz, summary=numbers_sheet(answer)))
        console.print(_("{n} posts and the numbers written to {path}").format(n=listed.total, path=output))
        return
    if output_format == "json":
        _emit(to_json(answer, listed) + "\n", output)
    elif output_format == "csv":
        _emit(posts_csv(listed.posts, tz) if listed is not None else to_csv(answer), output)
    else:
        console.print(renderables(answer))
        if listed is not None:
            console.print(posts_table(listed))
            hint = posts_hint(listed)
            if hint:
                console.print(hint)
        if chart is not None:
            console.print(_("Pareto chart written to {path}").format(path=chart))


def _emit(text: str, output: Path | None) -> None:
    """``text`` to ``output`` (a file) or to stdout."""
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(_("Written to {path}").format(path=output))


def serve_command(
    host: str | None = typer.Option(None, help=N_("Bind address (default: settings.web.host, 127.0.0.1).")),
    port: int | None = typer.Option(None, help=N_("Port (default: settings.web.port).")),
    workers: int = typer.Option(
        1, "--workers", "-w", min=1, max=64, help=N_("Worker processes (sessions live in the database, so any number).")
    ),
) -> None:
    """Run the web app (review queue, dashboard, ask, digests) with uvicorn."""
    import uvicorn

    from resonanz.core.db import engine_from_settings
    from resonanz.web import create_app
    from resonanz.web.security import secret_key

    settings = get_settings()
    bind = host or settings.web.host
    try:
        if workers > 1:  # each worker builds its own app; the schema and the session key are settled first
            engine_from_settings(settings).dispose()
            secret_key(settings)
            app: object = "resonanz.web.app:app_from_settings"
        else:
            app = create_app(settings, preload=True)
    except (AnswersError, StoreError) as exc:
        raise fail(exc) from None
    if not is_loopback(bind) and not settings.web.secure_cookies:
        err_console.print(
            "[yellow]"
            + _("warning:")
            + "[/yellow] "
            + _("serving on {bind} without secure cookies; put it behind HTTPS and set {setting}").format(
                bind=bind, setting="RESONANZ_WEB__SECURE_COOKIES=true"
            )
        )
    uvicorn.run(
        app,  # type: ignore[arg-type]
        host=bind,
        port=port or settings.web.port,
        log_level=settings.log_level.lower(),
        workers=workers if workers > 1 else None,
        factory=workers > 1,
        # a worker imports the whole app (spaCy, torch, matplotlib: 3-4 s of CPU) and answers the
        # supervisor's ping from a thread that competes with busy request threads; uvicorn's 5 s default
        # killed starting or busy workers on a loaded 2-core machine again and again
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )


WORKER_HEALTHCHECK_S = 60
"""Seconds a ``--workers`` process may take to start or to answer the supervisor before it is replaced."""


def digest_command(
    week: str | None = typer.Option(None, help=N_("ISO week, e.g. 2026-W47 (default: last complete week).")),
    send: bool = typer.Option(False, "--send", help=N_("Mail it to the configured recipients.")),
    to: list[str] = typer.Option([], "--to", help=N_("Recipient instead of settings.digest.recipients. Repeat.")),
    output: Path | None = typer.Option(None, "--output", "-o", help=N_("Write the standalone HTML here.")),
) -> None:
    """Build (and archive) the weekly digest for any week; optionally write it to a file and send it."""
    from resonanz.core.db import engine_from_settings
    from resonanz.digest.builder import build_digest, write_digest
    from resonanz.digest.mailer import send_digest

    settings = get_settings()
    try:
        engine = engine_from_settings(settings)
        digest = build_digest(engine, settings, week)
        console.print(_("Digest {week} built and archived (id {id}).").format(week=digest.period_label, id=digest.id))
        if output:
            write_digest(digest, output)
            console.print(_("Written to {path}").format(path=output))
        if send:
            sent = send_digest(engine, settings, digest, recipients=to or None)
            console.print(_("Sent to {recipients}.").format(recipients=", ".join(sent.recipients)))
    except (AnswersError, StoreError) as exc:
        raise fail(exc, FAILED) from None


@users_app.command("add", help=N_("Add a user. The password comes from RESONANZ_NEW_USER_PASSWORD or a prompt."))
def users_add(
    name: str = typer.Argument(..., help=N_("User name to log in with.")),
    role: str = typer.Option("community_manager", help=N_("community_manager, analyst or admin.")),
) -> None:
    """Add a user. The password comes from RESONANZ_NEW_USER_PASSWORD or a prompt."""
    from resonanz.core.db import engine_from_settings
    from resonanz.web.accounts import add_user
    from store.db import session_scope

    password = os.environ.get(PASSWORD_ENV) or typer.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(engine_from_settings()) as session:
            user = add_user(session, name, password, role)
            console.print(_("User {name} added ({role}).").format(name=user.username, role=user.role))
    except (AnswersError, StoreError) as exc:
        raise fail(exc, FAILED) from None


@users_app.command("list", help=N_("List users, roles and whether they are active."))
def users_list() -> None:
    """List users, roles and whether they are active."""
    from resonanz.core.db import engine_from_settings
    from resonanz.web.accounts import list_users

    try:
        with Session(engine_from_settings()) as session:
            users = list_users(session)
    except StoreError as exc:
        raise fail(exc, FAILED) from None
    table = Table(_("user"), _("role"), _("active"), _("since"))
    for u in users:
        table.add_row(u.username, u.role, _("yes") if u.active else _("no"), f"{u.created_at:%Y-%m-%d}")
    console.print(table)


@users_app.command("deactivate", help=N_("Deactivate a user (they are logged out on their next request)."))
def users_deactivate(name: str = typer.Argument(...)) -> None:
    """Deactivate a user (they are logged out on their next request)."""
    from resonanz.core.db import engine_from_settings
    from resonanz.web.accounts import set_active
    from store.db import session_scope

    try:
        with session_scope(engine_from_settings()) as session:
            set_active(session, name, False)
        console.print(_("{name} deactivated.").format(name=name))
    except (AnswersError, StoreError) as exc:
        raise fail(exc, FAILED) from None


def register(app: typer.Typer) -> None:
    app.command(
        "ask",
        help=N_("What does a customer segment say? Value-weighted and plain sentiment, topics, quotes, trend, Pareto."),
    )(ask_command)
    app.command("serve", help=N_("Run the web app (review queue, dashboard, ask, digests) with uvicorn."))(
        serve_command
    )
    app.command(
        "digest",
        help=N_("Build (and archive) the weekly digest for any week; optionally write it to a file and send it."),
    )(digest_command)
    app.add_typer(users_app, name="users")
