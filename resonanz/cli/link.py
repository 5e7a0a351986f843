"""``resonanz link``, ``resonanz links ...``, ``resonanz value`` and ``resonanz forget``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from linker.errors import LinkerError
from linker.identity.pipeline import ProgressHook
from linker.identity.records import CONFIRMED, REJECTED
from resonanz.cli.common import fail
from resonanz.core.csv_safe import csv_dict_writer
from resonanz.core.db import engine_from_settings
from resonanz.core.settings import get_settings
from resonanz.pipeline.erasure import forget_customer, withdraw_consent
from resonanz.pipeline.link_decisions import LinkNotFoundError
from resonanz.pipeline.link_export import EXPORT_COLUMNS, export_rows
from resonanz.pipeline.linking import confirm_or_reject, link_identities
from resonanz.pipeline.valuation import ValueReport, compute_values, end_of_day
from resonanz.pipeline.weighting import apply_weights
from store.errors import StoreError

console = Console(soft_wrap=True)
links_app = typer.Typer(help="Identity links: export, review decisions, consent.", no_args_is_help=True)

BASIS_LABEL = {"revenue": "Umsatz", "margin": "Deckungsbeitrag"}
STAGES = {
    "deterministic": "E-Mail, Telefon, Handles",
    "features": "Namen und Orte lesen",
    "scoring": "Splink-Bewertung",
}


@contextmanager
def _progress() -> Iterator[ProgressHook]:
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:  # fmt: skip
        tasks: dict[str, Any] = {}

        def hook(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(STAGES.get(stage, stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield hook


def link_command(
    weights: bool = typer.Option(True, "--weights/--no-weights", help="Re-weight scored posts afterwards."),
    everything: bool = typer.Option(False, "--all", help="Re-examine every undecided identity, changed or not."),
) -> None:
    """Link every new social identity to a consenting customer (deterministic, then probabilistic)."""
    settings = get_settings()
    try:
        engine = engine_from_settings(settings)
        with _progress() as hook:
            report = link_identities(engine, settings, progress=hook, full=everything)
        reweighted = apply_weights(engine, settings) if weights else 0
    except (LinkerError, StoreError) as exc:
        raise fail(exc) from None
    table = Table(title="Verknüpfung", title_justify="left", show_header=False)
    table.add_row("Geprüfte Identitäten", f"{report.evaluated}  ({report.skipped_unchanged} unverändert übersprungen)")
    table.add_row("Automatisch verknüpft", f"{report.auto}  ({report.deterministic} eindeutig über Kennungen)")
    table.add_row("Zur Prüfung (pending)", str(report.pending))
    table.add_row("Abgelehnt (unter Prüfschwelle)", str(report.rejected))
    table.add_row("Ohne Kandidat", str(report.no_candidate))
    table.add_row("Links entfernt (keine Einwilligung)", str(report.removed_for_consent))
    table.add_row("Verknüpfbare Kund:innen", str(report.linkable_customers))
    table.add_row("Scores neu gewichtet", str(reweighted))
    table.add_row("Dauer", f"{report.seconds.get('total', 0.0):.1f} s")
    console.print(table)


def _write_export(rows: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(rows, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    writer = csv_dict_writer(out, EXPORT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "evidence": " | ".join(row["evidence"])})


@links_app.command("export")
def export_command(
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or json."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
) -> None:
    """Write every link with identity, customer (crm_id), probability, status and evidence."""
    if fmt not in ("csv", "json"):
        raise fail(ValueError(f"unknown format {fmt!r}; use --format csv or --format json"))
    try:
        rows = export_rows(engine_from_settings())
    except StoreError as exc:
        raise fail(exc) from None
    if output is None:
        _write_export(rows, fmt, sys.stdout)
        return
    with output.open("w", encoding="utf-8", newline="") as fh:
        _write_export(rows, fmt, fh)
    console.print(f"{len(rows)} links written to {output}")


def _decide(link_id: int, status: str, actor: str) -> None:
    try:
        link = confirm_or_reject(engine_from_settings(), link_id, status, actor)
    except (LinkNotFoundError, ValueError, StoreError) as exc:
        raise fail(exc) from None
    console.print(
        f"link {link.id}: identity {link.identity_id} -> customer {link.customer_id} {link.status} by {actor}"
    )


@links_app.command("confirm")
def confirm_command(link_id: int, by: str = typer.Option("cli", "--by", help="Who decided.")) -> None:
    """Confirm a link (other pending candidates of the same identity are rejected)."""
    _decide(link_id, CONFIRMED, by)


@links_app.command("reject")
def reject_command(link_id: int, by: str = typer.Option("cli", "--by", help="Who decided.")) -> None:
    """Reject a link; the linker will never propose this pair again."""
    _decide(link_id, REJECTED, by)


@links_app.command("withdraw")
def withdraw_command(customer: str = typer.Argument(..., help="CRM id (or #<database id>).")) -> None:
    """Record that a customer withdrew consent: links removed and posts re-weighted now."""
    try:
        settings = get_settings()
        removed = withdraw_consent(engine_from_settings(settings), customer, settings)
    except (LinkNotFoundError, StoreError) as exc:
        raise fail(exc) from None
    console.print(f"consent withdrawn for {customer}; {removed} links removed")


def print_value_report(report: ValueReport, out: Console | None = None) -> None:
    out = out or console
    s = report.snapshot
    out.print(
        f"Kundenwert am {s.as_of:%Y-%m-%d %H:%M} UTC - Fenster {s.window.start:%Y-%m-%d} bis {s.window.end:%Y-%m-%d} "
        f"(exklusiv), Basis {s.basis}, Methode {s.method}",
        highlight=False,
    )
    table = Table(title="ABC-Klassen", title_justify="left")
    basis = BASIS_LABEL.get(s.basis, s.basis)
    for col in ("Klasse", "Kund:innen", basis, "Anteil"):
        table.add_column(col, justify="left" if col == "Klasse" else "right")
    for cls in "ABC":
        c = s.classes[cls]
        table.add_row(cls, f"{int(c['customers'])}", f"{c['amount']:,.2f} €", f"{c['share']:.1%}")
    out.print(table)
    out.print(f"Pareto: {s.pareto_statement(basis)}", highlight=False)
    if s.segments:
        seg = ", ".join(f"{name} {n}" for name, n in sorted(s.segments.items(), key=lambda kv: (-kv[1], kv[0])))
        out.print(f"RFM-Segmente: {seg}", highlight=False)
    note = f" ({s.clv_note})" if s.clv_note else ""
    out.print(f"CLV-Modell: {s.clv_model}{note}; Bindungsrate {s.retention:.0%}", highlight=False)
    if s.clv_basis:
        out.print(f"CLV: {s.clv_basis}", highlight=False)
    out.print(f"Treue Kund:innen (Punkte >= Schwelle): {s.n_loyal}; gespeicherte Zeilen: {report.rows_written}")


def value_command(
    as_of: str | None = typer.Option(None, "--as-of", help="Value at the end of this day (YYYY-MM-DD); default now."),
    basis: str | None = typer.Option(None, "--basis", help="revenue or margin (default from settings)."),
    method: str | None = typer.Option(None, "--method", help="cumulative or headcount (default from settings)."),
    save: bool = typer.Option(True, "--save/--no-save", help="Append the snapshot to the history."),
    weights: bool = typer.Option(True, "--weights/--no-weights", help="Re-weight scored posts afterwards."),
) -> None:
    """Compute ABC classes, Pareto share, RFM, margin, CLV and loyalty for every customer."""
    settings = get_settings()
    try:
        when = end_of_day(date.fromisoformat(as_of)) if as_of else None
    except ValueError:
        raise fail(ValueError(f"--as-of {as_of!r} is not a date; write it as YYYY-MM-DD")) from None
    try:
        engine = engine_from_settings(settings)
        with console.status("Kundenwerte berechnen ..."):
            report = compute_values(engine, settings, when, basis=basis, method=method, persist=save)
        if weights and save:
            apply_weights(engine, settings)
    except (LinkerError, StoreError) as exc:
        raise fail(exc) from None
    print_value_report(report)


def forget_command(
    customer: str = typer.Argument(..., help="CRM id of the customer (or #<database id>)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Erase a customer's personal data and links (GDPR Art. 17); orders are kept anonymised."""
    if not yes:
        typer.confirm(f"Erase all personal data of customer {customer}? This cannot be undone.", abort=True)
    try:
        settings = get_settings()
        report = forget_customer(engine_from_settings(settings), customer, settings)
    except (LinkNotFoundError, StoreError) as exc:
        raise fail(exc) from None
    for line in report.lines():
        console.print(line, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("link")(link_command)
    app.command("value")(value_command)
    app.command("forget")(forget_command)
    app.add_typer(links_app, name="links")
