"""`audit report --output` replaces a regular file atomically and writes straight into special files.

Never tried on the real `/dev/null`: the special files here are made in the test's own folder (a FIFO, a
symbolic link to it, and, when the tests run as root, a character device node with the numbers of the
null device, which discards what is written to it).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from audit.output import PARTIAL_SUFFIX, output_stream
from audit.store import AuditStore
from hub import cli
from tests.audit.conftest import AUDITOR_PASSWORD, fill, hub_config

NULL_DEVICE = os.makedev(1, 3)  # Linux's /dev/null: what is written to a node with these numbers is discarded


class FifoReader:
    """Reads everything written into a FIFO in a thread of its own (a writer's open waits for a reader)."""

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
        # A second name for the same FIFO: if the code under test never opens it, the test still can, so
        # that the reading thread ends instead of waiting for a writer forever.
        self.spare = fifo.with_name(fifo.name + ".drugi")
        os.link(fifo, self.spare)
        self.data = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with open(self.fifo, "rb") as handle:
            self.data = handle.read()

    def finish(self) -> bytes:
        self.thread.join(timeout=5)
        if self.thread.is_alive():  # nobody wrote into the FIFO
            os.close(os.open(self.spare, os.O_WRONLY | os.O_NONBLOCK))
            self.thread.join(timeout=5)
        return self.data


@pytest.fixture
def register(tmp_path: Path) -> str:
    """The URL of a register of 60 records (40 disclosures on 2 November 2026), in a folder of its own."""
    url = f"sqlite:///{tmp_path / 'dane' / 'audit.sqlite'}"
    store = AuditStore(url)
    fill(store)
    store.dispose()
    return url


def report_to(register: str, target: Path) -> int:
    """`platforma audit report` by a logged-in auditor, of the day the register's records were made."""
    config = hub_config(Path(register.removeprefix("sqlite:///")).parent, register)
    os.environ["PLATFORMA_HASLO"] = AUDITOR_PASSWORD
    try:
        arguments = ["audit", "report", "--config", str(config), "--actor", "audytor", "--since", "2026-11-02"]
        return cli.main([*arguments, "--output", str(target)])
    finally:
        del os.environ["PLATFORMA_HASLO"]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(PARTIAL_SUFFIX))


def test_a_fifo_stays_a_fifo_and_receives_the_report(register: str, tmp_path: Path) -> None:
    fifo = tmp_path / "raport.fifo"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    code = report_to(register, fifo)
    data = reader.finish()
    assert code == 0
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a regular file"
    assert data.startswith(b"<?xml") and b"</Raport>" in data
    assert leftovers(tmp_path) == []


def test_a_symbolic_link_to_a_fifo_is_written_through(register: str, tmp_path: Path) -> None:
    fifo = tmp_path / "kolejka"
    os.mkfifo(fifo)
    link = tmp_path / "raport.xml"
    link.symlink_to(fifo)
    reader = FifoReader(fifo)
    code = report_to(register, link)
    data = reader.finish()
    assert code == 0 and b"</Raport>" in data
    assert link.is_symlink() and stat.S_ISFIFO(os.stat(link).st_mode)


def test_a_character_device_stays_a_device(register: str, tmp_path: Path) -> None:
    device = tmp_path / "zero-danych"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, NULL_DEVICE)
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    code = report_to(register, device)
    assert code == 0
    assert stat.S_ISCHR(os.lstat(device).st_mode) and os.lstat(device).st_rdev == NULL_DEVICE
    assert leftovers(tmp_path) == []


def test_a_regular_file_is_replaced_whole(register: str, tmp_path: Path) -> None:
    target = tmp_path / "raport.xml"
    earlier = b'<?xml version="1.0"?><Raport xmlns="urn:pl:platforma-komunikacyjna:raport:1"/>'
    target.write_bytes(earlier)
    assert report_to(register, target) == 0
    assert target.read_bytes().startswith(b"<?xml") and leftovers(tmp_path) == []


def test_a_symbolic_link_to_a_regular_file_keeps_pointing_at_it(tmp_path: Path) -> None:
    real = tmp_path / "raporty" / "raport.csv"
    real.parent.mkdir()
    real.write_bytes(b"\xef\xbb\xbfNr;Czas;Uzytkownik\r\n")  # an earlier report
    link = tmp_path / "ostatni.csv"
    link.symlink_to(real)
    with output_stream(link) as handle:
        handle.write(b"nowy")
    assert link.is_symlink() and real.read_bytes() == b"nowy"


@pytest.mark.parametrize(
    "make", [lambda p: p.write_bytes(b"%PDF-1.7 poprzedni"), lambda p: None], ids=["istniejacy", "nowy"]
)
def test_a_failed_write_leaves_the_target_as_it_was(tmp_path: Path, make: Callable[[Path], object]) -> None:
    target = tmp_path / "raport.xml"
    make(target)
    before = target.read_bytes() if target.exists() else None
    with pytest.raises(RuntimeError), output_stream(target) as handle:
        handle.write(b"polowa")
        raise RuntimeError("przerwane")
    assert (target.read_bytes() if target.exists() else None) == before
    assert leftovers(tmp_path) == []
