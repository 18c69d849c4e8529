"""Every PostgreSQL advisory lock key the product takes, in one list so none collide.

Keys are arbitrary but fixed: changing one while an old process still runs would let both
hold "the same" lock. SQLite has one writer at a time and needs none of them.
"""

from __future__ import annotations

ROUND = 0x0202_0001  # one allocation round solving or committing (session lock)
AUDIT_SEAL = 0x0203_0001  # one sealer of the audit chain at a time (transaction lock)
LEDGER_CLOSE = (20261125, 2)  # postings share it, a period close takes it alone
