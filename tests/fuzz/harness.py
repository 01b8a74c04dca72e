"""What the fuzz targets share: running a property under atheris, where a finding comes from, and the
findings already known (saved in `corpus/<target>/`, marked xfail in test_fuzz_regressions.py)."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"
TARGETS = ("soap", "feed", "xades", "settings")
# The project's own packages: a finding is placed at the innermost frame of these it passed through.
PRODUCT = ("adapters", "audit", "contract", "demo", "hub", "replica", "signing")


class Finding(AssertionError):
    """A target's property does not hold; `origin` is the product exception behind it (e.g. a logged one),
    whose traceback the message carries (a soap:Server fault hides it from the answer)."""

    def __init__(self, message: str, origin: BaseException | None = None) -> None:
        if origin is not None:
            message += "\ncaused by:\n" + "".join(traceback.format_exception(origin)).rstrip()
        super().__init__(message)
        self.origin = origin


def origin(error: BaseException) -> tuple[str, str]:
    """(exception type, "file.py:function") of the innermost product frame the error passed through, or
    of the innermost library frame ("spyne/...") when it passed through none."""
    cause = error.origin if isinstance(error, Finding) and error.origin is not None else error
    product = library = "?"
    for frame in traceback.extract_tb(cause.__traceback__):
        path = Path(frame.filename).resolve()
        if "site-packages" in path.parts:
            below = path.parts[path.parts.index("site-packages") + 1 :]
            library = f"{'/'.join(below)}:{frame.name}"
            continue
        try:
            relative = path.relative_to(ROOT)
        except ValueError:
            continue
        if relative.parts and relative.parts[0] in PRODUCT:
            product = f"{relative.as_posix()}:{frame.name}"
    return type(cause).__name__, product if product != "?" else library


@dataclass(frozen=True)
class KnownFinding:
    """A product bug a fuzzer found, kept as a regression fixture until the product is fixed.

    It is matched by exception type, the product function it escaped from (`where`: "file.py:function",
    or the start of it, as "signing/"; not the line, which moves with every edit) and, if given, a part of
    its message; `fixture` is the file in `corpus/<target>/` that shows it.
    """

    target: str
    fixture: str
    exception: str
    where: str
    reason: str
    message: str = ""


# When a product fix lands, its fixture's test passes, the strict xfail fails: remove the entry here.
KNOWN: tuple[KnownFinding, ...] = ()  # every finding so far is fixed; its fixture stays as a regression


def matches(finding: KnownFinding, target: str, error: BaseException) -> bool:
    """Whether `error`, raised by `target`'s property, is an instance of `finding`."""
    kind, where = origin(error)
    cause = error.origin if isinstance(error, Finding) and error.origin is not None else error
    return (
        finding.target == target
        and finding.exception == kind
        and where.startswith(finding.where)
        and finding.message in str(cause)
    )


def known(target: str, error: BaseException) -> KnownFinding | None:
    """The (first) known finding this error is an instance of, if any."""
    return next((finding for finding in KNOWN if matches(finding, target, error)), None)


def instrumented(fuzzing: bool, *packages: str) -> contextlib.AbstractContextManager[object]:
    """Imports made under this are instrumented for coverage when run as a fuzzer; under pytest, not."""
    if not fuzzing:
        return contextlib.nullcontext()
    import atheris

    manager: contextlib.AbstractContextManager[object] = atheris.instrument_imports(include=list(packages))
    return manager


def main(target: str, check: Callable[[bytes], None]) -> None:
    """Run `check` under libFuzzer (the command line is libFuzzer's: corpus folders, -max_total_time=...).

    A known finding is reported once and fuzzing goes on, so that a run looks for new ones; with
    FUZZ_STRICT=1 it is a crash like any other.
    """
    import atheris

    strict = os.environ.get("FUZZ_STRICT") == "1"
    reported: set[KnownFinding] = set()

    def one_input(data: bytes) -> None:
        try:
            check(data)
        except Exception as error:
            finding = None if strict else known(target, error)
            if finding is None:
                raise
            if finding not in reported:
                reported.add(finding)
                print(f"fuzz {target}: known finding {finding.fixture} again; going on", file=sys.stderr)

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
