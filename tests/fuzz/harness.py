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
KNOWN: tuple[KnownFinding, ...] = (
    KnownFinding(
        "soap",
        "empty_body_escapes_as_attribute_error.xml",
        "AttributeError",
        "spyne/protocol/soap/soap11.py:decompose_incoming_envelope",
        "a soap:Body without an element (or no Body): Spyne's Soap11.decompose_incoming_envelope reads .tag of "
        "None, HubSoap11 does not guard it, and AttributeError escapes the WSGI application (Twisted answers "
        "500 with an empty body, no SOAP Fault)",
    ),
    KnownFinding(
        "settings",
        "unparsable_database_url_escapes_as_argument_error.toml",
        "ArgumentError",
        "replica/sqlite.py:sqlite_file",
        "a database URL SQLAlchemy cannot parse escapes settings.load as sqlalchemy ArgumentError, "
        "not ConfigurationError (make_url in a pydantic validator; only ValueError becomes a field error)",
    ),
    # One cause: Loader.load (`_iter_feed`) hands the header and each Rekord on as soon as lxml's iterparse
    # delivers them, and lxml raises a schema or namespace error only after the events read with it.
    KnownFinding(
        "settings",
        "deeply_nested_array_escapes_as_recursion_error.toml",
        "RecursionError",
        "hub/settings.py:load",
        "an array nested 1000 deep exhausts tomllib's recursion; load catches TOMLDecodeError only, so "
        "RecursionError escapes instead of ConfigurationError",
    ),
    KnownFinding(
        "feed",
        "record_read_before_its_namespace_error_escapes_as_value_error.xml",
        "ValueError",
        "replica/writer.py:parse_record",
        "_iter_feed yields a Rekord before lxml raises the error of its undeclared prefix m: parse_record's "
        "etree.QName('m:DaneOsobowe') raises ValueError from Loader.load instead of MalformedXml",
        message="Invalid tag name",
    ),
    KnownFinding(
        "feed",
        "record_read_before_its_schema_error_escapes_as_c14n_error.xml",
        "C14NError",
        "replica/writer.py:parse_record",
        "_iter_feed yields a Rekord before lxml raises the schema error inside it (its sections in the namespace "
        "'model 1', not a URI): parse_record's exclusive C14N fails, lxml C14NError escapes Loader.load "
        "instead of SchemaViolation",
    ),
    KnownFinding(
        "feed",
        "batch_number_read_before_its_schema_error_escapes_as_value_error.xml",
        "ValueError",
        "replica/feed.py:from_attributes",
        "Loader.load reads the header as the Paczka opens, before lxml raises the schema error in its "
        "attributes: NumerPaczki 9:00 gives int() ValueError instead of SchemaViolation",
    ),
    # One cause: cryptography parses a certificate's names and extensions when they are first read, so a
    # KeyInfo certificate with a malformed part loads, and raises (ValueError, DuplicateExtension,
    # InvalidVersion, TypeError) wherever signing/ first reads that part.
    KnownFinding(
        "xades",
        "certificate_with_malformed_issuer_escapes_as_value_error.xml",
        "ValueError",
        "signing/",
        "a KeyInfo certificate whose issuer name is not valid DER: describe() (signing/certificates.py) reads "
        "cert.issuer and ValueError escapes verify instead of a report",
        message="error parsing asn1 value",
    ),
    KnownFinding(
        "xades",
        "certificate_with_malformed_extension_escapes_as_value_error.xml",
        "ValueError",
        "signing/",
        "a KeyInfo certificate whose certificatePolicies extension is not valid DER: _is_ca "
        "(signing/verifier.py) reads cert.extensions and ValueError escapes verify instead of a report",
        message="error parsing asn1 value",
    ),
    KnownFinding(
        "xades",
        "certificate_with_duplicate_extension_escapes_as_duplicate_extension.xml",
        "DuplicateExtension",
        "signing/",
        "a KeyInfo certificate with two subjectKeyIdentifier extensions: _is_ca (signing/verifier.py) reads "
        "cert.extensions and cryptography.x509.DuplicateExtension escapes verify instead of a report",
    ),
    KnownFinding(
        "xades",
        "certificate_with_unknown_version_escapes_as_invalid_version.xml",
        "InvalidVersion",
        "signing/",
        "a KeyInfo certificate of version 106: _load_certificate (signing/verifier.py) catches ValueError only, "
        "and cryptography.x509.InvalidVersion escapes verify instead of a report",
    ),
    KnownFinding(
        "xades",
        "certificate_with_bit_string_name_escapes_as_type_error.xml",
        "TypeError",
        "signing/",
        "a KeyInfo certificate whose subject serialNumber is a BIT STRING: describe() "
        "(signing/certificates.py) reads cert.subject and cryptography's TypeError escapes verify",
        message="BitString",
    ),
)


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
