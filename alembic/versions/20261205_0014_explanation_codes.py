"""round_assignment.explanation_code/_params: a lead's explanation as a code and its values

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10

The pages said the English ``explanation`` in Chinese by matching it with regular expressions,
which drifted from the text the solver writes. Now the solver's code and values are stored
beside the English text (which the API keeps returning), and the pages say the code.

Rounds solved before this revision get their codes here, from the English text they were
written with (a closed set: the unassigned reasons, "nearest eligible branch X was full",
"... had room (why)", "same customer as lead N"); anything else stays without a code and is
shown as it was written.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = ("no_location", "no_eligible_branch", "capacity_exhausted", "beyond_max_distance")
WHY = {"load balance": "load_balance", "equal cost": "equal_cost", "greedy rule": "greedy",
       "round_robin rule": "round_robin", "weighted_random rule": "weighted_random"}  # fmt: skip
NEAREST = "nearest eligible branch "


def upgrade() -> None:
    op.add_column("round_assignment", sa.Column("explanation_code", sa.String(32), nullable=True))
    op.add_column(
        "round_assignment", sa.Column("explanation_params", sa.String(200), nullable=True)
    )
    _code_the_rounds_solved_before()


def downgrade() -> None:
    op.drop_column("round_assignment", "explanation_params")
    op.drop_column("round_assignment", "explanation_code")


def _code_the_rounds_solved_before() -> None:
    bind = op.get_bind()
    followers = sa.text(
        "UPDATE round_assignment SET explanation_code = 'round.same_customer', "
        "explanation_params = '{\"lead\":' || CAST(follows_lead_id AS VARCHAR(20)) || '}' "
        "WHERE follows_lead_id IS NOT NULL"
    )
    bind.execute(followers)
    texts = sa.text(
        "SELECT DISTINCT explanation FROM round_assignment "
        "WHERE follows_lead_id IS NULL AND explanation <> ''"
    )
    update = sa.text(
        "UPDATE round_assignment SET explanation_code = :code, explanation_params = :params "
        "WHERE follows_lead_id IS NULL AND explanation = :text"
    )
    for (text,) in bind.execute(texts).all():  # a few per branch, not per lead
        coded = _legacy_code(text)
        if coded is not None:
            bind.execute(update, {"text": text, "code": coded[0], "params": coded[1]})


def _legacy_code(text: str) -> tuple[str, str | None] | None:
    if text in REASONS:
        return f"plan.{text}", None
    if not text.startswith(NEAREST):
        return None
    branch, _, rest = text[len(NEAREST) :].partition(" ")
    if rest == "was full":
        return "plan.nearest_full", json.dumps({"branch": branch}, separators=(",", ":"))
    why = WHY.get(rest.removeprefix("had room (").removesuffix(")"))
    if rest.startswith("had room (") and why is not None:
        params = {"branch": branch, "why": why}
        return "plan.nearest_had_room", json.dumps(params, separators=(",", ":"))
    return None
