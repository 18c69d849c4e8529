"""Every page as every role: the same deny-by-default rules as the API."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.web import routes as web_routes
from tests.web.helpers import add_lead, sign_in

HQ_PAGES = {"/hq/branches", "/hq/pool", "/hq/leads", "/hq/rounds", "/hq/notifications", "/audit"}
FINANCE_PAGES = {"/finance/ledger", "/finance/imports", "/finance/statements",
                 "/finance/export?period=2026-10", "/finance/suspense", "/finance/policies"}  # fmt: skip
FUNNEL = "/analytics/funnel"
HQ_ONLY_PAGES = {"/hq/imports", "/hq/imports/templates/leads.csv",
                 "/hq/imports/templates/branches.csv"}  # fmt: skip
PAGES = ("/", "/inbox", *sorted(HQ_PAGES), *sorted(HQ_ONLY_PAGES), "/leads/{own}", FUNNEL,
         *sorted(FINANCE_PAGES))  # fmt: skip
ALLOWED = {
    "hq1": {"/", *HQ_PAGES, *HQ_ONLY_PAGES, "/leads/{own}", FUNNEL},
    "aud1": {"/", *HQ_PAGES, "/leads/{own}", FUNNEL, *FINANCE_PAGES},
    "sz1": {"/", "/inbox", "/leads/{own}", FUNNEL},
    "fin1": {"/", *FINANCE_PAGES},
}


@pytest.mark.parametrize("username", sorted(ALLOWED))
def test_each_role_opens_its_pages_and_is_denied_the_others(
    web: TestClient, engine: Engine, branch_ids: dict[str, int], username: str
) -> None:
    own = add_lead(engine, external_id="L1", branch_id=branch_ids["SZ-FT"])
    sign_in(web, username)
    for page in PAGES:
        response = web.get(page.format(own=own))
        expected = 200 if page in ALLOWED[username] else 403
        assert response.status_code == expected, (username, page)
        if expected == 403:
            assert "没有权限" in response.text


def test_the_sidebar_shows_only_the_pages_of_the_role(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    sign_in(web, "sz1")
    branch_home = web.get("/").text
    assert 'href="/inbox"' in branch_home
    assert 'href="/hq/branches"' not in branch_home
    web.cookies.clear()
    sign_in(web, "hq1")
    hq_home = web.get("/").text
    assert 'href="/hq/branches"' in hq_home
    assert 'href="/hq/rounds"' in hq_home
    assert 'href="/inbox"' not in hq_home
    assert 'href="/finance/ledger"' not in hq_home
    web.cookies.clear()
    sign_in(web, "fin1")
    finance_home = web.get("/").text
    for href in ("/finance/ledger", "/finance/imports", "/finance/statements"):
        assert f'href="{href}"' in finance_home
    assert 'href="/hq/branches"' not in finance_home


def test_a_branch_user_cannot_open_another_branchs_lead_page(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    theirs = add_lead(engine, external_id="BJ1", branch_id=branch_ids["BJ-CY"])
    sign_in(web, "sz1")
    other = web.get(f"/leads/{theirs}")
    missing = web.get("/leads/999999")
    assert other.status_code == missing.status_code == 404
    assert other.text == missing.text  # nothing tells "not yours" from "does not exist"


def test_auditors_read_leads_but_get_no_follow_up_or_reveal_buttons(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="A1", branch_id=branch_ids["SZ-FT"])
    token = sign_in(web, "aud1")
    page = web.get(f"/leads/{lead_id}").text
    assert "138****5678" in page
    assert "查看完整号码" not in page
    assert "跟进操作" not in page
    denied = web.post(f"/leads/{lead_id}/reveal", data={"csrf_token": token})
    assert denied.status_code == 403


def test_the_api_keeps_answering_json_errors(web: TestClient, branch_ids: dict[str, int]) -> None:
    response = web.get("/api/v1/leads")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert web.get("/api/v1/nope").headers["content-type"].startswith("application/json")


# Who may submit each form; a new form route must be added here (the test checks the list).
FORMS = {
    "/leads/{lead_id}/contacted": {"sz1"},
    "/leads/{lead_id}/converted": {"sz1"},
    "/leads/{lead_id}/return": {"sz1"},
    "/leads/{lead_id}/reveal": {"sz1", "hq1"},
    "/leads/{lead_id}/transfer": {"hq1"},
    "/hq/rounds": {"hq1"},
    "/hq/rounds/{round_id}/commit": {"hq1"},
    "/hq/rounds/{round_id}/cancel": {"hq1"},
    "/hq/jobs/{job_id}/cancel": {"hq1"},
    "/hq/imports/leads": {"hq1"},
    "/hq/imports/branches": {"hq1"},
    "/finance/imports": {"fin1"},
    "/hq/users": {"hq1"},
    "/hq/users/{username}/deactivate": {"hq1"},
    "/hq/users/{username}/move": {"hq1"},
    "/hq/users/{username}/password": {"hq1"},
    "/hq/users/{username}/unlock": {"hq1"},
    "/finance/close": {"fin1"},
    "/inbox/notifications/{notification_id}/read": {"sz1"},
    "/hq/notifications/{delivery_id}/retry": {"hq1"},
    "/finance/suspense/reclassify": {"fin1"},
    "/finance/suspense/reverse": {"fin1"},
    "/finance/suspense/requests/{request_id}/approve": {"fin1"},
    "/finance/suspense/requests/{request_id}/reject": {"fin1"},
    "/finance/policies": {"fin1"},
    "/finance/policies/upload": {"fin1"},
    "/hq/branches": {"hq1"},
    "/hq/branches/{code}/capacity": {"hq1"},
    "/hq/branches/{code}/deactivate": {"hq1"},
}


def _form_routes() -> set[str]:
    paths: set[str] = set()
    modules = (web_routes.auth, web_routes.home, web_routes.leads, web_routes.hq,
               web_routes.imports, web_routes.rounds, web_routes.jobs, web_routes.finance,
               web_routes.users, web_routes.notifications, web_routes.suspense,
               web_routes.policies, web_routes.branches)  # fmt: skip
    for module in modules:
        for route in module.router.routes:
            if isinstance(route, APIRoute) and "POST" in (route.methods or set()):
                paths.add(route.path)
    return paths - {"/login", "/logout"}


def test_every_form_is_denied_to_the_roles_it_is_not_for(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    assert _form_routes() == set(FORMS)
    lead_id = add_lead(engine, external_id="F1", branch_id=branch_ids["SZ-FT"])
    for username in ("hq1", "aud1", "fin1", "sz1"):
        web.cookies.clear()
        token = sign_in(web, username)
        for path, allowed in FORMS.items():
            if username in allowed:
                continue
            # The role is checked before anything is looked up: round 1 (job 1) need not exist.
            url = path.format(lead_id=lead_id, round_id=1, job_id=1, username="sz1",
                              notification_id=1, delivery_id=1, request_id=1,
                              code="SZ-FT")  # fmt: skip
            response = web.post(url, data={"csrf_token": token})
            assert response.status_code == 403, (username, path)
