"""The ``sign`` and ``verify`` commands of ``platforma``; also runnable as ``python -m signing.cli``.

The top-level ``platforma`` command belongs to the hub: it calls :func:`register` with its argparse
subparsers. Messages are Polish; errors are one clear sentence on stderr, never a traceback.

Exit codes: 0 success (for ``verify``: the signature is valid and chains to a trust anchor), 1 the
signature is not accepted, 2 the command could not do its work (missing file, wrong password...).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from contract.files import FileTooLarge, is_special, mode_for_others, read_bounded, write_whole
from contract.oserrors import reason

from . import constants as c
from .errors import InvalidInput, InvalidKey, SigningError
from .keys import load_key
from .revocation import RevocationSources, load_crls
from .safexml import parse_xml
from .signer import SignerConfig, XadesSigner
from .trust import TrustStore
from .verifier import VerifierConfig, XadesVerifier

EXIT_OK = 0
EXIT_NOT_ACCEPTED = 1
EXIT_ERROR = 2

Command = Callable[[argparse.Namespace], int]

#: The password or PIN of the key when neither --password nor --password-file is given, as `platforma documents
#: sign` reads it (a password on the command line is seen by every user of the machine in the process list).
KEY_PASSWORD_VARIABLE = "PLATFORMA_HASLO_KLUCZA"  # noqa: S105 (the name of a variable, not a password)
#: The largest key, certificate, password, CRL or OCSP file read: far above any real one (a national CA's CRL runs
#: to tens of megabytes), and /dev/zero or a mistyped path to a disk image must not fill the memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
STDOUT = "-"


def _fail(message: str, args: argparse.Namespace | None = None, code: str = "BLAD") -> int:
    print(f"Błąd: {message}", file=sys.stderr)
    if args is not None and getattr(args, "json", False):
        # Whoever asked for JSON parses standard output: an error is JSON there too, never nothing.
        text = message[:1].upper() + message[1:]
        error = {"code": code, "message": text}
        # "blad" as every other `platforma … --json` command reports an error; "error" beside the report's
        # English keys, as before.
        shown = {"accepted": False, "valid": False, "error": error, "blad": {"kod": code, "komunikat": text}}
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    return EXIT_ERROR


def _guarded(command: Command) -> Command:
    """Turn every failure into a Polish message and exit code 2."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        fail = functools.partial(_fail, args=args)
        try:
            return command(args)
        except SigningError as exc:
            return fail(exc.message, code=exc.code)
        except FileNotFoundError as exc:
            return fail(f"nie znaleziono pliku {exc.filename}.", code="BRAK_PLIKU")
        except IsADirectoryError as exc:
            return fail(f"{exc.filename} jest katalogiem, a nie plikiem.", code="BRAK_PLIKU")
        except PermissionError as exc:
            return fail(f"brak dostępu do pliku {exc.filename}.", code="BRAK_DOSTEPU")
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            return fail(f"operacja na pliku{where} nie powiodła się ({reason(exc)}).", code="BLAD_PLIKU")
        except ValueError as exc:
            return fail(f"nieprawidłowa wartość: {exc}.", code="NIEPRAWIDLOWE_DANE")
        except Exception as exc:  # the CLI promise: a sentence, never a traceback
            return fail(f"nieoczekiwany błąd ({type(exc).__name__}: {exc}).")

    return run


@_guarded
def run_sign(args: argparse.Namespace) -> int:
    """``platforma sign``: sign a document (enveloped) or any file (detached)."""
    refuse_shared_key(args.key)
    if args.cert:
        regular_file(args.cert, "--cert")
    config = SignerConfig(include_chain=args.chain)
    document_path = regular_file(args.document, "Dokument")
    key = open_key(args.key, _key_password(args), args.cert)
    try:
        signer = XadesSigner(key, config)
        if args.detached:  # any file, a large PDF too: only its digest is signed
            output = signer.sign_detached(document_path.read_bytes(), document_path.name)
        else:  # a byte more than the signer takes: it refuses the document in its own words
            output = signer.sign_enveloped(_read_at_most(document_path, config.max_document_bytes + 1))
    finally:
        close = getattr(key, "close", None)
        if callable(close):
            close()
    kind = "zewnętrzny" if args.detached else "otaczany (enveloped)"
    if args.out == STDOUT:
        sys.stdout.buffer.write(output)
        sys.stdout.flush()
        print(f"Podpisano: {args.document} (podpis {kind}, XAdES-B-B).", file=sys.stderr)
        return EXIT_OK
    write_whole(Path(args.out), output)
    print(f"Podpisano: {args.document} → {args.out} (podpis {kind}, XAdES-B-B).")
    return EXIT_OK


