"""lead pages keep room for a second version of every row: fillfactor 50 -> 45

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07

Issue 18.2. A round commit rewrites each pooled lead once (branch, status, assigned_at) and
PostgreSQL keeps the new version on the same page (HOT: no index entries) only if the page
has room for it. At fillfactor 50 a page holds ~20 rows of a bench import and the new
versions, 16 bytes longer each (branch, assigned_at, the longer status), did not all fit:
117,503 of 1,299,222 updates left their page and added an entry to each of lead's four
indexes. `tests/app/test_commit_in_place.py` commits pages of the widest and of the
narrowest rows the importer writes: every row stayed on its page up to fillfactor 47, and
at 44 so did all 1.3M of the bench (the update 13.7-16.2 s against 17.0-23.8 s at 50,
bench/RESULTS.md); 45 keeps a margin. A page holds ~18 rows instead of ~20: scans of
`lead` read ~11% more pages. As in 0025, the setting applies
to pages written from now on; ``VACUUM FULL lead`` in a quiet hour repacks an existing table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _fillfactor(45)


def downgrade() -> None:
    _fillfactor(50)


def _fillfactor(percent: int) -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite has no such setting
        op.execute(f"ALTER TABLE lead SET (fillfactor = {percent})")
