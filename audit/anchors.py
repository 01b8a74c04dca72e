"""Anchors: the head of every signed checkpoint, kept in a file outside the audit database.

A checkpoint in the database proves nothing about a checkpoint that is no longer there: the owner of the
database can delete the only checkpoint, rewrite a record, recompute every later link, and the chain
verifies again (and a hub would sign a fresh checkpoint over the forgery). So whenever a checkpoint is
signed, its head is appended to the anchor file, flushed and synced to disk, after the checkpoint's own
transaction is durable:

    <nr_punktu> <nr> <skrot> <czas> <powod> <SHA-256 of the signature>

`audit verify` checks the chain against the file (every anchor must name a checkpoint that is still in
the database, unchanged, over a record that still has that link), and the hub verifies the chain from the
last anchor before it signs another checkpoint. The file belongs beside the signing key, not beside the
database: whoever can rewrite both the database and this file can hide anything (docs/audit.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from audit.chain import format_time, parse_time
from audit.checkpoints import Checkpoint
from audit.errors import AnchorFileError
from contract.files import is_special
from contract.oserrors import reason

log = logging.getLogger(__name__)

HEADER = "# platforma-komunikacyjna: kotwice rejestru audytu (format 1): nr_punktu nr skrot czas powod sha256_podpisu"
_LINE = re.compile(r"^(\d+) (\d+) ([0-9a-f]{64}) (\S+Z) ([A-Z_]+) ([0-9a-f]{64})$")
#: What a write cut short by a crash leaves of an anchor line: a proper beginning of one (never a whole one).
_TORN = re.compile(r"^\d+(?: (?:\d+(?: (?:[0-9a-f]{1,64}(?: (?:\S+(?: (?:[A-Z_]+(?: [0-9a-f]{0,63})?)?)?)?)?)?)?)?)?$")


#: How long a signed checkpoint may wait for its anchor line: it is appended after the checkpoint's commit, by a
#: thread of the process that signed it (two syncs, milliseconds), so another process may briefly see none.
ANCHOR_GRACE = dt.timedelta(seconds=60)


def anchors_lost(
    file: AnchorFile, held: Sequence[Anchor], checkpoints: Sequence[Checkpoint], now: dt.datetime | None = None
) -> bool:
    """Whether an anchor file holding no anchor (`held` is what it holds) must have held one: the register has
    signed checkpoints and the file is missing or empty (its header is written before the first checkpoint), or
    is cut to its header line with a checkpoint signed longer than `ANCHOR_GRACE` ago. Cut so, it hid a
    checkpoint deleted together with the records it covered; a crash losing the first anchor looks the same
    (then `audit accept`)."""
    if held or not checkpoints:
        return False
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    return file.is_empty() or any(checkpoint.time < moment - ANCHOR_GRACE for checkpoint in checkpoints)


def looks_like_anchors(start: bytes) -> bool:
    """True if these first bytes of a file are those of an anchor file (its header, or an anchor line)."""
    first = start.split(b"\n", 1)[0].decode(errors="replace")
    return start.startswith(HEADER.encode()) or _LINE.match(first) is not None


def signature_digest(signature: str) -> str:
    """SHA-256 (hex) of a checkpoint's signature as stored (base64 text)."""
    return hashlib.sha256(signature.encode()).hexdigest()


def default_anchor_path(key_file: str | Path) -> Path:
    """Where anchors go when no path is configured: beside the signing key (`klucz.pem` -> `klucz.kotwice`)."""
    key = Path(key_file)
    return key.with_name(key.stem + ".kotwice")


@dataclass(frozen=True)
class Anchor:
    """The head of one signed checkpoint: its number, the record it covers, that record's link, and more."""

    number: int
    nr: int
    link: str
    time: dt.datetime
    reason: str
    signature_sha256: str

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> Anchor:
        """The anchor of a checkpoint."""
        return cls(
            checkpoint.number,
            checkpoint.nr,
            checkpoint.link,
            checkpoint.time,
            checkpoint.reason,
            signature_digest(checkpoint.signature),
        )

    def line(self) -> str:
        """The anchor as one line of the file (without the newline)."""
        return f"{self.number} {self.nr} {self.link} {format_time(self.time)} {self.reason} {self.signature_sha256}"

    def matches(self, checkpoint: Checkpoint) -> bool:
        """True if the checkpoint is the one this anchor was taken from."""
        return Anchor.of(checkpoint) == self