def refuse_shared_key(source: str, option: str = "--key") -> None:
    """Refuse a private key file its group or other users may read or change, as ssh refuses one: only the
    file's password would stand between them and the signer's qualified signature. A `pkcs11:` token keeps
    its keys itself; a device or a FIFO is refused too (reading /dev/zero never ends, a FIFO waits)."""
    if source.startswith("pkcs11:"):
        return
    regular_file(source, option)
    if Path(source).is_dir():  # before its mode: "chmod 600 /tmp" is advice that breaks the machine
        raise InvalidInput(f"{option} {source} jest katalogiem; podaj plik klucza.", code="NIEPRAWIDLOWY_PLIK")
    mode = mode_for_others(Path(source))
    if mode is not None:
        who = "wszyscy użytkownicy systemu" if mode & 0o007 else "użytkownicy grupy pliku"
        raise InvalidKey(
            f"Plik klucza {source} mogą czytać lub zmieniać {who} (uprawnienia {mode:04o}); ustaw 0600 poleceniem "
            f"chmod 600 {shlex.quote(source)}.",
            code="KLUCZ_DOSTEPNY_DLA_INNYCH",
        )


def _key_password(args: argparse.Namespace) -> str | None:
    """--password, else the first line of --password-file, else `KEY_PASSWORD_VARIABLE`, else none."""
    if args.password_file:
        content = _read(args.password_file, "--password-file")
        try:
            return content.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"Plik hasła {args.password_file} nie jest tekstem w UTF-8 (bajt nr {exc.start + 1}).",
                code="NIEPRAWIDLOWE_DANE",
            ) from None
    if args.password is not None:
        return str(args.password)
    return os.environ.get(KEY_PASSWORD_VARIABLE)


def open_key(source: str, password: str | None, certificate: str | None) -> Any:
    """`load_key`, with a --cert that is no certificate an `InvalidKey` in Polish (cryptography's ValueError
    otherwise)."""
    try:
        return load_key(source, password, certificate)
    except ValueError:  # the key's own errors are InvalidKey: this is --cert, read by cryptography
        if certificate is None:
            raise
        raise InvalidKey(
            f"Nie można odczytać certyfikatu z pliku {certificate}: oczekiwano certyfikatu PEM.",
            code="NIEPRAWIDLOWY_CERTYFIKAT",
        ) from None


def regular_file(path: str, what: str) -> Path:
    """`path`, refused if it names a device, a FIFO or a socket (/dev/zero never ends, a FIFO waits for a writer)."""
    if is_special(Path(path)):
        raise InvalidInput(
            f"{what} {path} nie jest zwykłym plikiem (urządzenie, potok lub gniazdo); podaj plik.",
            code="NIEPRAWIDLOWY_PLIK",
        )
    return Path(path)


def _read(path: str, what: str) -> bytes:
    """A regular file's bytes, at most `MAX_FILE_BYTES`."""
    try:
        return read_bounded(regular_file(path, what), MAX_FILE_BYTES)
    except FileTooLarge:
        raise InvalidInput(
            f"{what} {path} jest za duży (ponad {MAX_FILE_BYTES // (1024 * 1024)} MB).", code="PLIK_ZA_DUZY"
        ) from None


@_guarded
def run_verify(args: argparse.Namespace) -> int:
    """``platforma verify``: verify the signature of a document and print the report."""
    store = TrustStore()
    for location in args.trust or []:
        path = regular_file(location, "--trust")
        if not path.exists():
            return _fail(f"nie znaleziono katalogu ani listy zaufania {location}.", args, "BRAK_PLIKU")
        store = store.merged(TrustStore.from_path(path))
    crls = load_crls([_read(name, "--crl") for name in args.crl or []])
    if args.crl and len(crls) != len(args.crl):
        return _fail("nie można odczytać jednej z podanych list CRL.", args, "NIEPRAWIDLOWA_CRL")
    ocsp = tuple(_read(name, "--ocsp") for name in args.ocsp or [])
    intermediates = []
    for name in args.intermediate or []:
        intermediates.extend(TrustStore.from_path(regular_file(name, "--intermediate")).anchors)
    validation_time = _parse_time(args.time) if args.time else None
    config = VerifierConfig(
        trust=store,
        intermediates=tuple(anchor.certificate for anchor in intermediates),
        revocation=RevocationSources(crls=crls, ocsp_responses=ocsp, online=not args.offline),
        validation_time=validation_time,
        trust_claimed_signing_time=args.trust_signing_time,
    )
    document_path = regular_file(args.document, "Dokument")
    document = _read_at_most(document_path, config.max_document_bytes + 1)
    detached: bytes | dict[str, bytes] | None
    if args.data:
        detached = regular_file(args.data, "--data").read_bytes()
    else:
        detached = _detached_beside(document, document_path)
    report = XadesVerifier(config).verify(document, detached=detached)
    print(report.to_json() if args.json else report.render())
    return EXIT_OK if report.accepted else EXIT_NOT_ACCEPTED


