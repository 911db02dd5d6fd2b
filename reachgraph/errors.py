"""The one exception type users see: bad input, explained in one line."""

from __future__ import annotations


class ReachgraphError(Exception):
    """Base class for every error reachgraph raises on purpose."""


class InputError(ReachgraphError):
    """Bad input (a path, a file, a name, a port): the CLI prints it in one line and exits 2."""

    def __init__(self, what: str, where: str | None = None, hint: str | None = None) -> None:
        self.what = what
        self.where = where
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Render as 'where: what (hint)' on one line."""
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.hint:
            text = f"{text}; {self.hint}"
        return " ".join(text.split())
