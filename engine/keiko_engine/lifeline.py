"""Exit when the keiko process that started the engine dies, even by SIGKILL.

keiko starts the engine with ``KEIKO_LIFELINE=stdin``: stdin is a pipe that keiko holds open and
never writes to. When keiko dies the kernel closes it and a read returns EOF; the engine then stops
(SIGTERM to itself, so uvicorn shuts down; a hard exit if that has not happened after a grace
period). On Linux the engine also asks for a parent-death signal (``prctl(PR_SET_PDEATHSIG)``) when
its parent is keiko itself (``KEIKO_PARENT_PID``); under torchrun the parent is the launcher, and
the ranks rely on the inherited pipe. Without ``KEIKO_LIFELINE`` (an engine started by hand in a
terminal) nothing here runs and stdin is left alone.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

LIFELINE_ENV = "KEIKO_LIFELINE"
PARENT_PID_ENV = "KEIKO_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def _set_parent_death_signal() -> None:
    """Linux only: SIGTERM when the parent dies, if the parent is the keiko that started us."""
    expected = os.environ.get(PARENT_PID_ENV)
    if not sys.platform.startswith("linux") or not expected or str(os.getppid()) != expected:
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:  # noqa: BLE001 - the stdin lifeline still works
        return
    if str(os.getppid()) != expected:  # the parent died before prctl took effect
        _stop()


def _stop(grace_s: float = 5.0) -> None:
    """Ask this process to stop as if SIGTERM'd; exit hard if it is still alive after `grace_s`."""
    timer = threading.Timer(grace_s, lambda: os._exit(1))
    timer.daemon = True
    timer.start()
    os.kill(os.getpid(), signal.SIGTERM)


def _watch_stdin() -> None:
    try:
        while sys.stdin.buffer.read(65536):
            pass  # keiko never writes; anything read is ignored
    except Exception:  # noqa: BLE001 - a broken pipe is the same news as EOF
        pass
    print("keiko engine: the keiko process that started this engine is gone; stopping", file=sys.stderr, flush=True)
    _stop()


def watch_parent() -> bool:
    """Start the lifeline watch if keiko asked for one; True if it did."""
    if os.environ.get(LIFELINE_ENV) != "stdin":
        return False
    _set_parent_death_signal()
    threading.Thread(target=_watch_stdin, name="keiko-lifeline", daemon=True).start()
    return True