def _read_at_most(path: Path, limit: int) -> bytes:
    """The first ``limit`` bytes of ``path``: enough for the verifier to refuse what is too big.

    Reading a whole file first would let /dev/zero or a huge file exhaust the memory before the size
    check (safexml.DEFAULT_MAX_BYTES) is reached.
    """
    with path.open("rb") as stream:
        return stream.read(limit)


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"nieprawidłowa chwila weryfikacji {text!r}; oczekiwano ISO 8601, np. 2026-11-25T12:00:00Z.",
            code="NIEPRAWIDLOWE_DANE",
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _detached_beside(document: bytes, location: Path) -> dict[str, bytes] | None:
    """For a detached signature, the signed files named by its references, looked up beside it.

    Only plain relative names are followed (no directories up, no absolute paths, no URL schemes).
    """
    try:
        root = parse_xml(document)
    except SigningError:
        return None
    if root.tag != c.ds("Signature"):
        return None
    found: dict[str, bytes] = {}
    for reference in root.iterfind(f"{c.ds('SignedInfo')}/{c.ds('Reference')}"):
        uri = reference.get("URI") or ""
        name = unquote(uri)
        if not uri or uri.startswith("#") or ":" in name or ".." in PurePosixPath(name).parts or name.startswith("/"):
            continue
        candidate = location.parent / name
        if candidate.is_file():
            found[uri] = candidate.read_bytes()
    return found or None


def register(subparsers: Any) -> None:
    """Add the ``sign`` and ``verify`` subcommands to an argparse subparsers object."""
    sign = subparsers.add_parser(
        "sign",
        help="podpisz dokument podpisem XAdES",
        description="Podpisuje dokument XML podpisem XAdES-B-B otaczanym (enveloped) albo dowolny plik "
        "podpisem zewnętrznym (detached). Klucz: plik PEM, PKCS#12 (.p12/.pfx) albo token PKCS#11.",
    )
    sign.add_argument(
        "--key",
        required=True,
        metavar="PLIK_LUB_URI",
        help="klucz prywatny: plik PEM lub PKCS#12, albo adres tokenu 'pkcs11:token=...;object=...?module-path=...'",
    )
    sign.add_argument(
        "--password",
        metavar="HASŁO",
        help=f"hasło pliku klucza albo PIN tokenu (widoczne w liście procesów; lepiej zmienna {KEY_PASSWORD_VARIABLE})",
    )
    sign.add_argument(
        "--password-file",
        metavar="PLIK",
        help=f"plik z hasłem lub PIN-em (zamiast --password; bez obu: zmienna {KEY_PASSWORD_VARIABLE})",
    )
    sign.add_argument("--cert", metavar="PLIK", help="certyfikat (PEM), gdy nie ma go w pliku klucza ani w tokenie")
    sign.add_argument("--detached", action="store_true", help="podpis zewnętrzny, w osobnym pliku")
    sign.add_argument(
        "--chain",
        dest="chain",
        action="store_true",
        default=True,
        help="dołącz do podpisu certyfikaty wystawców z pliku klucza lub tokenu, bez certyfikatu głównego (domyślnie)",
    )
    sign.add_argument(
        "--no-chain", dest="chain", action="store_false", help="dołącz tylko certyfikat podpisującego, bez wystawców"
    )
    sign.add_argument("--out", required=True, metavar="PLIK", help="plik wynikowy ('-': standardowe wyjście)")
    sign.add_argument("document", metavar="DOKUMENT", help="podpisywany dokument XML (lub dowolny plik z --detached)")
    sign.set_defaults(func=run_sign)

    verify = subparsers.add_parser(
        "verify",
        help="zweryfikuj podpis XAdES",
        description="Weryfikuje podpis XAdES i wypisuje raport po polsku (lub JSON). Kod wyjścia 0 tylko "
        "wtedy, gdy podpis jest ważny i prowadzi do kotwicy zaufania.",
    )
    verify.add_argument(
        "--trust",
        action="append",
        metavar="KATALOG_LUB_TSL",
        help="kotwice zaufania: katalog certyfikatów albo lista zaufania ETSI TS 119 612 (XML); można podać wiele razy",
    )
    verify.add_argument("--json", action="store_true", help="raport w formacie JSON")
    verify.add_argument("--crl", action="append", metavar="PLIK", help="lista CRL (PEM lub DER)")
    verify.add_argument("--ocsp", action="append", metavar="PLIK", help="odpowiedź OCSP (DER)")
    verify.add_argument("--intermediate", action="append", metavar="PLIK", help="certyfikat pośredni (niezaufany)")
    verify.add_argument("--data", metavar="PLIK", help="podpisany plik (dla podpisu zewnętrznego)")
    verify.add_argument("--offline", action="store_true", help="nie pobieraj list CRL ani odpowiedzi OCSP z sieci")
    verify.add_argument(
        "--trust-signing-time",
        action="store_true",
        help="oceniaj certyfikat tylko na deklarowaną chwilę podpisu (bez znacznika czasu to deklaracja podpisującego)",
    )
    verify.add_argument("--time", metavar="ISO8601", help="chwila weryfikacji (domyślnie teraz)")
    verify.add_argument("document", metavar="DOKUMENT", help="podpisany dokument lub plik podpisu zewnętrznego")
    verify.set_defaults(func=run_verify)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sign`` or ``verify`` standalone; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m signing.cli", description="Podpisy XAdES: podpisywanie i weryfikacja."
    )
    register(parser.add_subparsers(dest="command", required=True, metavar="{sign,verify}"))
    args = parser.parse_args(argv)
    func: Command = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["main", "register", "run_sign", "run_verify"]
