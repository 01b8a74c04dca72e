"""Reader processes: an adapter reads and builds its batches in a process of its own while the feeder
sends (each CPU at work; Python runs one thread at a time per process).

A reader is a plain `python -c` subprocess (not `multiprocessing`: that would start a resource-tracker
process and import the feeder's main module, with its command-line and console libraries, into every
reader: tens of MB for nothing). It gets (adapter recipe, method, arguments) as a pickle on its standard
input and writes messages to a pipe: ("part", records) ... ("batch", records) for each source batch,
then ("end", None), or ("error", AdapterError). Messages are length-prefixed pickles of a few hundred
records (a whole batch would be a pickle of several MB in both processes). A reader is at most one
batch ahead: it waits in `write` while the pipe is full, so memory stays flat whatever the source's
size; when the feeder is gone (killed, or stopped after an error) the write fails and the reader ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import gc
import importlib
import os
import pickle
import struct
import subprocess
import sys
from collections.abc import Iterator
from typing import IO, Any

from adapters.base import AdapterError, Item, ModelRecord
from replica.sections import PackedSections

#: Records per message.
PART = 250
_HEADER = struct.Struct("!Q")
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h


class ReaderGone(Exception):
    """The reader process ended without saying so (killed, or it could not start: see its stderr)."""


class ReaderProcess:
    """One reader subprocess running `getattr(adapter, method)(**arguments)`, and the pipe it writes to.

    Without a recipe the process only starts, importing `preload` (the adapter's module: a few tenths of
    a second) while this process gets ready; `start` then tells it what to read.
    """

    def __init__(
        self,
        recipe: Any = None,
        method: str = "",
        arguments: dict[str, Any] | None = None,
        *,
        preload: str | None = None,
    ) -> None:
        read_end, write_end = os.pipe()
        _widen(write_end)
        # The child finds the packages exactly where this process found them.
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
        command = [sys.executable, "-c", "from adapters.reader import main; main()", str(write_end)]
        try:
            self.process = subprocess.Popen(
                command + ([preload] if preload else []),
                stdin=subprocess.PIPE,
                pass_fds=(write_end,),
                env=environment,
            )
        finally:
            os.close(write_end)  # the child holds the writing end; its death is our end of file
        self.stream: IO[bytes] = os.fdopen(read_end, "rb")
        self.has_work = False  # whether `start` has sent it its recipe
        if recipe is not None:
            self.start(recipe, method, arguments or {})

    def start(self, recipe: Any, method: str, arguments: dict[str, Any]) -> None:
        """Send the process its work: rebuild the adapter from `recipe` and run `method(**arguments)`."""
        assert self.process.stdin is not None
        self.has_work = True
        try:
            self.process.stdin.write(pickle.dumps((recipe, method, arguments), protocol=pickle.HIGHEST_PROTOCOL))
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # it died at once: `receive` reports it

    def receive(self) -> tuple[str, Any]:
        """The next message; `ReaderGone` when the reader ended without one."""
        header = self.stream.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise ReaderGone
        (size,) = _HEADER.unpack(header)
        data = self.stream.read(size)
        if len(data) < size:
            raise ReaderGone
        # Our own child's pickle, over a pipe only the two processes hold.
        message: tuple[str, Any] = pickle.loads(data)  # noqa: S301
        return message

    def close(self) -> None:
        """Stop the reader (if still running) and release the pipes."""
        if self.process.poll() is None:
            self.process.terminate()
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stream.close()


def main() -> None:
    """The reader process: rebuild the adapter from its recipe, read, and send batches in parts."""
    flat_heap()
    if len(sys.argv) > 2:  # a module to import while the feeder gets ready (frozen with the rest below)
        with contextlib.suppress(ImportError):  # if it cannot be imported, the recipe will say why
            importlib.import_module(sys.argv[2])
    with rare_collections():
        _read()


def _read() -> None:
    """Read as `main`'s recipe says, writing the messages to the pipe named by the first argument."""
    out = os.fdopen(int(sys.argv[1]), "wb")

    def send(message: tuple[str, Any]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            out.write(_HEADER.pack(len(data)))
            out.write(data)
            out.flush()
        except OSError:  # a broken pipe: the feeder is gone
            os._exit(1)

    try:
        # The feeder's own pickle of the adapter's recipe, on a pipe only it holds.
        recipe, method, arguments = pickle.load(sys.stdin.buffer)  # noqa: S301
        cls, args, kwargs = recipe
        adapter = cls(*args, **kwargs)
        for batch in getattr(adapter, method)(**arguments):
            for start in range(0, len(batch), PART):
                part = [_packed(item) for item in batch[start : start + PART]]
                send(("part" if start + PART < len(batch) else "batch", part))
            if not batch:
                send(("batch", []))
            del batch  # sent: not kept while the next one is read
        adapter.close()
        send(("end", None))
    except AdapterError as error:
        send(("error", error))
    except Exception as error:  # a bug in an adapter: reported, not a hang
        send(("error", AdapterError(f"Błąd adaptera w procesie czytającym ({type(error).__name__}: {error}).")))
    finally:
        with contextlib.suppress(OSError):
            out.close()


def _packed(item: Item) -> Item:
    """A record with its sections packed (`PackedSections`): one string and one byte string to pickle
    and to unpickle instead of a pair per section, and nothing left for the writer to pack."""
    if isinstance(item, ModelRecord) and item.sections and not isinstance(item.sections, PackedSections):
        return item._replace(sections=PackedSections.of(item.sections))
    return item


#: Allocations between two collections of the youngest generation while feeding (Python's default: 700).
FEED_GC_THRESHOLD = 100_000


@contextlib.contextmanager
def rare_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely while a feed runs; restored afterwards.

    A feed allocates millions of short-lived containers (source rows, grouped lists, records) that form
    no reference cycles. With the default thresholds the collector walks the young ones every 700
    allocations and again as they are promoted: 12-15 % of a reader's CPU (measured: 150 -> 131 us per
    person). Objects alive at the start (modules, the adapter) are frozen, so full collections skip them;
    cycles are still collected, every 100,000 allocations instead of every 700.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(FEED_GC_THRESHOLD, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def flat_heap() -> None:
    """Keep the C heap from holding on to freed message buffers (glibc only; elsewhere nothing happens).

    glibc serves a block of more than 128 KiB by mmap and, once it is freed, raises its mmap threshold
    to that size (up to 32 MB), so later blocks come from the heap, which fragments and is not given
    back: RSS would grow by tens of MB per process. A fixed threshold keeps such blocks mmapped.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass


def _widen(descriptor: int) -> None:
    """A 1 MiB pipe buffer instead of 64 KiB (Linux): a message crosses in a few writes, not dozens."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, 1 << 20)
