"""Every table, imported here so that `SQLModel.metadata` is complete for Alembic."""

from app.tables import journal  # noqa: F401  (ledger tables, app/tables/journal.py)
from app.tables.audit import AuditRecord, AuditSeal, AuditSealMark
from app.tables.branch import Branch
from app.tables.channel import ChannelKey
from app.tables.lead import Customer, Lead
from app.tables.ownership import Ownership
from app.tables.policy import SplitPolicy
from app.tables.round import AllocationRound, RoundAssignment, RoundLock
from app.tables.user import User

__all__ = [
    "AllocationRound",
    "AuditRecord",
    "AuditSeal",
    "AuditSealMark",
    "Branch",
    "ChannelKey",
    "Customer",
    "Lead",
    "Ownership",
    "RoundAssignment",
    "RoundLock",
    "SplitPolicy",
    "User",
]
