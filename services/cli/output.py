"""Where the CLI writes: answers on stdout, everything else on stderr.

Stdout carries only the command's answer (a job, a table, a JSON document),
so ``forgesyte --json status ID | jq`` and ``forgesyte results ID > r.json``
stay clean. Progress bars, notes and errors go to stderr. With ``--json``
every answer is JSON: one document per line (streams such as ``watch`` print
one line per snapshot).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from rich.console import Console

PROGRAM = "forgesyte"
UNBOUNDED_WIDTH = 1000


class Output:
    """The two streams, in human or JSON mode."""

    def __init__(
        self, *, json_mode: bool, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self.json_mode = json_mode
        self._stdout = stdout or sys.stdout
        self._stderr = stderr or sys.stderr
        self.console = Console(file=self._stdout, highlight=False, soft_wrap=True)
        self.err_console = Console(file=self._stderr, highlight=False, soft_wrap=True)
        for console in (self.console, self.err_console):
            if not console.is_terminal:
                # A file or pipe has no width: never squeeze a table to 80 columns.
                console.width = UNBOUNDED_WIDTH

    @property
    def interactive(self) -> bool:
        """Live bars only on a terminal; logs and pipes get plain lines instead."""
        return self.err_console.is_terminal and not self.json_mode

    def answer(self, data: Any, human: Callable[[Console], None]) -> None:
        """The command's result: ``data`` as JSON, or ``human`` rendering it."""
        if self.json_mode:
            self.json_line(data)
        else:
            human(self.console)

    def json_line(self, data: Any) -> None:
        self._stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        self._stdout.flush()

    def line(self, text: str) -> None:
        """One plain line of answer on stdout (no markup: file names may hold brackets)."""
        self.console.print(text, markup=False)

    def note(self, text: str) -> None:
        """Something worth knowing that is not the answer, on stderr."""
        self.err_console.print(text, markup=False)

    def error(self, message: str) -> None:
        """The one line an expected failure prints."""
        self._stderr.write(f"{PROGRAM}: {message}\n")
        self._stderr.flush()
