"""Who may call what: every route x method x role with the status it must answer, as data.

One row per route of the application (the JSON API, the pages and forms, the public files).
`test_authz_matrix.py` runs every row as every role on both databases, and fails when a route
has no row or a row names a route that no longer exists.

Roles (columns):
  anonymous    no token, no cookie
  branch_a     staff of branch A (SZ-FT); object routes use one of A's leads
  branch_b     staff of branch B (BJ-CY) reaching for A's object: must look missing (404)
  hq, finance, auditor
  deactivated  signed in, then deactivated: the old token and cookie must be refused
  moved        signed in at A, then moved to another branch: the old token and cookie are refused

Statuses: integers are HTTP statuses (303 = a redirect somewhere other than the sign-in page);
LOGIN is a 303 to the sign-in page, which is how the pages refuse a missing or dead session.

`recipe` names how the request is built (which object, which body): see test_authz_matrix.py.
Object recipes named `fresh_*` build new objects for every role, so rows never depend on
each other or on the order roles run in.
"""

from __future__ import annotations

from dataclasses import dataclass

LOGIN = "login"
ROLES = ("anonymous", "branch_a", "branch_b", "hq", "finance", "auditor", "deactivated", "moved")
Expected = int | str

# fmt: off
MATRIX: tuple[tuple[str, str, str, tuple[Expected, ...]], ...] = (
    # method, path, recipe,                                          anon   A    B    hq   fin  aud  deact moved
    # --- JSON API: bearer token ---
    ("POST", "/api/v1/auth/token", "own_login",                      (401, 200, 200, 200, 200, 200, 401, 200)),
    ("GET", "/api/v1/leads", "plain",                                (401, 200, 200, 200, 403, 200, 401, 401)),
    ("GET", "/api/v1/leads/{lead_id}", "lead_a",                     (401, 200, 404, 200, 403, 200, 401, 401)),
    ("POST", "/api/v1/leads/{lead_id}/contacted", "fresh_lead_a",    (401, 200, 404, 403, 403, 403, 401, 401)),
    ("POST", "/api/v1/leads/{lead_id}/converted", "fresh_lead_a",    (401, 200, 404, 403, 403, 403, 401, 401)),
    ("POST", "/api/v1/leads/{lead_id}/return", "fresh_lead_a",       (401, 204, 404, 403, 403, 403, 401, 401)),
    ("POST", "/api/v1/leads/{lead_id}/transfer", "fresh_lead_a",     (401, 403, 403, 200, 403, 403, 401, 401)),
    ("POST", "/api/v1/leads/{lead_id}/reveal", "fresh_lead_a",       (401, 200, 404, 200, 403, 403, 401, 401)),
    # Personal data (HQ only); a bodiless request from HQ gets as far as validation.
    ("POST", "/api/v1/privacy/subjects/export", "plain",           (401, 403, 403, 422, 403, 403, 401, 401)),
    ("POST", "/api/v1/privacy/subjects/erase", "plain",            (401, 403, 403, 422, 403, 403, 401, 401)),
    # Notifications: a branch reads and marks its own; HQ sees deliveries and retries dead ones.
    ("GET", "/api/v1/notifications", "plain",                        (401, 200, 200, 403, 403, 403, 401, 401)),
    ("POST", "/api/v1/notifications/{notification_id}/read", "fresh_notice_a", (401, 200, 404, 403, 403, 403, 401, 401)),
    ("GET", "/api/v1/notifications/deliveries", "plain",             (401, 403, 403, 200, 403, 200, 401, 401)),
    ("POST", "/api/v1/notifications/deliveries/{delivery_id}/retry", "fresh_dead_letter", (401, 403, 403, 204, 403, 403, 401, 401)),
    ("POST", "/api/v1/rounds", "new_round",                          (401, 403, 403, 201, 403, 403, 401, 401)),
    # What-if (HQ only); a bodiless request from HQ gets as far as validation.
    ("GET", "/api/v1/jobs", "plain",                                 (401, 403, 403, 200, 403, 200, 401, 401)),
    ("GET", "/api/v1/jobs/{job_id}", "queued_job",                   (401, 403, 403, 200, 403, 200, 401, 401)),
    ("POST", "/api/v1/jobs/{job_id}/cancel", "queued_job",           (401, 403, 403, 202, 403, 403, 401, 401)),
    ("POST", "/api/v1/rounds/whatif", "plain",                       (401, 403, 403, 422, 403, 403, 401, 401)),
    ("GET", "/api/v1/rounds", "plain",                               (401, 403, 403, 200, 403, 200, 401, 401)),
    # The funnel: HQ and auditors see every lead, a branch its own.
    ("GET", "/api/v1/analytics/funnel", "plain",                     (401, 200, 200, 200, 403, 200, 401, 401)),
    ("GET", "/api/v1/rounds/{round_id}", "round_preview",            (401, 403, 403, 200, 403, 200, 401, 401)),
    ("GET", "/api/v1/rounds/{round_id}/assignments", "round_preview", (401, 403, 403, 200, 403, 200, 401, 401)),
    ("POST", "/api/v1/rounds/{round_id}/commit", "round_preview",    (401, 403, 403, 200, 403, 403, 401, 401)),
    ("POST", "/api/v1/rounds/{round_id}/cancel", "round_preview",    (401, 403, 403, 200, 403, 403, 401, 401)),
    # Lead and branch files (HQ only): refused from the headers before the body is read.
    ("POST", "/api/v1/imports/leads", "lead_file",                   (401, 403, 403, 200, 403, 403, 401, 401)),
    ("POST", "/api/v1/imports/branches", "branch_file",              (401, 403, 403, 200, 403, 403, 401, 401)),
    ("POST", "/api/v1/ledger/revenue-imports", "revenue_file",       (401, 403, 403, 403, 200, 403, 401, 401)),
    ("POST", "/api/v1/ledger/periods/{period}/close", "next_period", (401, 403, 403, 403, 200, 403, 401, 401)),
    ("GET", "/api/v1/ledger/export", "closed_period_query",          (401, 403, 403, 403, 200, 200, 401, 401)),
    ("GET", "/api/v1/ledger/statements", "plain",                    (401, 403, 403, 403, 200, 200, 401, 401)),
    ("GET", "/api/v1/ledger/statements/{period}/{branch_code}", "statement_a", (401, 403, 403, 403, 200, 200, 401, 401)),
    ("GET", "/api/v1/ledger/verify", "plain",                        (401, 403, 403, 403, 200, 200, 401, 401)),
    ("GET", "/api/v1/ledger/policies", "plain",                      (401, 403, 403, 403, 200, 200, 401, 401)),
    ("POST", "/api/v1/ledger/policies", "new_policy",                (401, 403, 403, 403, 201, 403, 401, 401)),
    ("POST", "/api/v1/ledger/entries/{entry_id}/reverse", "fresh_entry", (401, 403, 403, 403, 201, 403, 401, 401)),
    ("POST", "/api/v1/ledger/events/{event_id}/reclassify", "suspense_event", (401, 403, 403, 403, 201, 403, 401, 401)),
    ("GET", "/api/v1/ledger/corrections", "plain",                   (401, 403, 403, 403, 200, 200, 401, 401)),
    ("POST", "/api/v1/ledger/corrections/{request_id}/approve", "pending_correction", (401, 403, 403, 403, 201, 403, 401, 401)),
    ("POST", "/api/v1/ledger/corrections/{request_id}/reject", "pending_correction", (401, 403, 403, 403, 200, 403, 401, 401)),
    # --- channel systems: a channel key (X-API-Key), never a staff token or cookie ---
    ("POST", "/api/v1/intake/leads", "intake_batch",                 (401, 401, 401, 401, 401, 401, 401, 401)),
    ("GET", "/api/v1/routing", "plain",                              (401, 403, 403, 200, 403, 200, 401, 401)),
    ("POST", "/api/v1/routing", "routing_on",                        (401, 403, 403, 200, 403, 403, 401, 401)),
    # --- public: health, API documentation, static files ---
    ("GET", "/healthz", "plain",                                     (200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/openapi.json", "plain",                                (200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/docs", "plain",                                        (200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/docs/init.js", "plain",                                (200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/docs/assets/{path}", "static_file",                    (200, 200, 200, 200, 200, 200, 200, 200)),
    ("GET", "/static/{path}", "static_file",                         (200, 200, 200, 200, 200, 200, 200, 200)),
    # Vendored browser libraries are optional (absent in the repository): a plain 404 for all.
    ("GET", "/static/vendor/{path}", "static_file",                  (404, 404, 404, 404, 404, 404, 404, 404)),
    # --- pages and forms: session cookie + CSRF token ---
    ("GET", "/login", "plain",                                       (200, 200, 200, 200, 200, 200, 200, 200)),
    ("POST", "/login", "own_login",                                  (400, 303, 303, 303, 303, 303, 400, 303)),
    ("POST", "/logout", "form",                                      (LOGIN, 303, 303, 303, 303, 303, LOGIN, LOGIN)),
    ("GET", "/", "plain",                                            (LOGIN, 200, 200, 200, 200, 200, LOGIN, LOGIN)),
    ("GET", "/inbox", "plain",                                       (LOGIN, 200, 200, 403, 403, 403, LOGIN, LOGIN)),
    ("POST", "/inbox/notifications/{notification_id}/read", "fresh_notice_a", (LOGIN, 303, 404, 403, 403, 403, LOGIN, LOGIN)),
    ("GET", "/hq/notifications", "plain",                            (LOGIN, 403, 403, 200, 403, 200, LOGIN, LOGIN)),
    ("POST", "/hq/notifications/{delivery_id}/retry", "fresh_dead_letter", (LOGIN, 403, 403, 303, 403, 403, LOGIN, LOGIN)),
    ("GET", "/leads/{lead_id}", "lead_a",                            (LOGIN, 200, 404, 200, 403, 200, LOGIN, LOGIN)),
    ("POST", "/leads/{lead_id}/contacted", "fresh_lead_a",           (LOGIN, 303, 404, 403, 403, 403, LOGIN, LOGIN)),
    ("POST", "/leads/{lead_id}/converted", "fresh_lead_a",           (LOGIN, 303, 404, 403, 403, 403, LOGIN, LOGIN)),
    ("POST", "/leads/{lead_id}/return", "fresh_lead_a",              (LOGIN, 303, 404, 403, 403, 403, LOGIN, LOGIN)),
    ("POST", "/leads/{lead_id}/transfer", "fresh_lead_a",            (LOGIN, 403, 403, 303, 403, 403, LOGIN, LOGIN)),
    ("POST", "/leads/{lead_id}/reveal", "fresh_lead_a",              (LOGIN, 200, 404, 200, 403, 403, LOGIN, LOGIN)),
    ("GET", "/hq/branches", "plain",                                 (LOGIN, 403, 403, 200, 403, 200, LOGIN, LOGIN)),
    # A bodiless form from HQ gets as far as validation.
    ("POST", "/hq/branches", "plain",                                (LOGIN, 403, 403, 422, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/branches/{code}/capacity", "fresh_branch",         (LOGIN, 403, 403, 303, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/branches/{code}/deactivate", "fresh_branch",       (LOGIN, 403, 403, 303, 403, 403, LOGIN, LOGIN)),
    ("GET", "/hq/leads", "plain",                                    (LOGIN, 403, 403, 200, 403, 200, LOGIN, LOGIN)),
    ("GET", "/hq/pool", "plain",                                     (LOGIN, 403, 403, 200, 403, 200, LOGIN, LOGIN)),
    ("GET", "/hq/imports", "plain",                                  (LOGIN, 403, 403, 200, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/imports/leads", "lead_file",                       (LOGIN, 403, 403, 200, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/imports/branches", "branch_file",                  (LOGIN, 403, 403, 200, 403, 403, LOGIN, LOGIN)),
    ("GET", "/hq/imports/templates/leads.csv", "plain",              (LOGIN, 403, 403, 200, 403, 403, LOGIN, LOGIN)),
    ("GET", "/hq/imports/templates/branches.csv", "plain",           (LOGIN, 403, 403, 200, 403, 403, LOGIN, LOGIN)),
    ("GET", "/analytics/funnel", "plain",                            (LOGIN, 200, 200, 200, 403, 200, LOGIN, LOGIN)),
    ("GET", "/analytics/funnel.csv", "plain",                        (LOGIN, 200, 200, 200, 403, 200, LOGIN, LOGIN)),
    ("GET", "/audit", "plain",                                       (LOGIN, 403, 403, 200, 403, 200, LOGIN, LOGIN)),
    ("GET", "/audit/export.csv", "plain",                            (LOGIN, 403, 403, 200, 403, 200, LOGIN, LOGIN)),
    # Staff accounts: HQ manages, auditors read; `{username}` is sent as is (no such user: 404).
    ("GET", "/hq/users", "plain",                                    (LOGIN, 403, 403, 200, 403, 200, LOGIN, LOGIN)),
    ("POST", "/hq/users", "plain",                                   (LOGIN, 403, 403, 422, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/users/{username}/deactivate", "plain",             (LOGIN, 403, 403, 404, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/users/{username}/move", "plain",                   (LOGIN, 403, 403, 422, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/users/{username}/password", "plain",               (LOGIN, 403, 403, 422, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/users/{username}/unlock", "plain",                 (LOGIN, 403, 403, 303, 403, 403, LOGIN, LOGIN)),
    ("GET", "/hq/whatif", "plain",                                   (LOGIN, 403, 403, 200, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/whatif", "plain",                                  (LOGIN, 403, 403, 422, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/whatif/compare", "plain",                          (LOGIN, 403, 403, 422, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/whatif/{scenario_id}/delete", "plain",             (LOGIN, 403, 403, 422, 403, 403, LOGIN, LOGIN)),
    ("GET", "/hq/rounds", "plain",                                   (LOGIN, 403, 403, 200, 403, 200, LOGIN, LOGIN)),
    ("POST", "/hq/rounds", "new_round",                              (LOGIN, 403, 403, 303, 403, 403, LOGIN, LOGIN)),
    ("GET", "/hq/jobs/{job_id}", "queued_job",                       (LOGIN, 403, 403, 200, 403, 200, LOGIN, LOGIN)),
    ("POST", "/hq/jobs/{job_id}/cancel", "queued_job",               (LOGIN, 403, 403, 303, 403, 403, LOGIN, LOGIN)),
    ("GET", "/hq/rounds/{round_id}", "round_preview",                (LOGIN, 403, 403, 200, 403, 200, LOGIN, LOGIN)),
    ("POST", "/hq/rounds/{round_id}/commit", "round_preview",        (LOGIN, 403, 403, 303, 403, 403, LOGIN, LOGIN)),
    ("POST", "/hq/rounds/{round_id}/cancel", "round_preview",        (LOGIN, 403, 403, 303, 403, 403, LOGIN, LOGIN)),
    # /finance only redirects to /finance/ledger, which does the checking.
    ("GET", "/finance", "plain",                                     (303, 303, 303, 303, 303, 303, 303, 303)),
    ("GET", "/finance/imports", "plain",                             (LOGIN, 403, 403, 403, 200, 200, LOGIN, LOGIN)),
    ("POST", "/finance/imports", "revenue_file",                     (LOGIN, 403, 403, 403, 200, 403, LOGIN, LOGIN)),
    ("GET", "/finance/ledger", "plain",                              (LOGIN, 403, 403, 403, 200, 200, LOGIN, LOGIN)),
    ("POST", "/finance/close", "next_period",                        (LOGIN, 403, 403, 403, 303, 403, LOGIN, LOGIN)),
    ("GET", "/finance/kpi", "plain",                                 (LOGIN, 403, 403, 200, 200, 200, LOGIN, LOGIN)),
    # A bodiless form from finance gets as far as validation; a revenue file is no policy file.
    ("GET", "/finance/policies", "plain",                            (LOGIN, 403, 403, 403, 200, 200, LOGIN, LOGIN)),
    ("POST", "/finance/policies", "plain",                           (LOGIN, 403, 403, 403, 422, 403, LOGIN, LOGIN)),
    ("POST", "/finance/policies/upload", "revenue_file",             (LOGIN, 403, 403, 403, 422, 403, LOGIN, LOGIN)),
    ("GET", "/finance/suspense", "plain",                            (LOGIN, 403, 403, 403, 200, 200, LOGIN, LOGIN)),
    ("POST", "/finance/suspense/reclassify", "suspense_event",       (LOGIN, 403, 403, 403, 303, 403, LOGIN, LOGIN)),
    ("POST", "/finance/suspense/reverse", "suspense_event",          (LOGIN, 403, 403, 403, 303, 403, LOGIN, LOGIN)),
    ("POST", "/finance/suspense/requests/{request_id}/approve", "pending_correction", (LOGIN, 403, 403, 403, 303, 403, LOGIN, LOGIN)),
    ("POST", "/finance/suspense/requests/{request_id}/reject", "pending_correction", (LOGIN, 403, 403, 403, 303, 403, LOGIN, LOGIN)),
    ("GET", "/finance/statements", "plain",                          (LOGIN, 403, 403, 403, 200, 200, LOGIN, LOGIN)),
    ("GET", "/finance/statements/{period}/{branch_code}", "statement_a", (LOGIN, 403, 403, 403, 200, 200, LOGIN, LOGIN)),
    ("GET", "/finance/export", "closed_period_query",                (LOGIN, 403, 403, 403, 200, 200, LOGIN, LOGIN)),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Row:
    method: str
    path: str
    recipe: str
    expect: dict[str, Expected]

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


def rows() -> list[Row]:
    return [
        Row(method, path, recipe, dict(zip(ROLES, statuses, strict=True)))
        for method, path, recipe, statuses in MATRIX
    ]
