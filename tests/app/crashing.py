"""Running `o2o` in a child process that a test can kill, as a power cut or `kill -9` would.

The child gets the test database's settings, the test's clock and, optionally, ``O2O_CRASH_AT`` naming the
crash point (app/faults.py) where it kills itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import Settings
from app.tables.base import utcnow

REPO = Path(__file__).resolve().parents[2]
KILLED = -signal.SIGKILL


def child_env(settings: Settings, crash_at: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "O2O_DATABASE_URL": settings.database_url,
        "O2O_SECRET_KEY": settings.secret_key,
        # The child runs at the test's instant, not the wall clock's (app.clock).
        "O2O_CLOCK_START": utcnow().isoformat(),
    }
    jobs = {"O2O_JOB_QUEUE_PATH": settings.job_queue_path, "O2O_REDIS_URL": settings.redis_url,
            "O2O_JOB_FILES_PATH": settings.job_files_path,
            "O2O_JOB_LEASE_SECONDS": str(settings.job_lease_seconds)}  # fmt: skip
    for name, value in jobs.items():  # the child's worker uses the test's queue and lease
        env.pop(name, None)
        if value is not None:
            env[name] = value
    env.pop("O2O_CRASH_AT", None)
    if crash_at is not None:
        env["O2O_CRASH_AT"] = crash_at
    return env


def o2o_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def run_o2o(
    settings: Settings, *args: str, crash_at: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run one `o2o` command to its end (or to its crash point); killed after `timeout`."""
    process = subprocess.Popen(
        o2o_command(*args), env=child_env(settings, crash_at), cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with _killed_after(process, timeout) as killed:
        out, err = process.communicate()  # blocking: no timed wait (see _killed_after)
    if killed:  # a hang, not a crash point: never let it pass for one
        raise subprocess.TimeoutExpired(process.args, timeout, out, err)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def start_o2o(settings: Settings, *args: str) -> subprocess.Popen[str]:
    """Start an `o2o` command without waiting: the caller kills it at a moment it picks."""
    return subprocess.Popen(
        o2o_command(*args), env=child_env(settings), cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def kill_after(process: subprocess.Popen[str], seconds: float) -> bool:
    """SIGKILL ``process`` after ``seconds`` unless it ended first; True if it was killed."""
    with _killed_after(process, seconds) as killed:
        process.wait()
    return bool(killed)


@contextmanager
def _killed_after(process: subprocess.Popen[str], seconds: float) -> Iterator[list[bool]]:
    """A timer thread SIGKILLs the process after ``seconds``; the list says whether it did.

    Not `wait(timeout=...)`: a timed wait polls with sleeps, and under libfaketime (the CI
    pass with a shifted clock) `clock_nanosleep` fails with EINVAL when the child is slow.
    """
    killed: list[bool] = []

    def kill() -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed.append(True)

    timer = threading.Timer(seconds, kill)
    timer.start()
    try:
        yield killed
    finally:
        timer.cancel()
