"""Named crash points: where tests kill the process, as a power cut or `kill -9` would.

Production never sets O2O_CRASH_AT; a test sets it in a child process and checks that the
database holds nothing half-written afterwards.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("O2O_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
