"""The split-policy page: every version with the span it is in force, and a refused version's
errors sorted to the fields they are about."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.journal import service
from app.journal.schemas import PolicyRead
from app.web.labels import REVENUE_TYPES

# The form's fields, in the order of the form; an error of any other column ("*": the version
# as a whole, such as shares not totalling 100%) is said above the form.
FIELDS = ("policy_id", "revenue_type", "valid_from", "branch_bps", "hq_online_bps",
          "overlay_bps", "reason")  # fmt: skip


@dataclass(frozen=True, slots=True)
class PoliciesView:
    policies: list[PolicyRead]
    revenue_types: dict[str, str]  # code -> label, in the form's select


def policies_view(session: Session) -> PoliciesView:
    policies = service.list_policies(session).items
    ordered = sorted(policies, key=lambda p: (p.revenue_type, p.valid_from), reverse=True)
    return PoliciesView(policies=ordered, revenue_types=REVENUE_TYPES)
