"""The `o2o` command. Each command is one job: one session, committed once or rolled back."""

from __future__ import annotations

import getpass
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from app.allocate_cli import allocate
from app.audit_cli import audit_cli
from app.clock import install_start
from app.config import Settings, get_settings
from app.db import make_engine, session_scope
from app.errors import AppError, FileRejected
from app.imports.encoding import parse_encoding
from app.imports.report import ImportReport
from app.imports.source import Reading, parse_format
from app.intake.keys import IssuedKey
from app.journal.cli import import_revenue_cmd, ledger_cli
from app.limits import import_row_limit
from app.privacy.cipher import data_key_problem
from app.privacy.cli import privacy_cli

if TYPE_CHECKING:
    from sqlmodel import Session

    from app.rounds.schemas import RoundRead

cli = typer.Typer(help="O2O lead allocation and commission ledger.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
import_cli = typer.Typer(
    help="Load branches and leads (CSV in UTF-8 or GBK, or XLSX) and revenue (CSV).",
    no_args_is_help=True,
)
users_cli = typer.Typer(help="Staff accounts.", no_args_is_help=True)
round_cli = typer.Typer(help="Allocation rounds.", no_args_is_help=True)
lead_cli = typer.Typer(help="Headquarters actions on single leads.", no_args_is_help=True)
followup_cli = typer.Typer(help="Follow-up deadlines (for cron).", no_args_is_help=True)
channels_cli = typer.Typer(help="API keys of channel systems (HQ).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(import_cli, name="import")
cli.add_typer(users_cli, name="users")
cli.add_typer(round_cli, name="round")
cli.add_typer(lead_cli, name="lead")
cli.add_typer(followup_cli, name="followup")
cli.add_typer(channels_cli, name="channels")
cli.command("allocate")(allocate)  # the offline solver: CSV in, CSV + JSON out, no database
import_cli.command("revenue")(import_revenue_cmd)
cli.add_typer(ledger_cli, name="ledger")
cli.add_typer(audit_cli, name="audit")
cli.add_typer(privacy_cli, name="privacy")


@import_cli.callback()
def _import_row_limit() -> None:
    # Every import command reads its CSV through app.imports.csvfile, which enforces this.
    import_row_limit.set(get_settings().max_import_rows)


ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def fail(message: str, *, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def report_rejection(exc: FileRejected) -> typer.Exit:
    for error in exc.errors:
        typer.echo(str(error), err=True)
    hidden = exc.total_errors - len(exc.errors)
    if hidden > 0:
        typer.echo(f"... and {hidden} more bad row(s)", err=True)
    return fail(exc.message, code=2)


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (alembic upgrade)."""
    from app.migrations import upgrade

    engine = make_engine(get_settings())
    upgrade(engine, revision)
    typer.echo(f"database at {revision}")


class ProgressPrinter:
    """Rows done and rate on stderr, rewritten in place on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()
        self.tty = sys.stderr.isatty()

    def __call__(self, rows: int) -> None:
        rate = rows / max(time.perf_counter() - self.started, 1e-9)
        line = f"{self.label}: {rows:,} rows ({rate:,.0f} rows/s)"
        typer.echo(("\r" + line) if self.tty else line, err=True, nl=not self.tty)

    def done(self) -> None:
        if self.tty:
            typer.echo("", err=True)


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

    settings = get_settings()
    reading = _reading(encoding, file_format)
    try:
        with session_scope(make_engine(settings)) as session:
            report = import_branches(session, path=file, actor=cli_actor(), reading=reading)
    except FileRejected as exc:
        raise report_rejection(exc) from None
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
    from app.leads.importer import import_leads

    settings = get_settings()
    reading = _reading(encoding, file_format)
    progress = ProgressPrinter(file.name)
    try:
        with session_scope(make_engine(settings)) as session:
            report = import_leads(
                session,
                path=file,
                actor=cli_actor(),
                secret=settings.customer_key,
                channel=channel,
                batch_rows=settings.import_batch_rows,
                progress=progress,
                reading=reading,
            )
    except FileRejected as exc:
        progress.done()
        raise report_rejection(exc) from None
    progress.done()
    _print_report(report, as_json=as_json)


@users_cli.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="hq, branch, finance or auditor")],
    branch: Annotated[str | None, typer.Option(help="Branch code (branch users only).")] = None,
) -> None:
    """Create a user; the password is read from standard input."""
    from app.users.service import create_user

    password = _read_password()
    try:
        with session_scope(make_engine(get_settings())) as session:
            user = create_user(
                session,
                username=username,
                password=password,
                role=role,
                branch_code=branch,
                actor=cli_actor(),
            )
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    typer.echo(f"created user '{user.username}' ({user.role})")


