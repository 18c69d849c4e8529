"""Every table, imported here so that `SQLModel.metadata` is complete for Alembic.

The ledger's table classes end in ``Row`` (``JournalEntryRow``, ``RevenueEventRow``,
``StatementRow``, ``SplitPolicyRow``...): the pure core ``ledger/`` owns the plain names, and
the ledger shell (``app/journal``) uses both without aliases. The SQL table names are the
``__tablename__`` of each class and do not follow the class names.
"""

from app.tables import journal  # noqa: F401  (ledger tables, app/tables/journal.py)
from app.tables.audit import AuditRecord, AuditSeal, AuditSealMark
from app.tables.branch import Branch
from app.tables.channel import ChannelKey
from app.tables.correction import CorrectionRequestRow
from app.tables.job import Job
from app.tables.lead import Customer, Lead, LeadPlacement
from app.tables.load import BranchLoadDrop, BranchLoadRise, BranchLoadSeen
from app.tables.notification import DeadlineWarning, Notification, NotificationOutbox
from app.tables.ownership import Ownership
from app.tables.policy import SplitPolicyRow
from app.tables.round import AllocationRound, RoundAssignment, RoundLock
from app.tables.routing import RoundBranchPrice, RoutingSwitch
from app.tables.scenario import SavedScenario
from app.tables.user import User

__all__ = [
    "AllocationRound",
    "AuditRecord",
    "AuditSeal",
    "AuditSealMark",
    "Branch",
    "BranchLoadDrop",
    "BranchLoadRise",
    "BranchLoadSeen",
    "ChannelKey",
    "CorrectionRequestRow",
    "Customer",
    "DeadlineWarning",
    "Job",
    "Lead",
    "LeadPlacement",
    "Notification",
    "NotificationOutbox",
    "Ownership",
    "RoundAssignment",
    "RoundBranchPrice",
    "RoundLock",
    "RoutingSwitch",
    "SavedScenario",
    "SplitPolicyRow",
    "User",
]
