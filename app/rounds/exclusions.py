"""A returned lead never goes back automatically to the branch that returned it.

The allocation model decides eligibility by tier, so such a lead gets an eligibility class of
its own: "its tier, except at branch X". Every branch that serves the tier serves the class,
except X. The result is exact (the solver simply has one more class) and needs no special case
in the solvers.
"""

from __future__ import annotations

from dataclasses import replace

from allocation.model import BUILT_IN_TIERS, BranchSpec, LeadSpec


def exclusion_tier(tier: str, branch_code: str) -> str:
    return f"{tier}!{branch_code}"


def apply_exclusions(
    branches: list[BranchSpec], leads: list[LeadSpec], excluded: dict[str, str]
) -> tuple[list[BranchSpec], list[LeadSpec]]:
    """`excluded` maps a lead's external_id to the code of the branch it may not go to."""
    if not excluded:
        return branches, leads
    real_tiers = (
        set(BUILT_IN_TIERS) | {t for b in branches for t in b.tiers} | {x.tier for x in leads}
    )
    new_leads = [
        x._replace(tier=exclusion_tier(x.tier, excluded[x.external_id]))
        if x.external_id in excluded
        else x
        for x in leads
    ]
    classes = {(x.tier, excluded[x.external_id]) for x in leads if x.external_id in excluded}
    new_branches = [_with_classes(b, real_tiers=real_tiers, classes=classes) for b in branches]
    return new_branches, new_leads


def _with_classes(
    branch: BranchSpec, *, real_tiers: set[str], classes: set[tuple[str, str]]
) -> BranchSpec:
    serves = set(branch.tiers) if branch.tiers else set(real_tiers)
    extra = {
        exclusion_tier(tier, code)
        for tier, code in classes
        if tier in serves and code != branch.code
    }
    return replace(branch, tiers=frozenset(serves | extra))
