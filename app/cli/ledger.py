"""`o2o import revenue` and `o2o ledger close|export|verify|policy|reverse|approve ...`: the
from the terminal (the shell around it is app/journal)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.jobs import ProgressPrinter, cli_actor, refusals_exit
from app.config import get_settings
from app.db import make_engine, session_scope
from app.journal.schemas import CorrectionRequestRead

ledger_cli = typer.Typer(help="Commission ledger: periods, exports, verification.",
                         no_args_is_help=True)  # fmt: skip
PeriodOption = Annotated[str, typer.Option(help="Month in Asia/Shanghai time, YYYY-MM.")]


def import_revenue_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Credit revenue events to the owning branches (exactly once, all-or-nothing)."""
    from app.journal import service
    from app.journal.revenue_import import parallel_parse

    settings = get_settings()
    progress = ProgressPrinter(file.name)
    try:
        with refusals_exit(), session_scope(make_engine(settings)) as session:
            report = service.import_revenue(
                session, path=file, actor=cli_actor(), batch_rows=settings.import_batch_rows,
                progress=progress, parse_workers=parallel_parse.workers_for(file),
            )  # fmt: skip
    finally:
        progress.done()
    typer.echo(
        f"{report.file}: {report.rows} rows, {report.new_events} new events, "
        f"{report.unchanged} already credited; imported {report.imported_fen} fen = branches "
        f"{report.branches_fen} + HQ {report.hq_fen} + suspense {report.suspense_fen} "
        f"(batch {report.batch_id}, {report.seconds:.2f} s)"
    )


@ledger_cli.command("close")
def close_cmd(period: PeriodOption) -> None:
    """Close a month for good and store its branch statements (month must have ended)."""
    from app.journal import service

    engine = make_engine(get_settings())
    with refusals_exit(), session_scope(engine) as session:
        closed = service.close_period(session, period=period, actor=cli_actor())
    typer.echo(f"closed {closed.period}: {len(closed.statements)} statement(s)")
    for statement in closed.statements:
        typer.echo(f"  {statement.branch_code:32} {statement.closing_fen:>16} {statement.sha256}")


@ledger_cli.command("export")
def export_cmd(
    period: PeriodOption,
    out: Annotated[Path, typer.Option(dir_okay=False, help="File to write.")],
    format: Annotated[str, typer.Option(help="csv or xlsx")] = "csv",
    layout: Annotated[
        str,
        typer.Option(
            help="canonical (the hashed record) or accountant (Chinese headers, "
            "yuan, branch names, a totals row)"
        ),
    ] = "canonical",
) -> None:
    """Export the money postings of a month (UTF-8 CSV with BOM, or XLSX)."""
    from app.journal import service

    with refusals_exit(), session_scope(make_engine(get_settings())) as session:
        result = service.export_period(
            session, period=period, fmt=format, out=out, actor=cli_actor(), layout=layout
        )
    typer.echo(
        f"{out}: {result.rows} postings, debit {result.debit_fen} fen, "
        f"credit {result.credit_fen} fen, sha256 {result.sha256}"
    )


@ledger_cli.command("verify")
def verify_cmd() -> None:
    """Recompute every ledger invariant; exit 1 on any discrepancy."""
    from app.journal import service

    with session_scope(make_engine(get_settings())) as session:
        findings = service.verify_ledger(session)
    for finding in findings:
        typer.echo(f"discrepancy: {finding}", err=True)
    if findings:
        typer.echo(f"ledger verify: {len(findings)} discrepancy(ies)", err=True)
        raise typer.Exit(1)
    typer.echo("ledger verify: every invariant holds")


policy_cli = typer.Typer(help="Split policies: how revenue is shared between branch and HQ.",
                         no_args_is_help=True)  # fmt: skip
ledger_cli.add_typer(policy_cli, name="policy")


@policy_cli.command("add")
def policy_add_cmd(
    file: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, readable=True, help="policy.json|csv")
    ],
) -> None:
    """Add split-policy versions from a JSON or CSV file (all or none)."""
    from app.journal import service

    with refusals_exit(), session_scope(make_engine(get_settings())) as session:
        stored = service.add_policy_file(session, path=file, actor=cli_actor())
    typer.echo(f"{file.name}: policies stored; {stored.total} version(s) in the book")