@users_cli.command("deactivate")
def users_deactivate(username: str) -> None:
    """Deactivate a user; their tokens stop working at once."""
    from app.users.service import deactivate_user

    _user_job(lambda s: deactivate_user(s, username=username, actor=cli_actor()))
    typer.echo(f"deactivated '{username}'")


@users_cli.command("move")
def users_move(username: str, branch: Annotated[str, typer.Option()]) -> None:
    """Move a branch user to another branch; old tokens stop working at once."""
    from app.users.service import move_user

    _user_job(lambda s: move_user(s, username=username, branch_code=branch, actor=cli_actor()))
    typer.echo(f"moved '{username}' to branch {branch}")


@users_cli.command("unlock")
def users_unlock(username: Annotated[str, typer.Option()]) -> None:
    """Lift a sign-in lockout of an account from every address (audited as auth.unlocked)."""
    from app.users.login import unlock

    _user_job(lambda s: unlock(s, username=username, actor=cli_actor()))
    typer.echo(f"unlocked sign-in for '{username}'")


def _user_job(action: object) -> None:
    try:
        with session_scope(make_engine(get_settings())) as session:
            action(session)  # type: ignore[operator]
    except AppError as exc:
        raise fail(exc.message, code=2) from None


@followup_cli.command("run")
def followup_run() -> None:
    """Reclaim every customer whose follow-up deadline passed (run it hourly from cron)."""
    from app.ownership.reclaim import reclaim_lapsed
    from app.tables.base import utcnow

    reclaimed: list[int] = []
    _user_job(
        lambda s: reclaimed.append(
            reclaim_lapsed(s, settings=get_settings(), actor=cli_actor(), now=utcnow())
        )
    )
    typer.echo(f"reclaimed {reclaimed[0]} customer(s) past the follow-up deadline")


@channels_cli.command("create")
def channels_create(channel: str) -> None:
    """Issue a key for CHANNEL; it is printed once, only its hash is kept."""
    from app.intake.keys import issue_key

    _print_key(lambda s: issue_key(s, channel=channel, actor=cli_actor()))


@channels_cli.command("rotate")
def channels_rotate(channel: str) -> None:
    """Issue a new key for CHANNEL and revoke its older ones at once."""
    from app.intake.keys import rotate_keys

    _print_key(lambda s: rotate_keys(s, channel=channel, actor=cli_actor()))


@channels_cli.command("revoke")
def channels_revoke(key_id: str) -> None:
    """Revoke one key by its id (the part after `o2o_`)."""
    from app.intake.keys import revoke_key

    _user_job(lambda s: revoke_key(s, key_id=key_id, actor=cli_actor()))
    typer.echo(f"key {key_id} revoked")


