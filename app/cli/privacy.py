"""`o2o privacy export|erase|seal-plain`: a person's rights under PIPL, from the HQ terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import text
from sqlmodel import Session, col, select

from app.cli.jobs import cli_actor, refusals_exit
from app.config import get_settings
from app.db import make_engine, session_scope
from app.privacy import subjects
from app.privacy.cipher import PREFIX, cipher_for
from app.tables import Lead

privacy_cli = typer.Typer(
    help="Personal data: export or erase one person's data; seal plain mobile numbers.",
    no_args_is_help=True,
)
Mobile = Annotated[str, typer.Option(help="The person's mobile number.")]


@privacy_cli.command("export")
def export_cmd(
    mobile: Mobile,
    out: Annotated[Path | None, typer.Option(help="Write the JSON here (default: stdout).")] = None,
) -> None:
    """Everything held about one person as JSON: leads, ownership, revenue, audit (audited)."""

    settings = get_settings()
    with refusals_exit(), session_scope(make_engine(settings)) as session:
        held = subjects.export_subject(
            session, mobile=mobile, secret=settings.customer_key, actor=cli_actor()
        )
    document = json.dumps(held, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(document)
    else:
        out.write_text(document + "\n", encoding="utf-8")
        typer.echo(f"privacy export: {len(held['leads'])} lead(s) written to {out}")


@privacy_cli.command("erase")
def erase_cmd(
    mobile: Mobile,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log; no personal data).")],
) -> None:
    """Erase one person: blank name, number and location of their leads; unlink the number."""

    settings = get_settings()
    with refusals_exit(), session_scope(make_engine(settings)) as session:
        ids = subjects.erase_subject(
            session, mobile=mobile, reason=reason, secret=settings.customer_key,
            actor=cli_actor(),
        )  # fmt: skip
    typer.echo(f"privacy erase: {len(ids)} lead(s) erased: {', '.join(map(str, ids))}")


@privacy_cli.command("seal-plain")
def seal_plain_cmd(
    batch: Annotated[int, typer.Option(min=100, help="Rows per transaction.")] = 5_000,
) -> None:
    """Encrypt mobile numbers still stored in plain text (rows from before encryption)."""
    engine = make_engine(get_settings())
    total = 0
    while True:
        with session_scope(engine) as session:
            sealed = _seal_batch(session, batch)
        total += sealed
        if sealed < batch:
            break
    typer.echo(f"privacy seal-plain: {total} mobile number(s) sealed")


def _seal_batch(session: Session, batch: int) -> int:
    cipher = cipher_for(session)
    query = (
        select(Lead.id, Lead.mobile)
        .where(col(Lead.mobile).is_not(None), col(Lead.mobile).not_like(PREFIX + "%"))
        .order_by(col(Lead.id))
        .limit(batch)
    )
    rows = [{"id": i, "mobile": cipher.seal(cipher.open(m))} for i, m in session.exec(query)]
    if rows:
        session.execute(text("UPDATE lead SET mobile = :mobile WHERE id = :id"), rows)
    return len(rows)
