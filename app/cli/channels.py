"""`o2o channels create|rotate|revoke|list`: API keys of channel systems."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from app.cli.jobs import cli_actor, run_job
from app.intake.keys import IssuedKey

if TYPE_CHECKING:
    from sqlmodel import Session

channels_cli = typer.Typer(help="API keys of channel systems (HQ).", no_args_is_help=True)


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

    run_job(lambda s: revoke_key(s, key_id=key_id, actor=cli_actor()))
    typer.echo(f"key {key_id} revoked")


@channels_cli.command("list")
def channels_list() -> None:
    """Every key: channel, id, issued, revoked (never the secret)."""
    from app.intake.keys import list_keys

    rows: list[str] = []
    run_job(lambda s: rows.extend(
        f"{k.channel:24} {k.key_id}  issued {k.created_at:%Y-%m-%d %H:%M} by {k.created_by}"
        + (f"  revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "  live")
        for k in list_keys(s)
    ))  # fmt: skip
    typer.echo("\n".join(rows) if rows else "no channel keys")


def _print_key(action: Callable[[Session], IssuedKey]) -> None:
    issued: list[IssuedKey] = []
    run_job(lambda s: issued.append(action(s)))
    key = issued[0]
    typer.echo(f"channel {key.channel}: key {key.key_id}")
    typer.echo(key.token)
    typer.echo("store it now: it is not shown again", err=True)