@channels_cli.command("list")
def channels_list() -> None:
    """Every key: channel, id, issued, revoked (never the secret)."""
    from app.intake.keys import list_keys

    rows: list[str] = []
    _user_job(lambda s: rows.extend(
        f"{k.channel:24} {k.key_id}  issued {k.created_at:%Y-%m-%d %H:%M} by {k.created_by}"
        + (f"  revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "  live")
        for k in list_keys(s)
    ))  # fmt: skip
    typer.echo("\n".join(rows) if rows else "no channel keys")


def _print_key(action: Callable[[Session], IssuedKey]) -> None:
    issued: list[IssuedKey] = []
    _user_job(lambda s: issued.append(action(s)))
    key = issued[0]
    typer.echo(f"channel {key.channel}: key {key.key_id}")
    typer.echo(key.token)
    typer.echo("store it now: it is not shown again", err=True)


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


@round_cli.command("run")
def round_run(
    commit: Annotated[bool, typer.Option("--commit", help="Commit the plan at once.")] = False,
    balance_weight: Annotated[float, typer.Option(min=0)] = 0.0,
    max_distance_km: Annotated[float | None, typer.Option(min=0)] = None,
    time_limit: Annotated[float, typer.Option(min=1, help="Solver time limit, seconds.")] = 60.0,
) -> None:
    """Solve a round over the current pool (a preview unless --commit)."""
    from app.rounds.queries import read_round
    from app.rounds.service import RoundParams, run_round

    settings = get_settings()
    engine = make_engine(settings)
    params = RoundParams(
        balance_weight=balance_weight, max_distance_km=max_distance_km, time_limit_s=time_limit
    )
    try:
        round_id = run_round(
            engine, settings=settings, actor=cli_actor(), params=params, commit=commit
        )
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    with session_scope(engine) as session:
        typer.echo(_round_summary(read_round(session, round_id=round_id)))


@round_cli.command("whatif")
def round_whatif(
    scenario: Annotated[Path, typer.Option("--scenario", help="Scenario JSON file.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the full comparison as JSON.")
    ] = False,
) -> None:
    """Solve a scenario on the live pool beside the current plan; nothing is committed."""
    from app.rounds.scenario import parse_scenario
    from app.rounds.whatif import run_whatif, summary_lines

    settings = get_settings()
    engine = make_engine(settings)
    try:
        text = scenario.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise fail(f"{scenario}: {exc.strerror}", code=2) from None
    try:
        result = run_whatif(
            engine, settings=settings, actor=cli_actor(),
            scenario=parse_scenario(text, source=str(scenario)),
        )  # fmt: skip
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(summary_lines(result)))


