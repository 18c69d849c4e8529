"""lead's channel and external_id compare byte by byte (collation "C", PostgreSQL)

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07

Issue 18.2. Each imported lead goes into two indexes on these columns, (channel,
external_id) and (external_id), and every comparison on the way down took the database
locale's strcoll. In collation "C" it is a memcmp: inserting 1.3M leads into a copy of
`lead` with its indexes took 19.5-24.1 s against 23.6-28.0 s (a busy machine, back to
back, bench/RESULTS.md). Both are keys matched for equality, never sorted for people; in a
C.UTF-8 database (the bench's) the order of every string is the same either way. The
indexes are rebuilt, the table is not rewritten. Comparisons with other tables' columns take
the non-default collation of these, so no query changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _collate(' COLLATE "C"')


def downgrade() -> None:
    _collate(' COLLATE "default"')


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite compares text byte by byte already
    op.execute(
        f"ALTER TABLE lead ALTER COLUMN channel TYPE varchar(64){collation}, "
        f"ALTER COLUMN external_id TYPE varchar(128){collation}"
    )
