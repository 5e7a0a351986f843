"""``resonanz import ...``, ``resonanz db ...`` and ``resonanz status``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func
from sqlmodel import Session, select

from resonanz.cli.common import engine_or_exit, fail
from resonanz.core.db import engine_from_settings
from resonanz.core.i18n import N_, _, ngettext
from resonanz.importing import ImportFileError, ImportReport, import_customers, import_orders, import_posts
from store.db import current_revision
from store.errors import StoreError
from store.models import (
    CollectorRun,
    Customer,
    CustomerValue,
    Digest,
    IdentityLink,
    Order,
    Post,
    ReviewItem,
    Score,
    SocialIdentity,
    Source,
)

console = Console(soft_wrap=True)
import_app = typer.Typer(help=N_("Import CRM customers, orders and posts from files."), no_args_is_help=True)
db_app = typer.Typer(help=N_("Database maintenance."), no_args_is_help=True)

ENCODING = typer.Option("utf-8", "--encoding", help=N_("File encoding, e.g. cp1252 for Excel exports."))
MAX_SHOWN = 20


def _report(report: ImportReport) -> None:
    console.print(report.summary())
    for err in report.errors[:MAX_SHOWN]:
        console.print("  [red]" + _("rejected") + f"[/red] {err}", highlight=False)
    if len(report.errors) > MAX_SHOWN:
        more = len(report.errors) - MAX_SHOWN
        console.print(
            "  " + ngettext("... and {n} more rejected row", "... and {n} more rejected rows", more).format(n=more)
        )
    if report.errors:
        raise typer.Exit(code=1)


def _run_import(kind: str, path: Path, encoding: str, **options: str | None) -> None:
    funcs = {"customers": import_customers, "orders": import_orders, "posts": import_posts}
    try:
        engine = engine_from_settings()
        report = funcs[kind](engine, path, encoding=encoding, **options)
    except (ImportFileError, StoreError) as exc:
        raise fail(exc) from None
    _report(report)


@import_app.command(
    "customers", help=N_("Import customers (CSV: crm_id, first_name, last_name, emails, ..., consent_status).")
)
def import_customers_cmd(path: Path, encoding: str = ENCODING) -> None:
    _run_import("customers", path, encoding)


@import_app.command("orders", help=N_("Import orders (CSV: order_id, crm_id, ordered_at, revenue, cost)."))
def import_orders_cmd(path: Path, encoding: str = ENCODING) -> None:
    _run_import("orders", path, encoding)


@import_app.command(
    "posts",
    help=N_(
        "Import posts and comments from a CSV or JSON-lines export, or with --from from a Brandwatch or "
        "Talkwalker export."
    ),
)
def import_posts_cmd(
    path: Path,
    encoding: str = ENCODING,
    source_format: str | None = typer.Option(
        None,
        "--from",
        help=N_("Another tool's export as it writes it (CSV or Excel): brandwatch or talkwalker."),
    ),
    timezone: str = typer.Option(
        "UTC", "--timezone", help=N_("Time zone for times without a zone in --from exports, e.g. Europe/Berlin.")
    ),
    brand: str | None = typer.Option(
        None,
        "--brand",
        help=N_(
            "Whose posts these are: a competitor some source is tagged with (resonanz sources tag), or "
            '"own brand". Without it: the own brand. A brand column in the file overrides it per row.'
        ),
    ),
) -> None:
    if source_format:
        _run_import("posts", path, encoding, source_format=source_format, timezone=timezone, brand=brand)
    else:
        _run_import("posts", path, encoding, brand=brand)


@db_app.command("upgrade", help=N_("Create or upgrade the database schema (also done automatically on first use)."))
def db_upgrade() -> None:
    engine = engine_or_exit()
    url = engine.url.render_as_string(hide_password=True)
    console.print(_("schema at revision {revision}: {url}").format(revision=current_revision(engine), url=url))


COUNTED = [
    (N_("sources"), Source),
    (N_("collector runs"), CollectorRun),
    (N_("social identities"), SocialIdentity),
    (N_("posts and comments"), Post),
    (N_("scores"), Score),
    (N_("customers"), Customer),
    (N_("orders"), Order),
    (N_("customer values"), CustomerValue),
    (N_("identity links"), IdentityLink),
    (N_("review items"), ReviewItem),
    (N_("digests"), Digest),
]


def status_table(engine: object) -> Table:
    table = Table(title=_("What is in the store"))
    table.add_column(_("table"))
    table.add_column(_("rows"), justify="right")
    with Session(engine) as session:  # type: ignore[arg-type]
        for label, model in COUNTED:
            count = session.exec(select(func.count()).select_from(model)).one()
            table.add_row(_(label), str(count))
    return table


def status() -> None:
    engine = engine_or_exit()
    console.print(_("database: {url}").format(url=engine.url.render_as_string(hide_password=True)))
    console.print(status_table(engine))


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(db_app, name="db")
    app.command("status", help=N_("Show the database location and what it holds."))(status)