@round_cli.command("sweep")
def round_sweep(
    branches: Annotated[
        str, typer.Option(help="Branch codes, comma-separated (default: every active branch).")
    ] = "",
    max_added: Annotated[int, typer.Option("--max-added", min=1, max=1000)] = 20,
    step: Annotated[int, typer.Option(min=1, max=1000)] = 1,
    workers: Annotated[int | None, typer.Option(min=1, help="Local processes.")] = None,
    time_limit: Annotated[float, typer.Option(min=1, help="Per solve, seconds.")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print every variation.")] = False,
) -> None:
    """Re-solve the current plan with 1..N more places at each branch (O2O_RAY_ADDRESS: on Ray)."""
    from app.rounds.sweep import SweepRequest, run_sweep, summary_lines
    from app.solve_pool import default_workers

    settings = get_settings()
    request = SweepRequest(
        branches=tuple(c.strip() for c in branches.split(",") if c.strip()),
        steps=tuple(range(step, max_added + 1, step)),
        workers=workers or default_workers(), time_limit_s=time_limit,
    )  # fmt: skip
    try:
        result = run_sweep(make_engine(settings), settings=settings, actor=cli_actor(),
                           request=request)  # fmt: skip
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    typer.echo(json.dumps(result, indent=2) if as_json else "\n".join(summary_lines(result)))


@round_cli.command("commit")
def round_commit(round_id: int) -> None:
    """Commit a solved round: assignments and ownership in one transaction."""
    from app.rounds.queries import read_round
    from app.rounds.service import commit_round

    settings = get_settings()
    engine = make_engine(settings)
    try:
        commit_round(engine, settings=settings, actor=cli_actor(), round_id=round_id)
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    with session_scope(engine) as session:
        typer.echo(_round_summary(read_round(session, round_id=round_id)))


@round_cli.command("replay")
def round_replay(round_id: int) -> None:
    """Solve a stored round's instance again and compare the plans (exit 1 if they differ)."""
    from app.rounds.replay import replay_round

    try:
        with session_scope(make_engine(get_settings())) as session:
            result = replay_round(session, round_id=round_id)
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    verdict = "identical plan" if result.identical else f"{result.differences} lead(s) differ"
    typer.echo(
        f"round {round_id}: replayed {result.leads} leads: {verdict}; "
        f"objective {result.objective:,.3f} (stored {result.stored_objective or 0:,.3f})"
    )
    if not result.identical:
        raise typer.Exit(1)


@round_cli.command("cancel")
def round_cancel(round_id: int) -> None:
    """Cancel a round that is not committed."""
    from app.rounds.service import cancel_round

    _user_job(lambda s: cancel_round(s, actor=cli_actor(), round_id=round_id))
    typer.echo(f"round {round_id} cancelled")


def _round_summary(r: RoundRead) -> str:
    gap = "n/a" if r.gap is None else f"{r.gap:.4%}"
    distance = r.report.get("distance", {})
    mean = distance.get("mean_km")
    mean_text = "n/a" if mean is None else f"{mean:.1f} km"
    return (
        f"round {r.id}: {r.status} ({r.solver_status}); pool {r.pool_size}, assigned {r.assigned}, "
        f"unassigned {r.unassigned} {r.report.get('unassigned_by_reason', {})}; "
        f"total cost {r.objective:,.1f} km, lower bound {r.lower_bound or 0:,.1f}, gap {gap}; "
        f"mean distance {mean_text}; solved in {r.solve_seconds or 0:.2f} s"
    )


@lead_cli.command("transfer")
def lead_transfer(
    lead_id: int,
    branch: Annotated[str, typer.Option(help="Code of the receiving branch.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
    override: Annotated[
        bool,
        typer.Option(
            "--override",
            help="Transfer even to a full branch or one that does not serve the customer's "
            "tier (audited as an override).",
        ),
    ] = False,
) -> None:
    """Move a lead's customer (all its leads) and its ownership to another branch (HQ, audited).

    Refused when the branch is full or does not serve the customer's tier, unless --override.
    """
    from app.auth import Principal
    from app.leads.followup import transfer_lead

    operator = Principal(
        user_id=0, username=cli_actor(), role="hq", branch_id=None, branch_code=None
    )
    _user_job(
        lambda s: transfer_lead(
            s,
            principal=operator,
            lead_id=lead_id,
            branch_code=branch,
            reason=reason,
            override=override,
        )
    )
    typer.echo(f"lead {lead_id} transferred to {branch}")


@cli.command("demo")
def demo(
    leads: Annotated[int, typer.Option(min=100, max=2_000_000)] = 30_000,
    branches: Annotated[int, typer.Option(min=2, max=5_000)] = 360,
) -> None:
    """Load the demo data set (branches, leads, users) and print the logins."""
    from app.demo import load_demo

    settings = get_settings()
    started = time.perf_counter()
    engine = make_engine(settings)
    result = load_demo(engine, settings, leads=leads, branches=branches)
    typer.echo(f"demo data loaded in {time.perf_counter() - started:.1f} s")
    with session_scope(engine) as session:
        from app.rounds.queries import read_round

        typer.echo(_round_summary(read_round(session, round_id=result.round_id)))
    typer.echo(f"revenue: {result.revenue}")
    typer.echo("logins (username / password / role):")
    for login in result.logins:
        where = f" of {login.branch}" if login.branch else ""
        typer.echo(f"  {login.username:10} {login.password:22} {login.role}{where}")


@cli.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Allow the published development key (local demo).")
    ] = False,
) -> None:
    """Serve the web app and API (refuses a published or guessable O2O_SECRET_KEY)."""
    import uvicorn

    settings = get_settings()
    problem = settings.insecure_secret_problem
    if problem is not None:
        if not (demo or settings.demo_mode):
            typer.echo(
                f"error: {problem}.\n"
                "Set O2O_SECRET_KEY to a random value of at least 32 characters, e.g.\n"
                "  export O2O_SECRET_KEY=$(python3 -c "
                "'import secrets; print(secrets.token_urlsafe(48))')\n"
                "or pass --demo (O2O_DEMO_MODE=1) for a local demonstration.",
                err=True,
            )
            raise SystemExit(2)
        typer.echo(f"warning: demo mode: {problem}", err=True)
    _refuse_a_wrong_data_key(settings)
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers)


def _refuse_a_wrong_data_key(settings: Settings) -> None:
    engine = make_engine(settings)
    with session_scope(engine) as session:
        problem = data_key_problem(session)
    engine.dispose()
    if problem is not None:
        typer.echo(f"error: {problem}; nothing was served. Set O2O_DATA_KEY to the key the "
                   "mobile numbers were sealed with.", err=True)  # fmt: skip
        raise SystemExit(2)


def main() -> None:
    """Entry point: bad settings are an operator error (exit 2), not a traceback."""
    try:
        install_start(get_settings().clock_start)
    except ValidationError as exc:
        for error in exc.errors():
            field = "O2O_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
            typer.echo(f"error: {field}: {error['msg']}", err=True)
        raise SystemExit(2) from None
    cli()


if __name__ == "__main__":
    main()
