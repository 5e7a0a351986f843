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
import_app = typer.Typer(help="Import CRM customers, orders and posts from files.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)

ENCODING = typer.Option("utf-8", "--encoding", help="File encoding, e.g. cp1252 for Excel exports.")
MAX_SHOWN = 20


def _report(report: ImportReport) -> None:
    console.print(report.summary())
    for err in report.errors[:MAX_SHOWN]:
        console.print(f"  [red]rejected[/red] {err}", highlight=False)
    if len(report.errors) > MAX_SHOWN:
        console.print(f"  ... and {len(report.errors) - MAX_SHOWN} more rejected rows")
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


@import_app.command("customers")
def import_customers_cmd(path: Path, encoding: str = ENCODING) -> None:
    """Import customers (CSV: crm_id, first_name, last_name, emails, ..., consent_status)."""
    _run_import("customers", path, encoding)


@import_app.command("orders")
def import_orders_cmd(path: Path, encoding: str = ENCODING) -> None:
    """Import orders (CSV: order_id, crm_id, ordered_at, revenue, cost)."""
    _run_import("orders", path, encoding)


@import_app.command("posts")
def import_posts_cmd(
    path: Path,
    encoding: str = ENCODING,
    source_format: str | None = typer.Option(
        None,
        "--from",
        help="Export eines anderen Tools, so wie es ihn schreibt (CSV oder Excel): brandwatch oder talkwalker.",
    ),
    timezone: str = typer.Option(
        "UTC", "--timezone", help="Zeitzone für Zeitangaben ohne Zone in --from-Exporten, z. B. Europe/Berlin."
    ),
) -> None:
    """Import posts and comments from a CSV or JSON-lines export, or with --from from a Brandwatch or Talkwalker
    export."""
    if source_format:
        _run_import("posts", path, encoding, source_format=source_format, timezone=timezone)
    else:
        _run_import("posts", path, encoding)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema (also done automatically on first use)."""
    engine = engine_or_exit()
    console.print(f"schema at revision {current_revision(engine)}: {engine.url.render_as_string(hide_password=True)}")


COUNTED = [
    ("sources", Source),
    ("collector runs", CollectorRun),
    ("social identities", SocialIdentity),
    ("posts and comments", Post),
    ("scores", Score),
    ("customers", Customer),
    ("orders", Order),
    ("customer values", CustomerValue),
    ("identity links", IdentityLink),
    ("review items", ReviewItem),
    ("digests", Digest),
]


def status_table(engine: object) -> Table:
    table = Table(title="What is in the store")
    table.add_column("table")
    table.add_column("rows", justify="right")
    with Session(engine) as session:  # type: ignore[arg-type]
        for label, model in COUNTED:
            count = session.exec(select(func.count()).select_from(model)).one()
            table.add_row(label, str(count))
    return table


def status() -> None:
    """Show the database location and what it holds."""
    engine = engine_or_exit()
    console.print(f"database: {engine.url.render_as_string(hide_password=True)}")
    console.print(status_table(engine))


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(db_app, name="db")
    app.command("status")(status)
