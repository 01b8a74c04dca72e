"""The audit package's own exceptions: each carries a stable `code` and a Polish `message`.

Foreign errors (SQLAlchemy, `cryptography`, file system) are translated where they enter this package, so
callers (the hub, the CLI, a future SOAP service for auditors) can catch exactly what they mean.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base of the audit package's errors; `message` is a Polish sentence a clerk or operator understands."""

    code = "BLAD_AUDYTU"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuditStorageError(AuditError):
    """The audit database could not be opened, read or written."""

    code = "BLAD_BAZY_AUDYTU"


class RegisterNotFoundError(AuditStorageError):
    """A command that reads or extends a register found none where it was pointed (nothing was created)."""

    code = "BRAK_REJESTRU"


class AuditKeyError(AuditError):
    """The checkpoint signing key (or a trusted public key) is missing, unreadable or of a wrong kind."""

    code = "BLAD_KLUCZA_AUDYTU"


class ChainBrokenError(AuditError):
    """An operation that needs an intact chain (a purge, signing a checkpoint) found it broken; nothing was
    changed. `kind` (`audit.verify.ProblemKind` value), `nr` (the first bad record), `table` and
    `checkpoint` say what was found, when known."""

    code = "NARUSZONY_REJESTR"

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        nr: int | None = None,
        table: str | None = None,
        checkpoint: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind, self.nr, self.table, self.checkpoint = kind, nr, table, checkpoint


class AnchorFileError(AuditError):
    """The anchor file (heads of signed checkpoints kept outside the database) is missing where it must
    exist, unreadable, or has a line that is not an anchor."""

    code = "BLAD_PLIKU_KOTWIC"


class ReportError(AuditError):
    """A report was asked for with missing or contradictory criteria, or in a format that cannot be made."""

    code = "BLAD_RAPORTU"


class ReportTooLarge(ReportError):
    """The report would hold more entries than the path that makes it may (`write_report(max_entries=)`):
    refused before anything is recorded or written."""

    def __init__(self, entries: int, limit: int) -> None:
        super().__init__(f"Raport obejmowałby {entries} wpisów, a dozwolonych jest najwyżej {limit}.")
        self.entries, self.limit = entries, limit


class OutputFileError(AuditError):
    """A command's output file was refused before anything was written: it is the register itself, one of
    its files, an anchor file or a key, which a report must never replace."""

    code = "BLEDNY_PLIK_WYNIKOWY"
