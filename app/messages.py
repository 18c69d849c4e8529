"""The application's message codes, and how the API and the CLI say every code in English.

Errors (`app.errors.AppError`), bad rows of an import and a round's explanations carry a
`coded_messages.Message`; `ENGLISH` says it for the API and the CLI (each core's codes next to
that core, the application's here) and `app/web/messages.py` says the same codes in Chinese for
the pages. `tests/web/test_messages.py` fails when a code has no Chinese.
"""

from __future__ import annotations

import json

from allocation.explanations import ENGLISH as ALLOCATION
from coded_messages import Catalogue, Message, combined
from ledger.messages import ENGLISH as LEDGER

SAME_CUSTOMER = "round.same_customer"

LEADS = {
    "lead.wrong_status": "lead {lead} is '{status}'; only {allowed} leads can be {action}",
    "lead.customer_converted": (
        "lead {lead}'s customer converted through lead {converted}; "
        "a converted customer cannot be returned"
    ),
    "lead.no_active_branch": "no active branch '{branch}'",
    "lead.already_there": "lead {lead} already belongs to branch {branch}",
    "lead.reveal_role": "your role may not reveal personal data",
    "lead.reveal_limit": "at most {limit} number reveals per hour",
}
BRANCHES = {
    "branch.inactive": "branch {branch} is inactive",
    "branch.tier_not_served": "branch {branch} does not serve tier {tier}",
    "branch.full": "branch {branch} is full ({load} of {capacity} customers)",
    "branch.override_needed": "{problems} (an HQ override is needed)",
}
ROUNDS = {
    "round.busy": "another round is being solved or committed; try again when it is done",
    "round.not_solved": "round {round} is {round_status}; only a solved round can be committed",
    "round.not_cancellable": "round {round} is {round_status}; it can no longer be cancelled",
    "round.pool_changed": (
        "{count} lead(s) left the pool since round {round} was solved; run a new round"
    ),
    "round.customer_taken": (
        "a customer of round {round} got an owner since it was solved; run a new round"
    ),
    "round.no_longer_fits": "round {round} no longer fits: {problems}; run a new round",
    "round.preview_cancelled": "{why} (this preview was cancelled)",
    "round.objective_out_of_range": (
        "the objective's values are out of range: tier weights must be 0 to 100,000 km, and a"
        " lead's expected value at most 100,000 km (raise the price per km)"
    ),
    "round.reserve_invalid": (
        "{text!r}: room for arrivals is empty (none), 'auto' or a whole number 0 to {high}"
    ),
    SAME_CUSTOMER: "same customer as lead {lead}",
    # What changed since the solve, one per branch (inside round.no_longer_fits).
    "branch.no_longer_serves": "branch {branch} no longer serves tier {tier}",
    "branch.gave_up": "branch {branch} gave these leads up",
    "branch.would_overflow": (
        "branch {branch} would hold {total} customers "
        "(capacity {capacity}: {held} held, {planned} planned)"
    ),
}
JOBS = {
    "job.lane_busy": "another job of this kind is queued or running; try again when it is done",
    "job.not_cancellable": (
        "job {job} is {job_status} (phase {phase}); it can no longer be cancelled"
    ),
    "job.worker_lost": "the worker running this job stopped {attempts} time(s); the job gave up",
    "job.crashed": "the job failed with an unexpected error; the server log has the details",
    "job.refused": "{detail}",
}
LEDGER_WORK = {
    "close.not_ended": (
        "period {period} has not ended yet: the current or a future month cannot be closed"
    ),
    "close.before_closed": "period {period} is before the closed period {closed}",
    "close.in_order": "close {earlier} before {period}: months close in order",
    "import.busy": "another ledger write is in progress; retry the import",
    "import.unreconciled": "batch {batch} does not reconcile: computed {computed}, stored {stored}",
    "upload.too_large": "upload larger than {limit} bytes",
    "export.too_large": (
        "period {period} has {rows} postings, more than the {limit} a download may have "
        "(O2O_MAX_EXPORT_ROWS); export it with `o2o ledger export`"
    ),
}
# Reversals, reclassifications and the second approval above O2O_CORRECTION_APPROVAL_FEN.
CORRECTIONS = {
    "ledger.no_entry": "no journal entry {entry}",
    "ledger.reversal_of_reversal": (
        "entry {entry} is itself a reversal; post the intended entry instead"
    ),
    "ledger.already_reversed": "entry {entry} was already reversed by entry {by}",
    "ledger.reclassified_later": (
        "entry {entry} cannot be reversed: event {event} was reclassified by entry {later}; "
        "reverse entry {later} first"
    ),
    "ledger.no_event": "no revenue event {event!r}",
    "ledger.no_branch": "no branch with code {branch!r}",
    "ledger.already_reclassified": "event {event} is not in suspense: it was already reclassified",
    "ledger.credited_elsewhere": "event {event} is not in suspense (credited to {accounts})",
    "ledger.credit_reversed": "event {event} is not in suspense (its credit was reversed)",
    "ledger.not_plain_suspense": "event {event}: its postings are not a plain suspense credit",
    "ledger.bad_reason": "a reason is required: printable text of at most 200 characters",
    "ledger.posted_concurrently": (
        "the same correction was posted concurrently; nothing was written"
    ),
    "ledger.write_busy": "another ledger write is in progress; retry",
    "correction.unknown": "no correction request {request}",
    "correction.decided": "correction request {request} was already {state}",
    "correction.own_request": (
        "correction request {request} is your own: another finance user must approve or reject it"
    ),
    "correction.already_requested": (
        "a {correction} of {target} already waits for approval (request {request})"
    ),
    "suspense.never_owned": "the customer was never assigned to a branch",
    "suspense.before_owner": (
        "it occurred before the customer was assigned ({branch} since {since})"
    ),
    "suspense.between_owners": "it occurred while the customer was back in the pool",
    "suspense.bad_amount": "minimum amount: yuan with at most two decimals, e.g. 1000 or 99.50",
}
# A split-policy file or form (app/journal/policies): its fields, then the book's rules.
POLICIES = {
    "policy.file_type": "policy file must end in .json or .csv",
    "policy.no_policy": "the file holds no policy",
    "policy.not_json": "not a UTF-8 JSON document ({detail})",
    "policy.not_object": "each policy must be a JSON object",
    "policy.required": "required field is missing",
    "policy.not_text": "must be text",
    "policy.bps_type": "must be a whole number of basis points",
    "policy.not_bps": "{text!r} is not a whole number of basis points (0 to {max})",
    "policy.bps_too_large": "{value} bp is more than {max} bp (100%)",
    "policy.not_overlay": "{text!r} is not a whole non-negative number of basis points",
    "policy.bad_reason": "must be printable text of at most {max} characters",
    "policy.exists": "policy {policy!r} already exists",
    "policy.twice": "policy {policy!r} is given twice",
    "policy.same_start": "{other!r} already starts then for {revenue_type}",
    "policy.in_closed_period": (
        "starts in the closed period {period} or earlier; the policies of a closed period never "
        "change (start at {first_open} or later)"
    ),
    "policy.credited": (
        "{count} {revenue_type} event(s) from {since} are already credited (the latest at "
        "{latest}); a policy cannot re-split credited revenue: start it after them"
    ),
}
# Bad rows of an import file (any importer's CSV reading; the revenue file's cells and leads).
IMPORTS = {
    "import.too_many_cells": "{cells} cells but {columns} columns in the header",
    "import.not_utf8": "not UTF-8 text ({detail})",
    "import.malformed_csv": "malformed CSV: {detail}",
    "import.line_too_long": "line longer than {max} characters; is this a CSV file?",
    "import.too_many_rows": "more than {max} data rows (O2O_MAX_IMPORT_ROWS); split the file",
    "import.too_many_columns": "{count} columns in the header; at most {max}",
    "import.empty_file": "empty file: no header row",
    "import.missing_column": "required column is missing",
    "import.duplicate_column": "column appears more than once",
    "import.undecodable": (
        "neither UTF-8 nor GB18030/GBK text (byte {byte} at byte {position} of the line); "
        "save it again as CSV UTF-8 or as an Excel workbook (.xlsx)"
    ),
    "import.not_utf8_bytes": (
        "not UTF-8 text (byte {byte} at byte {position} of the line); "
        "if the file is GB18030/GBK, declare encoding gb18030 or auto"
    ),
    "import.not_gb18030_bytes": (
        "not GB18030/GBK text (byte {byte} at byte {position} of the line); "
        "if the file is UTF-8, declare encoding utf-8 or auto"
    ),
    "import.old_excel": (
        "an Excel 97-2003 workbook (.xls) or other binary file; save it as .xlsx or CSV"
    ),
    "import.no_worksheet": "the workbook has no worksheet",
    "import.workbook_too_big": "the workbook unpacks to more than {mb} MB; save it as CSV",
    "import.workbook_text_too_big": "the workbook's text table is over {mb} MB; save it as CSV",
    "import.empty_sheet": "empty sheet: no header in row 1",
    "import.sheet_too_long": "more than {max} rows: not a sheet from Excel",
    "import.unreadable_workbook": "not a readable Excel workbook (.xlsx): {detail}",
    # One cell (app.imports.fields; `what` names the value: latitude, capacity, ...).
    "cell.required": "required value is empty",
    "cell.not_code": "'{text}' is not a code of 1-32 letters, digits, '_' or '-'",
    "cell.not_number": "'{text}' is not a number",
    "cell.outside": "{what} {text} is outside [{low}, {high}]",
    "cell.not_whole": "'{text}' is not a whole number",
    "cell.too_small": "{what} must be >= {low}, got {number}",
    "cell.too_large": "{what} must be <= {high}, got {number}",
    "cell.not_bool": "'{text}' is not true or false",
    "cell.not_tier": "'{text}' is not a tier; use one of {tiers}",
    "cell.not_region": "'{text}' is not a 6-digit division code",
    "cell.not_instant": "'{text}' is not an ISO 8601 date-time",
    "cell.too_long": "longer than {max} characters",
    "lead.no_channel": "no channel: give a channel column or --channel",
    "lead.lat_lon_together": "lat and lon must be given together",
    "lead.not_mobile": "'{text}' is not a mainland China mobile number",
    "lead.unknown_division": "'{text}' is not a known GB/T 2260 division code",
    "lead.not_id_number": "not a valid 18-digit resident ID number (checksum or date wrong)",
    "lead.repeated": "'{external_id}' in channel '{channel}' repeats line {first}",
    "branch.duplicate_code": "duplicate code '{branch}' (first on line {first})",
    "branch.exists": "branch {branch} already exists",
    "branch.unknown": "no branch {branch!r}",
    "branch.already_inactive": "branch {branch} is already inactive",
    "branch.below_load": (
        "{capacity} is below the {held} customers branch {branch} holds in follow-up; "
        "transfer or return some first"
    ),
    "revenue.zero_amount": "amount is zero",
    "revenue.implausible_amount": (
        "amount {text} exceeds the plausibility limit of {limit} yuan (O2O_MAX_REVENUE_AMOUNT_FEN)"
    ),
    "revenue.in_future": "occurred_at {text} is in the future",
    "revenue.before_1970": "occurred_at {text} is before 1970",
    "revenue.total_overflow": (
        "the amounts add up past {limit} yuan here (this file's with every stored event's, as "
        "absolute values), beyond what a 64-bit fen total holds"
    ),
    "revenue.no_lead": "no lead with external_id '{external_id}'",
    "revenue.no_lead_in_channel": (
        "no lead with external_id '{external_id}' in channel '{channel}'"
    ),
    "revenue.ambiguous_lead": (
        "external_id '{external_id}' exists in channels {channels}: add a channel column"
    ),
    "revenue.repeated_event": "event_id '{event_id}' repeats line {first} with other content",
    "revenue.changed_event": (
        "event_id '{event_id}' was already imported with different content "
        "(batch {batch}, line {line}); corrections need a new event_id"
    ),
}
# What-if scenarios (JSON): `source` names the file or form, `field` the key path.
SCENARIOS = {
    "scenario.not_json": "{source}: not JSON: {detail} at line {line}",
    "scenario.not_object": "{source}: must be a JSON object",
    "scenario.invalid": "{source}: {problems}",
    # One problem each (pydantic's error `kind`, its English `detail` and its limits).
    "scenario.field": "{field}: {detail}",
    "scenario.unknown_key": "{field}: unknown key",
    "scenario.unknown_branch": "{field}: no branch has this code",
    "scenario.branch_exists": "{field}: branch {branch} already exists",
    "scenario.opened_twice": "{field}: {branch} is opened twice",
    "scenario.closed_twice": "close: a branch is listed twice",
    "scenario.name": "name: 1 to {max_length} characters, not only spaces",
    "scenario.not_saved": "no saved scenario {scenario}",
    "scenario.compare_count": "choose 1 to {most} saved scenarios to compare, not {count}",
}
SERVER = {
    "server.database_busy": (
        "the database is busy with another change; nothing was written, retry"
    ),
    "server.busy": "the server is busy; nothing was written, retry",
    "server.out_of_range": (
        "a number or text in the request is outside what the database can store "
        "(too large, too long, or a NUL character)"
    ),
    "server.sign_ins_busy": "too many sign-ins at once; nothing was counted, retry",
}
FUNNEL = {
    "funnel.unknown_dimension": "by: must be one of {dimensions}, not {by!r}",
    "funnel.reversed": "to: {end} is before from: {start}",
    "funnel.too_long": "from/to: at most {max} days at once",
    "funnel.bad_date": "{which}: not a date (YYYY-MM-DD): {text!r}",
}
AUDIT_LOG = {
    "audit.reversed": "to: {end} is before from: {start}",
    "audit.bad_lead": "lead: {text!r} is not a lead number (for example 1024)",
    "audit.bad_date": "{which}: not a date (YYYY-MM-DD): {text!r}",
    "audit.too_many": "{total} records match; export at most {max}: narrow the search",
}
# A page form's field (app/web/form_fields.py).
FORMS = {
    "form.not_number": "{text!r} is not a number",
    "form.out_of_range": "{text!r}: must be from {low} to {high}",
    "form.text_needed": "required: at most {max} characters",
}
USERS = {
    "user.bad_username": "username must be 3-64 letters, digits or _ . @ -",
    "user.bad_role": "role must be one of {roles}",
    "user.short_password": "password must have at least {length} characters",
    "user.exists": "user '{username}' already exists",
    "user.unknown": "no user '{username}'",
    "user.not_branch_user": "user '{username}' is not a branch user",
    "user.branch_for_non_branch": "only branch users belong to a branch",
    "user.branch_needed": "a branch user needs --branch CODE",
    "user.unknown_branch": "no branch '{branch}'",
    "user.own_account": "you cannot deactivate your own account",
}
ACCESS = {
    "access.role": "your role may not do this",
    "access.page_role": "your role may not open this page",
    "access.form_token": "the form's security token is missing or wrong; reload the page",
}
NOTICES = {
    "notice.assigned": "{count} new lead(s) assigned to your branch ({via})",
    "notice.deadline_approaching": (
        "{count} lead(s) not contacted yet are close to the follow-up deadline"
    ),
    "notice.reclaimed": "{count} lead(s) were reclaimed to the pool: the follow-up deadline passed",
    "notice.not_dead": "delivery {delivery} is not dead; only a dead delivery can be retried",
}
APP = Catalogue(
    {
        **LEADS,
        **BRANCHES,
        **ROUNDS,
        **JOBS,
        **LEDGER_WORK,
        **CORRECTIONS,
        **POLICIES,
        **IMPORTS,
        **SCENARIOS,
        **SERVER,
        **FUNNEL,
        **AUDIT_LOG,
        **USERS,
        **FORMS,
        **ACCESS,
        **NOTICES,
    }
)

ENGLISH = combined(ALLOCATION, LEDGER, APP)


def in_english(said: Message) -> str:
    return ENGLISH.render(said)


def params_json(said: Message | None) -> str | None:
    """A message's values as stored beside its code (flat values only)."""
    if said is None or not said.params:
        return None
    return json.dumps(dict(said.params), separators=(",", ":"), sort_keys=True)


def from_columns(code: str | None, params: str | None) -> Message | None:
    """The message stored as a code and its values' JSON (None for no code)."""
    if code is None:
        return None
    return Message(code, json.loads(params) if params else {})
