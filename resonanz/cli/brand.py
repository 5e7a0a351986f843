"""``resonanz brand ...``: the brand's own accounts, staff signatures and employee advocates."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from resonanz.cli.common import FAILED, engine_or_exit, fail
from resonanz.pipeline.brand import KINDS, BrandMarkerError, add_marker, apply_brand_voice, list_markers, remove_marker
from store.db import session_scope

console = Console(soft_wrap=True)
brand_app = typer.Typer(
    help="Die eigene Stimme der Marke: eigene Konten, Signaturen (^Lea), Mitarbeitende.", no_args_is_help=True
)


@brand_app.command("list")
def list_command() -> None:
    """Alle Einträge: Art, Wert, Notiz."""
    engine = engine_or_exit()
    with session_scope(engine) as session:
        markers = list_markers(session)
        table = Table("Nr.", "Art", "Wert", "Notiz", "von")
        for m in markers:
            table.add_row(str(m.id), m.kind, m.value, m.note or "", m.created_by or "")
    console.print(table if markers else "Noch keine Einträge: `resonanz brand add account @marke@mastodon.social`")


@brand_app.command("add")
def add_command(
    kind: str = typer.Argument(..., help=f"Art: {', '.join(KINDS)}"),
    value: str = typer.Argument(..., help="Handle oder Profil-URL (account, advocate) oder Signatur wie ^Lea"),
    note: str | None = typer.Option(None, "--note", help="Wozu der Eintrag dient."),
    actor: str = typer.Option("cli", "--actor", help="Wer den Eintrag macht (Audit)."),
) -> None:
    """Einen Eintrag hinzufügen; alle Beiträge werden sofort neu eingeordnet."""
    engine = engine_or_exit()
    try:
        report = add_marker(engine, kind, value, actor, note)
    except BrandMarkerError as exc:
        raise fail(exc, FAILED) from None
    console.print(report.summary(), highlight=False)


@brand_app.command("remove")
def remove_command(marker_id: int = typer.Argument(..., help="Nr. aus `resonanz brand list`")) -> None:
    """Einen Eintrag entfernen; die Beiträge zählen wieder als Kundenstimme."""
    engine = engine_or_exit()
    try:
        report = remove_marker(engine, marker_id)
    except BrandMarkerError as exc:
        raise fail(exc, FAILED) from None
    console.print(report.summary(), highlight=False)


@brand_app.command("apply")
def apply_command() -> None:
    """Alle Beiträge nach den Einträgen neu einordnen (läuft auch bei jedem `resonanz score`)."""
    console.print(apply_brand_voice(engine_or_exit()).summary(), highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(brand_app, name="brand")
