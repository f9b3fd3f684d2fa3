"""Pool processes end when the process that started them dies, even by SIGKILL.

A ProcessPoolExecutor worker blocks reading its call queue, whose write end it holds itself, so
it never sees its parent go; the forkserver and the manager process stay up as long as any of
them does. Left alone, every kill -9 of a daemon leaves its fit, staging and manager processes
(about 200 MiB each) behind for good. Each of them runs `exit_with(daemon pid)` first: a thread
that blocks on a pidfd of the daemon (Linux 5.3+, no polling, immune to pid reuse), or checks
once a second where pidfds are missing, and ends the process when the daemon is gone.
PR_SET_PDEATHSIG would fire when the *thread* that forked exits, and the forkserver, not the
daemon, is the parent here: neither fits.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time

CHECK_S = 1.0  # where no pidfd: how often the parent is looked for
log = logging.getLogger(__name__)


def exit_with(parent_pid: int) -> None:
    """End this process (exit status 1) once `parent_pid` has exited."""
    threading.Thread(target=_watch, args=(parent_pid,), name="exit-with-parent", daemon=True).start()


def _watch(parent_pid: int) -> None:
    try:
        descriptor = os.pidfd_open(parent_pid)
    except ProcessLookupError:  # gone already
        os._exit(1)
    except (AttributeError, OSError):  # not Linux, or a kernel before 5.3
        while alive(parent_pid):
            time.sleep(CHECK_S)
    else:
        select.select([descriptor], [], [])  # readable once the process has exited
    log.warning("process %d exits: the process that started it (%d) is gone", os.getpid(), parent_pid)
    os._exit(1)  # not sys.exit: the main thread is blocked in the pool's queue; nothing to flush


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True
