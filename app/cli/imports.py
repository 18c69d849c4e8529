"""`o2o import branches|leads` (CSV in UTF-8 or GBK, or XLSX); `import revenue` is the ledger's
(app/cli/ledger.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.cli.jobs import ExistingFile, ProgressPrinter, cli_actor, fail, run_job
from app.config import get_settings
from app.imports.encoding import parse_encoding
from app.imports.report import ImportReport
from app.imports.source import Reading, parse_format
from app.limits import import_row_limit

import_cli = typer.Typer(
    help="Load branches and leads (CSV in UTF-8 or GBK, or XLSX) and revenue (CSV).",
    no_args_is_help=True,
)


@import_cli.callback()
def _import_row_limit() -> None:
    # Every import command reads its CSV through app.imports.csvfile, which enforces this.
    import_row_limit.set(get_settings().max_import_rows)


EncodingOption = Annotated[
    str,
    typer.Option(
        "--encoding",
        help="Text encoding of a CSV file: auto (UTF-8 if every byte decodes as UTF-8, "
        "else GB18030), utf-8 or gb18030 (GBK files are GB18030 files).",
    ),
]

FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        help="auto (an .xlsx workbook by its content or name, else CSV), csv or xlsx "
        "(the first worksheet, row 1 the header).",
    ),
]

JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def _reading(encoding: str, file_format: str) -> Reading:
    try:
        return Reading(encoding=parse_encoding(encoding), file_format=parse_format(file_format))
    except ValueError as exc:
        raise fail(str(exc), code=2) from None


def _print_report(report: ImportReport, *, as_json: bool) -> None:
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False) if as_json else report.summary())


@import_cli.command("branches")
def import_branches_cmd(
    file: ExistingFile,
    encoding: EncodingOption = "auto",
    file_format: FormatOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Upsert branches by code (all-or-nothing)."""
    from app.branches.importer import import_branches

    reading = _reading(encoding, file_format)
    report = run_job(lambda s: import_branches(s, path=file, actor=cli_actor(), reading=reading))
    _print_report(report, as_json=as_json)


@import_cli.command("leads")
def import_leads_cmd(
    file: ExistingFile,
    channel: Annotated[str | None, typer.Option(help="Channel for rows without one.")] = None,
    encoding: EncodingOption = "auto",
    file_format: FormatOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Add new leads, idempotent by (channel, external_id), all-or-nothing."""
    from app.imports.parallel import workers_for
    from app.leads.importer import import_leads

    settings = get_settings()
    reading = _reading(encoding, file_format)
    progress = ProgressPrinter(file.name)
    try:
        report = run_job(lambda session: import_leads(
            session, path=file, actor=cli_actor(), secret=settings.customer_key, channel=channel,
            batch_rows=settings.import_batch_rows, progress=progress, reading=reading,
            parse_workers=workers_for(file),
        ))  # fmt: skip
    finally:
        progress.done()
    _print_report(report, as_json=as_json)