class AnchorFile:
    """An append-only text file of anchors; lines are never rewritten, only added."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"AnchorFile({str(self.path)!r})"

    def exists(self) -> bool:
        """True if the file exists (it is made with the first checkpoint signed)."""
        return self.path.exists()

    def is_empty(self) -> bool:
        """True if the file does not exist or has not a byte (not even the header `create` writes first)."""
        try:
            return self.path.stat().st_size == 0
        except FileNotFoundError:
            return True

    def read(self, *, tail: int | None = None) -> list[Anchor]:
        """The anchors in the file, ordered by checkpoint number; none if there is no file yet.

        `tail` reads only the file's last `tail` bytes (whole lines): what the store needs before it signs
        (the newest anchors), at a cost that does not grow with the register.
        """
        self._regular()
        try:
            with self.path.open("rb") as handle:
                start = 0
                if tail is not None:
                    start = max(0, handle.seek(0, os.SEEK_END) - tail)
                    handle.seek(start)
                data = handle.read()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise AnchorFileError(f"Nie można odczytać pliku kotwic {self.path}: {reason(error)}.") from error
        lines = data.split(b"\n")
        if start > 0:
            lines = lines[1:]  # the first line read may be cut short
        # The last line without its newline is one another process is writing now (a reader sees an append
        # of several hundred bytes part-written), or one a crash tore: not an anchor yet. Torn by a crash, it
        # is kept apart by the next append (`append`) and then passed over (`_parse`).
        lines = lines[:-1]
        try:
            texts = [line.decode() for line in lines]
        except UnicodeDecodeError as error:
            raise AnchorFileError(f"Plik kotwic {self.path} nie jest plikiem tekstowym: plik zmieniono.") from error
        anchors = [self._parse(number, line) for number, line in enumerate(texts, 1)]
        return sorted((a for a in anchors if a is not None), key=lambda a: a.number)

    def _regular(self) -> None:
        """Refuse a device, a FIFO or a socket at the anchors' path: reading a FIFO waited forever (`serve` hung
        at start) and /dev/zero ran out of memory."""
        if is_special(self.path):
            raise AnchorFileError(
                f"Plik kotwic {self.path} nie jest zwykłym plikiem (to urządzenie, potok albo gniazdo); wskaż plik."
            )

    def _parse(self, number: int, line: str) -> Anchor | None:
        if not line.strip() or line.startswith("#"):
            return None
        match = _LINE.match(line)
        if match is None and _TORN.match(line):
            # The beginning of an anchor whose write a crash cut short, kept apart by the next append: that
            # checkpoint was never anchored (its signing did not finish). Passing over it is no weaker than the
            # file itself: whoever can write here can delete lines too. Anything else is a changed file.
            log.warning("Plik kotwic %s: wiersz %d to początek kotwicy przerwany awarią; pominięty.", self.path, number)
            return None
        try:
            if match is None:
                raise ValueError(line[:40])
            checkpoint, nr, link, time, reason, digest = match.groups()
            return Anchor(int(checkpoint), int(nr), link, parse_time(time), reason, digest)
        except ValueError as error:
            raise AnchorFileError(
                f"Wiersz pliku kotwic {self.path} jest nieczytelny (nr {number} czytanego fragmentu): plik zmieniono "
                "albo uszkodzono."
            ) from error

    def create(self) -> None:
        """Make the file (a header only) if it does not exist yet, synced with its folder.

        A store with a key makes it when it opens a register without checkpoints, so that later a missing
        file can only mean a file lost or removed, never one not yet written (`AuditStore.verify_before_signing`).
        """
        if self.path.exists():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o640)
        except FileExistsError:
            return
        except OSError as error:
            raise AnchorFileError(f"Nie można utworzyć pliku kotwic {self.path}: {reason(error)}.") from error
        try:
            os.write(descriptor, (HEADER + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        _sync_folder(self.path.parent)

    def append(self, checkpoints: Iterable[Checkpoint]) -> None:
        """Append the anchors of these checkpoints, then flush and sync the file (and a new file's folder)."""
        lines = "".join(Anchor.of(c).line() + "\n" for c in checkpoints)
        if not lines:
            return
        self._regular()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                if created:
                    lines = HEADER + "\n" + lines
                elif not self._ends_with_newline(descriptor):
                    lines = "\n" + lines  # a line torn by a crash stays apart, to be seen, not glued on
                os.write(descriptor, lines.encode())
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            if created:
                _sync_folder(self.path.parent)
        except OSError as error:
            raise AnchorFileError(f"Nie można dopisać kotwicy do pliku {self.path}: {reason(error)}.") from error

    def _ends_with_newline(self, descriptor: int) -> bool:
        size = os.fstat(descriptor).st_size
        if size == 0:
            return True
        with self.path.open("rb") as handle:
            handle.seek(size - 1)
            return handle.read(1) == b"\n"


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
