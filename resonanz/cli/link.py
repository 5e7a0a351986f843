"""``resonanz link``, ``resonanz links ...``, ``resonanz value [migration|cohorts]`` and ``resonanz forget``."""

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
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from linker.errors import LinkerError
from linker.identity.pipeline import ProgressHook
from linker.identity.records import CONFIRMED, REJECTED
from linker.value.cohorts import CohortCell, CohortTable
from resonanz.answers.journey import (
    COMPLAINT_FLAGS,
    MigrationReport,
    cohorts,
    cohorts_to_dict,
    de_number,
    de_percent,
    flag_clause,
    segment_migration,
    state_label,
)
from resonanz.cli.common import fail
from resonanz.core.csv_safe import csv_dict_writer
from resonanz.core.db import engine_from_settings
from resonanz.core.errors import AnswersError
from resonanz.core.i18n import N_, _, ngettext
from resonanz.core.settings import get_settings
from resonanz.pipeline.erasure import forget_customer, withdraw_consent
from resonanz.pipeline.link_decisions import LinkNotFoundError
from resonanz.pipeline.link_export import EXPORT_COLUMNS, export_rows
from resonanz.pipeline.linking import confirm_or_reject, link_identities
from resonanz.pipeline.valuation import ValueReport, compute_values, end_of_day
from resonanz.pipeline.weighting import apply_weights
from store.errors import StoreError

console = Console(soft_wrap=True)
links_app = typer.Typer(help=N_("Identity links: export, review decisions, consent."), no_args_is_help=True)
value_app = typer.Typer()
"""``resonanz value`` computes values (the callback); its subcommands show the journey."""