@policy_cli.command("list")
def policy_list_cmd() -> None:
    """Every split-policy version, per revenue type in effective order."""
    from app.journal import service
    from ledger.periods import format_timestamp

    with session_scope(make_engine(get_settings())) as session:
        listed = service.list_policies(session)
    typer.echo(
        "policy_id\trevenue_type\tvalid_from\tvalid_to\tbranch_bps\thq_online_bps\toverlay_bps"
    )
    for p in listed.items:
        until = format_timestamp(p.valid_to) if p.valid_to else "-"
        typer.echo(
            f"{p.policy_id}\t{p.revenue_type}\t{format_timestamp(p.valid_from)}\t{until}\t"
            f"{p.branch_bps}\t{p.hq_online_bps}\t{p.overlay_bps}"
        )


ReasonOption = Annotated[str, typer.Option(help="Why (kept in the entry memo and the audit log).")]


@ledger_cli.command("reverse")
def reverse_cmd(
    entry: Annotated[int, typer.Option(help="Journal entry id to reverse.")],
    reason: ReasonOption,
) -> None:
    """Post the mirror of an entry (in the open month if its month is closed); above
    O2O_CORRECTION_APPROVAL_FEN, ask another finance user to approve it."""
    from app.journal import service

    settings = get_settings()
    with refusals_exit(), session_scope(make_engine(settings)) as session:
        done = service.reverse_entry(
            session, entry_id=entry, reason=reason, actor=cli_actor(), settings=settings
        )
    if isinstance(done, CorrectionRequestRead):
        _echo_pending(done)
    else:
        typer.echo(f"entry {entry} reversed by entry {done.id} in {done.period}")


@ledger_cli.command("reclassify")
def reclassify_cmd(
    event: Annotated[str, typer.Option(help="event_id whose revenue sits in suspense.")],
    branch: Annotated[str, typer.Option(help="Code of the branch that should get it.")],
    reason: ReasonOption,
) -> None:
    """Move an event's suspense:unowned credit to a branch with a new adjustment entry;
    above O2O_CORRECTION_APPROVAL_FEN, ask another finance user to approve it."""
    from app.journal import service

    settings = get_settings()
    with refusals_exit(), session_scope(make_engine(settings)) as session:
        done = service.reclassify_event(
            session, event_id=event, branch_code=branch, reason=reason, actor=cli_actor(),
            settings=settings,
        )  # fmt: skip
    if isinstance(done, CorrectionRequestRead):
        _echo_pending(done)
        return
    moved = ", ".join(f"{p.account} {p.amount:+d}" for p in done.postings)
    typer.echo(f"event {event} reclassified by entry {done.id} in {done.period}: {moved}")


def _echo_pending(request: CorrectionRequestRead) -> None:
    typer.echo(
        f"request {request.id}: {request.kind} of {request.target} ({request.amount_fen} fen) "
        "waits for another finance user: o2o ledger approve --request "
        f"{request.id}"
    )


RequestOption = Annotated[int, typer.Option(help="Correction request id.")]


@ledger_cli.command("approve")
def approve_cmd(request: RequestOption) -> None:
    """Post a pending correction (never your own request: the CLI user is cli:<login>)."""
    from app.journal import service

    with refusals_exit(), session_scope(make_engine(get_settings())) as session:
        done = service.approve_correction(session, request_id=request, actor=cli_actor())
    typer.echo(f"request {request} approved: entry {done.id} in {done.period}")


@ledger_cli.command("reject")
def reject_cmd(request: RequestOption) -> None:
    """Close a pending correction without posting it (never your own request)."""
    from app.journal import service

    with refusals_exit(), session_scope(make_engine(get_settings())) as session:
        service.reject_correction(session, request_id=request, actor=cli_actor())
    typer.echo(f"request {request} rejected")


@ledger_cli.command("corrections")
def corrections_cmd(
    pending: Annotated[bool, typer.Option(help="Only those waiting for approval.")] = False,
) -> None:
    """Correction requests: id, state, kind, target, fen, who asked, who decided."""
    from app.journal import service

    with refusals_exit(), session_scope(make_engine(get_settings())) as session:
        found = service.list_corrections(session, pending_only=pending)
    for r in found.items:
        typer.echo(f"{r.id}\t{r.status}\t{r.kind}\t{r.target}\t{r.branch_code or '-'}\t"
                   f"{r.amount_fen}\t{r.requested_by}\t{r.decided_by or '-'}")  # fmt: skip
