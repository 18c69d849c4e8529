"""Every table, imported here so that `SQLModel.metadata` is complete for Alembic."""

from app.tables.audit import AuditRecord
from app.tables.branch import Branch
from app.tables.lead import Customer, Lead
from app.tables.ownership import Ownership
from app.tables.user import User

__all__ = ["AuditRecord", "Branch", "Customer", "Lead", "Ownership", "User"]