VALUE_HELP = N_(
    "Compute ABC classes, Pareto share, RFM, margin, CLV and loyalty for every customer.\n\n"
    "``resonanz value migration`` and ``resonanz value cohorts`` show the customer journey instead."
)
NOT_A_DATE = N_("{option} {value!r} is not a date; write it as YYYY-MM-DD")
LINK_STATUS_TEXT: dict[str, str] = {CONFIRMED: N_("confirmed"), REJECTED: N_("rejected")}
BASIS_LABEL = {"revenue": "Umsatz", "margin": "Deckungsbeitrag"}
STAGES = {
    "deterministic": N_("e-mail, phone, handles"),
    "features": N_("reading names and places"),
    "scoring": N_("Splink scoring"),
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
                tasks[stage] = bar.add_task(_(STAGES[stage]) if stage in STAGES else stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield hook


def link_command(
    weights: bool = typer.Option(True, "--weights/--no-weights", help=N_("Re-weight scored posts afterwards.")),
    everything: bool = typer.Option(False, "--all", help=N_("Re-examine every undecided identity, changed or not.")),
) -> None:
    settings = get_settings()
    try:
        engine = engine_from_settings(settings)
        with _progress() as hook:
            report = link_identities(engine, settings, progress=hook, full=everything)
        reweighted = apply_weights(engine, settings) if weights else 0
    except (LinkerError, StoreError) as exc:
        raise fail(exc) from None
    table = Table(title=_("Linking"), title_justify="left", show_header=False)
    table.add_row(
        _("Identities examined"),
        _("{n}  ({unchanged} skipped as unchanged)").format(n=report.evaluated, unchanged=report.skipped_unchanged),
    )
    table.add_row(
        _("Linked automatically"),
        _("{n}  ({deterministic} unambiguous by identifiers)").format(
            n=report.auto, deterministic=report.deterministic
        ),
    )
    table.add_row(_("For review (pending)"), str(report.pending))
    table.add_row(_("Rejected (below review threshold)"), str(report.rejected))
    table.add_row(_("No candidate"), str(report.no_candidate))
    table.add_row(_("Links removed (no consent)"), str(report.removed_for_consent))
    table.add_row(_("Linkable customers"), str(report.linkable_customers))
    table.add_row(_("Scores re-weighted"), str(reweighted))
    table.add_row(_("Duration"), f"{report.seconds.get('total', 0.0):.1f} s")
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


@links_app.command(
    "export", help=N_("Write every link with identity, customer (crm_id), probability, status and evidence.")
)
def export_command(
    fmt: str = typer.Option("csv", "--format", "-f", help=N_("csv or json.")),
    output: Path | None = typer.Option(None, "--output", "-o", help=N_("File to write (default: standard output).")),
) -> None:
    if fmt not in ("csv", "json"):
        raise fail(_("unknown format {format!r}; use --format csv or --format json").format(format=fmt))
    try:
        rows = export_rows(engine_from_settings())
    except StoreError as exc:
        raise fail(exc) from None
    if output is None:
        _write_export(rows, fmt, sys.stdout)
        return
    with output.open("w", encoding="utf-8", newline="") as fh:
        _write_export(rows, fmt, fh)
    console.print(
        ngettext("{n} link written to {path}", "{n} links written to {path}", len(rows)).format(
            n=len(rows), path=output
        )
    )


def _decide(link_id: int, status: str, actor: str) -> None:
    try:
        link = confirm_or_reject(engine_from_settings(), link_id, status, actor)
    except (LinkNotFoundError, ValueError, StoreError) as exc:
        raise fail(exc) from None
    message = _("link {id}: identity {identity} -> customer {customer} {status} by {actor}")
    status_text = _(LINK_STATUS_TEXT.get(link.status, str(link.status)))
    console.print(
        message.format(
            id=link.id, identity=link.identity_id, customer=link.customer_id, status=status_text, actor=actor
        )
    )


@links_app.command("confirm", help=N_("Confirm a link (other pending candidates of the same identity are rejected)."))
def confirm_command(link_id: int, by: str = typer.Option("cli", "--by", help=N_("Who decided."))) -> None:
    _decide(link_id, CONFIRMED, by)


@links_app.command("reject", help=N_("Reject a link; the linker will never propose this pair again."))
def reject_command(link_id: int, by: str = typer.Option("cli", "--by", help=N_("Who decided."))) -> None:
    _decide(link_id, REJECTED, by)


@links_app.command(
    "withdraw", help=N_("Record that a customer withdrew consent: links removed and posts re-weighted now.")
)
def withdraw_command(customer: str = typer.Argument(..., help=N_("CRM id (or #<database id>)."))) -> None:
    try:
        settings = get_settings()
        removed = withdraw_consent(engine_from_settings(settings), customer, settings)
    except (LinkNotFoundError, StoreError) as exc:
        raise fail(exc) from None
    console.print(
        ngettext(
            "consent withdrawn for {customer}; {n} link removed",
            "consent withdrawn for {customer}; {n} links removed",
            removed,
        ).format(customer=customer, n=removed)
    )


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
    ctx: typer.Context,
    as_of: str | None = typer.Option(
        None, "--as-of", help=N_("Value at the end of this day (YYYY-MM-DD); default now.")
    ),
    basis: str | None = typer.Option(None, "--basis", help=N_("revenue or margin (default from settings).")),
    method: str | None = typer.Option(None, "--method", help=N_("cumulative or headcount (default from settings).")),
    save: bool = typer.Option(True, "--save/--no-save", help=N_("Append the snapshot to the history.")),
    weights: bool = typer.Option(True, "--weights/--no-weights", help=N_("Re-weight scored posts afterwards.")),
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings()
    try:
        when = end_of_day(date.fromisoformat(as_of)) if as_of else None
    except ValueError:
        raise fail(_(NOT_A_DATE).format(option="--as-of", value=as_of)) from None
    try:
        engine = engine_from_settings(settings)
        with console.status("Kundenwerte berechnen ..."):
            report = compute_values(engine, settings, when, basis=basis, method=method, persist=save)
        if weights and save:
            apply_weights(engine, settings)
    except (LinkerError, StoreError) as exc:
        raise fail(exc) from None
    print_value_report(report)


def _day(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise fail(_(NOT_A_DATE).format(option=option, value=value)) from None


def _format(fmt: str) -> str:
    if fmt not in ("table", "json"):
        raise fail(_("unknown format {format!r}; use --format table or --format json").format(format=fmt))
    return fmt


MATRIX_MAX_COLUMNS = 6
"""Up to this many states (ABC: A, B, C, gone) the migration prints as a matrix; RFM as a list of moves."""


def print_migration(report: MigrationReport, out: Console | None = None) -> None:
    out = out or console
    m, by = report.matrix, report.by
    what = "ABC-Klassen" if by == "abc" else "RFM-Segmente"
    title = f"{what}: Wanderung vom {report.before_day.isoformat()} zum {report.after_day.isoformat()}"
    if report.flags:
        title += f" – nur Kund:innen, {flag_clause(report.flags)} ({de_number(report.flagged or 0)})"
    table = Table(title=title, title_justify="left")
    if len(m.columns) <= MATRIX_MAX_COLUMNS:
        table.add_column("vorher \\ nachher")
        for col in m.columns:
            table.add_column(state_label(col, by), justify="right")
        table.add_column("Summe", justify="right")
        for row in m.rows:
            cells = [de_number(m.count(row, col)) if m.count(row, col) else "·" for col in m.columns]
            table.add_row(state_label(row, by), *cells, de_number(m.row_total(row)))
        table.add_row("Summe", *(de_number(m.column_total(c)) for c in m.columns), de_number(m.total), style="bold")
    else:  # many segments: one line per (from, to) pair instead of a matrix wider than the terminal
        table.add_column("vorher")
        table.add_column("nachher")
        table.add_column("Kund:innen", justify="right")
        table.add_column("Anteil von vorher", justify="right")
        for mv in m.moves():
            style = "dim" if mv.before == mv.after else None
            names = (state_label(mv.before, by), state_label(mv.after, by))
            table.add_row(*names, de_number(mv.customers), de_percent(mv.share), style=style)
    _print_wide(out, table)
    asked = [f"{name} {d.isoformat()}" for name, d in zip(("--from", "--to"), report.requested, strict=True) if d]
    if asked:
        out.print(
            _("Asked for {dates}; the nearest stored snapshots were used.").format(dates=", ".join(asked)),
            highlight=False,
        )
    out.print(report.summary() + ".", highlight=False)
    for line in report.sentences():
        out.print(f"• {line}", highlight=False)
    if not m.changed and not m.gone:
        out.print(_("No changes between the two snapshots."), highlight=False)


@value_app.command(
    "migration", help=N_("How customers moved between ABC classes or RFM segments from one stored snapshot to another.")
)
def migration_command(
    start: str | None = typer.Option(
        None, "--from", help=N_("Earlier analysis date (YYYY-MM-DD); default ~90 days back.")
    ),
    end: str | None = typer.Option(None, "--to", help=N_("Later analysis date (YYYY-MM-DD); default the current one.")),
    by: str = typer.Option("abc", "--by", help=N_("abc (ABC classes) or rfm (RFM segments).")),
    complained: bool = typer.Option(
        False, "--complained", help=N_("Only customers whose linked posts were flagged complaint/churn in between.")
    ),
    flags: list[str] = typer.Option([], "--flag", help=N_("Only customers with a post flagged so in between. Repeat.")),
    top: int = typer.Option(10, "--top", help=N_("How many moves to describe in sentences.")),
    fmt: str = typer.Option("table", "--format", "-f", help=N_("table or json.")),
) -> None:
    fmt = _format(fmt)
    chosen = tuple(dict.fromkeys([*flags, *(COMPLAINT_FLAGS if complained else ())]))
    try:
        report = segment_migration(
            engine_from_settings(), by=by, start=_day(start, "--from"), end=_day(end, "--to"), flags=chosen,
            limit=max(top, 0),
        )  # fmt: skip
    except (AnswersError, StoreError) as exc:
        raise fail(exc) from None
    if fmt == "json":
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    print_migration(report)


def _triangle(table: CohortTable, revenue: bool) -> Table:
    kind = _("revenue retention (share of the first month's revenue)") if revenue else _("repurchase rate")
    out = Table(
        title=_("Cohorts by first-purchase month – {kind}, full months up to {month}").format(
            kind=kind, month=f"{table.last_month:%Y-%m}"
        ),
        title_justify="left",
    )
    out.add_column(_("Cohort"), no_wrap=True)
    out.add_column(_("Customers"), justify="right", no_wrap=True)
    if revenue:
        out.add_column(_("Revenue M0"), justify="right", no_wrap=True)
    width = len(table.average)
    for k in range(width):
        out.add_column(f"M{k}", justify="right", no_wrap=True)

    def cell(x: CohortCell | None) -> str:
        if x is None:
            return ""
        return de_percent(x.revenue_share if revenue else x.share)

    def money(amount: float) -> list[str]:
        return [f"{de_number(amount, 2)} €"] if revenue else []

    for c in table.cohorts:
        out.add_row(
            f"{c.month:%Y-%m}", de_number(c.customers), *money(c.revenue), *(cell(c.cell(k)) for k in range(width))
        )
    if table.cohorts:
        total_first = sum(c.revenue for c in table.cohorts)
        out.add_row(
            _("Ø weighted"), de_number(table.customers), *money(total_first), *(cell(x) for x in table.average),
            style="bold",
        )  # fmt: skip
    return out


def _print_wide(out: Console, renderable: Table) -> None:
    """Print without squeezing: a year's triangle needs ~110 columns; a narrower terminal wraps, nothing is cut."""
    needed = Measurement.get(out, out.options.update(max_width=1000), renderable).maximum
    if needed <= out.width:
        out.print(renderable)
        return
    Console(file=out.file, width=needed, soft_wrap=True, force_terminal=out.is_terminal).print(renderable)


def print_cohorts(table: CohortTable, revenue: bool = True, out: Console | None = None) -> None:
    out = out or console
    if not table.cohorts:
        out.print(
            _(
                "No first purchases in the full months up to {month}; import orders "
                "(resonanz import orders) or pick another date with --as-of."
            ).format(month=f"{table.last_month:%Y-%m}"),
            highlight=False,
        )
        return
    _print_wide(out, _triangle(table, revenue=False))
    out.print(
        _(
            "M0 = month of the first purchase (always 100 %); "
            "Mk = share of the cohort that bought again k months later."
        ),
        highlight=False,
    )
    if revenue:
        _print_wide(out, _triangle(table, revenue=True))
        out.print(_("Net revenue (refunds deducted), divided by the cohort's revenue in month M0."))


@value_app.command(
    "cohorts",
    help=N_("First-purchase cohorts: the share that bought again in each later month, and revenue retention."),
)
def cohorts_command(
    months: int = typer.Option(12, "--months", help=N_("How many first-purchase months (cohorts) to show.")),
    as_of: str | None = typer.Option(
        None, "--as-of", help=N_("Count up to the end of this day (YYYY-MM-DD); default now.")
    ),
    revenue: bool = typer.Option(True, "--revenue/--no-revenue", help=N_("Also show the revenue retention.")),
    fmt: str = typer.Option("table", "--format", "-f", help=N_("table or json.")),
) -> None:
    fmt = _format(fmt)
    day = _day(as_of, "--as-of")
    try:
        table = cohorts(engine_from_settings(), end_of_day(day) if day else None, months)
    except (LinkerError, StoreError) as exc:
        raise fail(exc) from None
    if fmt == "json":
        typer.echo(json.dumps(cohorts_to_dict(table), ensure_ascii=False, indent=2))
        return
    print_cohorts(table, revenue=revenue)


def forget_command(
    customer: str = typer.Argument(..., help=N_("CRM id of the customer (or #<database id>).")),
    yes: bool = typer.Option(False, "--yes", "-y", help=N_("Do not ask for confirmation.")),
) -> None:
    if not yes:
        question = _("Erase all personal data of customer {customer}? This cannot be undone.")
        typer.confirm(question.format(customer=customer), abort=True)
    try:
        settings = get_settings()
        report = forget_customer(engine_from_settings(settings), customer, settings)
    except (LinkNotFoundError, StoreError) as exc:
        raise fail(exc) from None
    for line in report.lines():
        console.print(line, highlight=False)


def register(app: typer.Typer) -> None:
    app.command(
        "link", help=N_("Link every new social identity to a consenting customer (deterministic, then probabilistic).")
    )(link_command)
    value_app.callback(invoke_without_command=True, help=VALUE_HELP)(value_command)
    app.add_typer(value_app, name="value")
    app.command(
        "forget", help=N_("Erase a customer's personal data and links (GDPR Art. 17); orders are kept anonymised.")
    )(forget_command)
    app.add_typer(links_app, name="links")
