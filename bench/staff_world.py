"""Setup for bench/staff_load.py: branch staff accounts, their lead decks and their tokens.

Accounts are inserted in bulk with ONE Argon2 hash shared by all of them: hashing 3,000
passwords one by one would take minutes of CPU (about 0.1-0.2 s each) and measures nothing
the load test is about. Tokens are minted with the application's own `issue_token` and the
same secret the server is given, for the same reason (3,000 sign-ins = 3,000 Argon2
verifications); `check_logins` signs a few accounts in over HTTP to show the path works.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import psycopg
from sqlalchemy.engine import make_url

from app.auth import hash_password, issue_token
from app.config import Settings
from app.tables import User

PASSWORD = "staff-load-2026"
USERNAME_PREFIX = "load-"


@dataclass(slots=True)
class Staff:
    """One branch user as the load generator sees it: token and the leads it may work."""

    username: str
    branch_id: int
    token: str = ""
    # Lead id -> status as this client last left it ("assigned" or "contacted").
    deck: dict[int, str] = field(default_factory=dict)


def psycopg_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def ensure_staff(database_url: str, *, count: int) -> list[Staff]:
    """`count` branch users spread round-robin over the active branches (created if missing)."""
    with psycopg.connect(psycopg_url(database_url)) as conn:
        branches = [
            int(row[0])
            for row in conn.execute("SELECT id FROM branch WHERE active ORDER BY id").fetchall()
        ]
        if not branches:
            raise SystemExit("error: the database has no active branch; build the world first")
        staff = [
            Staff(username=f"{USERNAME_PREFIX}{i:05d}", branch_id=branches[i % len(branches)])
            for i in range(count)
        ]
        shared_hash = hash_password(PASSWORD)  # once: see the module docstring
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO app_user (username, password_hash, role, branch_id, active,"
                " security_stamp, created_at) VALUES (%s, %s, 'branch', %s, true, 0, now())"
                " ON CONFLICT (username) DO NOTHING",
                [(s.username, shared_hash, s.branch_id) for s in staff],
            )
        _check_branches(conn, staff)
    return staff


def _check_branches(conn: psycopg.Connection, staff: list[Staff]) -> None:
    """A rerun with other settings must not silently use accounts moved or deactivated."""
    rows = conn.execute(
        "SELECT username, branch_id, active FROM app_user WHERE username LIKE %s",
        (USERNAME_PREFIX + "%",),
    ).fetchall()
    stored = {name: (branch_id, active) for name, branch_id, active in rows}
    for s in staff:
        if stored.get(s.username) != (s.branch_id, True):
            raise SystemExit(
                f"error: account {s.username} exists with another branch or is inactive; "
                "rebuild the world (run without --reuse)"
            )


def deal_decks(database_url: str, staff: list[Staff], *, per_staff: int) -> None:
    """Give each user its own open leads, disjoint within a branch, so updates never collide."""
    by_branch: dict[int, list[Staff]] = {}
    for s in staff:
        by_branch.setdefault(s.branch_id, []).append(s)
    most = max(len(members) for members in by_branch.values()) * per_staff
    query = (
        "SELECT branch_id, id, status FROM ("
        " SELECT branch_id, id, status,"
        "  row_number() OVER (PARTITION BY branch_id ORDER BY id) AS n"
        " FROM lead WHERE status IN ('assigned', 'contacted') AND branch_id IS NOT NULL"
        ") ranked WHERE n <= %s"
    )
    with psycopg.connect(psycopg_url(database_url)) as conn:
        rows = conn.execute(query, (most,)).fetchall()
    position: dict[int, int] = {}
    for branch_id, lead_id, status in rows:
        members = by_branch.get(int(branch_id))
        if members:
            turn = position.get(branch_id, 0)
            position[branch_id] = turn + 1
            members[turn % len(members)].deck[int(lead_id)] = str(status)


def mint_tokens(staff: list[Staff], *, settings: Settings, database_url: str) -> None:
    with psycopg.connect(psycopg_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT username, id, security_stamp FROM app_user WHERE username LIKE %s",
            (USERNAME_PREFIX + "%",),
        ).fetchall()
    stored = {name: (user_id, stamp) for name, user_id, stamp in rows}
    for s in staff:
        user_id, stamp = stored[s.username]
        user = User(
            id=user_id,
            username=s.username,
            password_hash="",
            role="branch",
            branch_id=s.branch_id,
            security_stamp=stamp,
        )
        s.token = issue_token(user, settings=settings)


def check_logins(base_url: str, staff: list[Staff], *, count: int) -> None:
    """Sign a few users in for real: the shared hash and the login path both work."""
    for s in staff[:count]:
        body = urllib.parse.urlencode({"username": s.username, "password": PASSWORD}).encode()
        request = urllib.request.Request(f"{base_url}/api/v1/auth/token", data=body)
        with urllib.request.urlopen(request, timeout=30) as response:
            token = json.loads(response.read())["access_token"]
        if not token:
            raise SystemExit(f"error: sign-in of {s.username} returned no token")


def vacuum_analyze(database_url: str) -> float:
    """Fresh planner statistics and visibility map before measuring; returns the seconds taken.

    A round commit rewrites every pooled lead. Until `lead` is analysed the planner thinks a
    branch has one lead and reads the status index across all branches (29 ms count + 52 ms
    page at 130,000 leads instead of < 1 ms); until it is vacuumed the count cannot stay in
    the index. The test PostgreSQL runs with autovacuum off, so this is done here.
    """
    with psycopg.connect(psycopg_url(database_url), autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        return time.perf_counter() - started
