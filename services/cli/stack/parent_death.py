"""Children of ``forgesyte up`` stop when ``up`` dies, even by SIGKILL.

``up`` stops its children itself on Ctrl-C or SIGTERM, but a SIGKILL (or
the kernel's out-of-memory killer) gives it no chance, and the services
would keep running, holding their ports, with nobody to stop them. Linux
can signal a process when its parent dies (``prctl(PR_SET_PDEATHSIG)``);
each child asks for SIGTERM, so it shuts down gracefully, as on any stop.

The request has to be made by the child itself, between fork and exec,
which is what ``subprocess``'s ``preexec_fn`` is for. Code there runs in a
copy of a process that may have other threads, so it must not need a lock
another thread could have held at the fork (no imports, no logging, no
allocation-heavy work): the hook only makes three system calls, with
everything looked up before the fork. Should the kernel refuse the request
(a seccomp filter), the child simply runs without it, as before. The kernel
ties the signal to the parent *thread* that forked: ``up`` spawns from its
event loop on the main thread, which lives as long as the process.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from typing import Final

PR_SET_PDEATHSIG: Final = 1


def stop_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when this process
    dies; None where the kernel offers no such thing (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()
    sigterm = int(signal.SIGTERM)

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, sigterm)
        if os.getppid() != parent:  # the parent died before the request
            os.kill(os.getpid(), sigterm)

    return hook
