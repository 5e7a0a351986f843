"""``resonanz brand ...``: the brand's own accounts, staff signatures and employee advocates."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from resonanz.cli.common import FAILED, engine_or_exit, fail
from resonanz.core.i18n import N_, _
from resonanz.pipeline.brand import BrandMarkerError, add_marker, apply_brand_voice, list_markers, remove_marker
from store.db import session_scope

console = Console(soft_wrap=True)
brand_app = typer.Typer(
    help=N_("The brand's own voice: own accounts, signatures (^Lea), employees."), no_args_is_help=True
)


@brand_app.command("list", help=N_("All entries: kind, value, note."))
def list_command() -> None:
    """All entries: kind, value, note."""
    engine = engine_or_exit()
    with session_scope(engine) as session:
        markers = list_markers(session)
        table = Table("Nr.", "Art", "Wert", "Notiz", "von")
        for m in markers:
            table.add_row(str(m.id), m.kind, m.value, m.note or "", m.created_by or "")
    console.print(table if markers else _("No entries yet: `resonanz brand add account @marke@mastodon.social`"))


@brand_app.command("add", help=N_("Add an entry; every post is reclassified at once."))
def add_command(
    kind: str = typer.Argument(..., help=N_("Kind: account, signature or advocate.")),
    value: str = typer.Argument(..., help=N_("Handle or profile URL (account, advocate) or a signature like ^Lea.")),
    note: str | None = typer.Option(None, "--note", help=N_("What the entry is for.")),
    actor: str = typer.Option("cli", "--actor", help=N_("Who makes the entry (audit).")),
) -> None:
    """Add an entry; every post is reclassified at once."""
    engine = engine_or_exit()
    try:
        report = add_marker(engine, kind, value, actor, note)
    except BrandMarkerError as exc:
        raise fail(exc, FAILED) from None
    console.print(report.summary(), highlight=False)


@brand_app.command("remove", help=N_("Remove an entry; its posts count as customer voice again."))
def remove_command(marker_id: int = typer.Argument(..., help=N_("No. from `resonanz brand list`."))) -> None:
    """Remove an entry; its posts count as customer voice again."""
    engine = engine_or_exit()
    try:
        report = remove_marker(engine, marker_id)
    except BrandMarkerError as exc:
        raise fail(exc, FAILED) from None
    console.print(report.summary(), highlight=False)


@brand_app.command("apply", help=N_("Reclassify every post by the entries (also runs with every `resonanz score`)."))
def apply_command() -> None:
    """Reclassify every post by the entries (also runs with every `resonanz score`)."""
    console.print(apply_brand_voice(engine_or_exit()).summary(), highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(brand_app, name="brand")
