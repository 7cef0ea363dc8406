"""The errors a user can cause, in one small hierarchy.

The CLI and the page turn any :class:`DashboardError` into one clear sentence
(and, in the CLI, exit code 2).  Each subclass also derives from the built-in
exception it refines, so callers may catch ``ValueError``/``LookupError``.
"""

from __future__ import annotations


class DashboardError(Exception):
    """Base class: a problem the user can fix; ``str(err)`` is one sentence."""


class DataError(DashboardError, ValueError):
    """A data layer or file is missing, unreadable or malformed."""


class LayerError(DataError):
    """A committed geodata layer is missing or invalid (the message names the file)."""


class BadCoordinate(DashboardError, ValueError):
    """A typed coordinate is not ``LAT,LON`` or is out of range."""


class BadParameter(DashboardError, ValueError):
    """A numeric or option value is invalid (e.g. a negative distance)."""


class UnknownSite(DashboardError, LookupError):
    """A site name or id matches no known place or event."""

    def __init__(self, query: str, suggestions: list[str] | None = None) -> None:
        self.query = query
        self.suggestions = list(suggestions or [])
        msg = f"Unknown site {query!r}"
        if self.suggestions:
            msg += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        else:
            msg += "; run 'python -m dashboard sites' to list the known sites."
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError-style quoting avoided on purpose
        return self.args[0]


class ImportRejected(DataError):
    """A whole file cannot be imported (unreadable, wrong format, too large); nothing written."""


class StoreError(DashboardError):
    """The event store cannot be opened or written."""


class OutputError(DashboardError, OSError):
    """An output file cannot be written (missing or unwritable folder, a folder given as the
    file, an empty or too long name, a full disk); nothing was written."""
