"""Template and document commands: `platforma templates|documents` (guideline 1.2 and 2; issue 15).

For operators and scripts: every command acts as a named platform user (`--as LOGIN`, password from
`PLATFORMA_HASLO` or asked for), as the administration commands do, so that the domain services check
the same roles and record the same events as over SOAP; `--json` prints what a script reads.
A certificate is signed on the operator's machine with her own key (PKCS#12, PEM or a `pkcs11:` URI; its
password or PIN from `PLATFORMA_HASLO_KLUCZA`, a file, or asked for) and uploaded for verification.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from contract.arguments import version_number
from contract.errors import InvalidRequest
from contract.files import FileTooLarge, NotARegularFile, read_bounded, write_whole
from contract.oserrors import reason
from hub.cli.admin import _actor, _with_core, ask_secret, utf8_secret
from hub.cli.errors import MissingSecret
from hub.core import HubCore
from hub.domain.documents import CERTIFICATE, REQUEST, SIGNED_CERTIFICATE, CaseView, DocumentFile, WrongState
from hub.domain.templates import Template, metadata_from_json
from signing import SigningError, XadesSigner
from signing.cli import KEY_PASSWORD_VARIABLE, open_key, refuse_shared_key, regular_file

console = Console()
ROLES = (REQUEST, CERTIFICATE, SIGNED_CERTIFICATE)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_iso) + "\n")


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


# -- templates --------------------------------------------------------------------------------------------------
def _template_dict(template: Template, *, content: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rodzaj": template.document_type,
        "wersja": template.version,
        "aktywna": template.active,
        "uzyta": template.used,
        "autor_zmiany": template.author,
        "utworzono": template.created,
        "metadane": template.metadata,
    }
    if content:
        data.update(schemat=template.xsd, wizualizacja=template.xsl)
    return data


def _templates_list(core: HubCore, args: argparse.Namespace) -> int:
    versions = core.documents.templates.versions(_actor(core, args))
    if args.json:
        _print_json([_template_dict(t) for t in versions])
        return 0
    table = Table(title="Szablony dokumentów")
    for column in ("rodzaj", "wersja", "aktywna", "użyta", "autor zmiany", "utworzono (UTC)", "tytuł"):
        table.add_column(column)
    for t in versions:
        table.add_row(
            t.document_type,
            str(t.version),
            "tak" if t.active else "",
            "tak" if t.used else "",
            t.author,
            t.created.strftime("%Y-%m-%d %H:%M"),
            t.title,
        )
    console.print(table)
    return 0


def _templates_show(core: HubCore, args: argparse.Namespace) -> int:
    template = core.documents.templates.template(_actor(core, args), args.document_type, args.version)
    if args.json:
        _print_json(_template_dict(template, content=True))
        return 0
    console.print(f"{template.document_type}, wersja {template.version}: {template.title}", highlight=False)
    for label, value in (
        ("aktywna", "tak" if template.active else "nie"),
        ("użyta (niezmienna)", "tak" if template.used else "nie"),
        ("autor zmiany", template.author),
        ("utworzono", template.created.isoformat()),
        ("przestrzeń nazw", template.namespace),
        ("autor wzoru", str(template.metadata.get("autor", ""))),
        ("podstawa prawna", str(template.metadata.get("podstawa_prawna", ""))),
        ("opis", str(template.metadata.get("opis", ""))),
        ("schemat XSD", f"{len(template.xsd)} znaków"),
        ("wizualizacja XSL", f"{len(template.xsl)} znaków"),
    ):
        console.print(f"  {label}: {value}", highlight=False, markup=False)
    return 0


def _templates_export(core: HubCore, args: argparse.Namespace) -> int:
    template = core.documents.templates.template(_actor(core, args), args.document_type, args.version)
    if _write(args.out, template.export_file()):
        return 0
    console.print(f"Zapisano szablon {template.document_type} w wersji {template.version}: {args.out}", highlight=False)
    return 0


STDOUT = "-"


def _write(path: str, content: bytes, *, binary: bool = False) -> bool:
    """`content` into the file `path` whole (never half of it, a device or FIFO written to, not replaced), or to
    standard output for `-`: True then, and the command prints nothing else there."""
    if path != STDOUT:
        write_whole(Path(path), content)
        return False
    if binary and sys.stdout.isatty():
        raise InvalidRequest("Pliku PDF nie wypisuję na terminal: podaj --out PLIK.pdf albo przekieruj wyjście.")
    sys.stdout.flush()
    sys.stdout.buffer.write(content)
    sys.stdout.buffer.flush()
    return True


def _report_new(template: Template, args: argparse.Namespace) -> int:
    if args.json:
        _print_json(_template_dict(template))
    else:
        console.print(
            f"Utworzono wersję {template.version} szablonu {template.document_type} (nieaktywna; "
            f"włącz ją: platforma templates activate {template.document_type} {template.version}).",
            highlight=False,
        )
    return 0


def _templates_import(core: HubCore, args: argparse.Namespace) -> int:
    actor = _actor(core, args)
    return _report_new(core.documents.templates.import_file(actor, _read(args.file)), args)


#: The largest file a command reads (a template's export, a schema, a password file): far above any real one,
#: and /dev/zero or a mistyped path to a disk image must not fill the memory.
MAX_INPUT_BYTES = 64 * 1024 * 1024


def _read(path: str) -> bytes:
    """A regular file's bytes, at most `MAX_INPUT_BYTES` (a FIFO would block, a device never end)."""
    try:
        return read_bounded(Path(path), MAX_INPUT_BYTES)
    except NotARegularFile:
        raise InvalidRequest(f"{path} nie jest zwykłym plikiem (urządzenie, potok lub gniazdo); podaj plik.") from None
    except FileTooLarge:
        raise InvalidRequest(f"Plik {path} jest za duży (ponad {MAX_INPUT_BYTES // (1024 * 1024)} MB).") from None


def _text_file(path: str) -> str:
    """A template's file as text: UTF-8, as the hub stores templates and exports them."""
    try:
        return _read(path).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRequest(
            f"Plik {path} nie jest tekstem w UTF-8 (bajt nr {error.start + 1}); zapisz go w UTF-8 i podaj ponownie."
        ) from None


def _templates_new_version(core: HubCore, args: argparse.Namespace) -> int:
    actor = _actor(core, args)
    if not (args.xsd or args.xsl or args.metadata):
        raise InvalidRequest("Podaj co najmniej jeden z plików: --xsd, --xsl, --metadata.")
    xsd = _text_file(args.xsd) if args.xsd else None
    xsl = _text_file(args.xsl) if args.xsl else None
    metadata = metadata_from_json(_text_file(args.metadata)) if args.metadata else None
    return _report_new(core.documents.templates.new_version(actor, args.document_type, xsd, xsl, metadata), args)


def _templates_activate(core: HubCore, args: argparse.Namespace) -> int:
    template = core.documents.templates.activate(_actor(core, args), args.document_type, args.version)
    if args.json:
        _print_json(_template_dict(template))
    else:
        console.print(
            f"Aktywna wersja szablonu {template.document_type}: {template.version}; z niej powstają nowe dokumenty.",
            highlight=False,
        )
    return 0


def _templates_history(core: HubCore, args: argparse.Namespace) -> int:
    history = core.documents.templates.history(_actor(core, args), args.document_type)
    if args.json:
        _print_json(
            [
                {
                    "czas": e.time,
                    "rodzaj": e.document_type,
                    "wersja": e.version,
                    "czynnosc": e.action.value,
                    "kto": e.actor,
                    "urzad": e.office,
                    "sha256": e.sha256,
                }
                for e in history
            ]
        )
        return 0
    table = Table(title=f"Historia szablonu {args.document_type}")
    for column in ("czas (UTC)", "wersja", "czynność", "kto", "urząd", "SHA-256 pliku"):
        table.add_column(column)
    for e in history:
        table.add_row(e.time.strftime("%Y-%m-%d %H:%M:%S"), str(e.version), e.action.value, e.actor, e.office, e.sha256)
    console.print(table)
    return 0


# -- documents --------------------------------------------------------------------------------------------------
def _case_dict(case: CaseView, direction: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {
        "sprawa": case.id,
        "rodzaj_zaswiadczenia": case.certificate_type,
        "wnioskodawca": case.requester,
        "urzad_wnioskodawcy": case.requester_office,
        "urzad_adresata": case.recipient_office,
        "stan": case.state,
        "zlozono": case.created,
        "powod_odmowy": case.refusal,
    }
    if direction:
        data["kierunek"] = direction
    return data


def _document_dict(document: DocumentFile) -> dict[str, Any]:
    return {
        "dokument": document.id,
        "rola": document.role,
        "rodzaj": document.document_type,
        "wersja_szablonu": document.template_version,
        "sha256": document.sha256,
    }


def _documents_list(core: HubCore, args: argparse.Namespace) -> int:
    actor = _actor(core, args)
    service = core.documents
    cases: list[tuple[str, CaseView]] = []
    if args.box in ("inbox", "all"):
        cases += [("odbiorcza", c) for c in service.inbox(actor)]
    if args.box in ("outbox", "all"):
        cases += [("nadawcza", c) for c in service.outbox(actor) if c.recipient_office != actor.office]
    if args.json:
        _print_json([_case_dict(case, direction) for direction, case in cases])
        return 0
    table = Table(title=f"Sprawy urzędu {actor.office}")
    for column in ("skrzynka", "sprawa", "zaświadczenie", "od", "do", "stan", "złożono (UTC)"):
        table.add_column(column)
    for direction, case in cases:
        table.add_row(
            direction,
            case.id,
            case.certificate_type,
            f"{case.requester_office} ({case.requester})",
            case.recipient_office,
            case.state,
            case.created.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)
    return 0


def _case_documents(core: HubCore, args: argparse.Namespace, actor: Any) -> list[DocumentFile]:
    found: dict[str, DocumentFile] = {}  # by id: the requester asking for the certificate gets the signed one
    for role in ROLES:
        try:
            document = core.documents.document_readonly(actor, args.case_id, role)
        except WrongState:
            continue
        found.setdefault(document.id, document)
    return list(found.values())


def _documents_show(core: HubCore, args: argparse.Namespace) -> int:
    actor = _actor(core, args)
    case = core.documents.case(actor, args.case_id)
    history = core.documents.history(actor, args.case_id)
    documents = _case_documents(core, args, actor)
    if args.json:
        data = _case_dict(case)
        data["przejscia"] = [
            {
                "czas": t.time,
                "kto": t.actor,
                "urzad": t.office,
                "ze_stanu": t.from_state,
                "do_stanu": t.to_state,
                "sha256": t.sha256,
                "uwagi": t.note,
            }
            for t in history
        ]
        data["dokumenty"] = [_document_dict(d) for d in documents]
        _print_json(data)
        return 0
    console.print(
        f"Sprawa {case.id}: {case.certificate_type}, {case.requester_office} → {case.recipient_office}, "
        f"stan {case.state}" + (f" (powód odmowy: {case.refusal})" if case.refusal else ""),
        highlight=False,
        markup=False,
    )
    for t in history:
        console.print(
            f"  {t.time:%Y-%m-%d %H:%M:%S} {t.from_state or '—'} → {t.to_state} ({t.actor}, {t.office}) {t.note}",
            highlight=False,
            markup=False,
        )
    for d in documents:
        console.print(
            f"  dokument {d.role}: {d.document_type} w. {d.template_version}, SHA-256 {d.sha256}", highlight=False
        )
    return 0


def _documents_fetch(core: HubCore, args: argparse.Namespace) -> int:
    document = core.documents.document(_actor(core, args), args.case_id, args.role)
    if _write(args.out, document.content):
        return 0
    console.print(
        f"Zapisano {document.role} sprawy {document.case_id}: {args.out} (SHA-256 {document.sha256})", highlight=False
    )
    return 0


def _documents_pdf(core: HubCore, args: argparse.Namespace) -> int:
    content = core.documents.pdf(_actor(core, args), args.case_id, args.role)
    if _write(args.out, content, binary=True):
        return 0
    console.print(f"Zapisano wizualizację PDF ({len(content)} B): {args.out}", highlight=False)
    return 0


def _documents_accept(core: HubCore, args: argparse.Namespace) -> int:
    document = core.documents.accept(_actor(core, args), args.case_id)
    if args.json:
        _print_json(_document_dict(document))
    else:
        console.print(f"Przyjęto wniosek; zaświadczenie czeka na podpis (SHA-256 {document.sha256}).", highlight=False)
    return 0


def _documents_refuse(core: HubCore, args: argparse.Namespace) -> int:
    case = core.documents.refuse(_actor(core, args), args.case_id, args.reason)
    console.print(f"Odmówiono wniosku w sprawie {case.id}.", highlight=False)
    return 0


def _key_password(args: argparse.Namespace) -> str | None:
    if args.key_password_file:
        return _text_file(args.key_password_file).strip()
    value = os.environ.get(KEY_PASSWORD_VARIABLE)
    if value is not None:
        return utf8_secret(value, KEY_PASSWORD_VARIABLE)
    try:
        return utf8_secret(ask_secret(f"Hasło lub PIN klucza {args.key}: "), "terminala") or None
    except EOFError:
        raise MissingSecret(
            f"brak hasła klucza: ustaw zmienną {KEY_PASSWORD_VARIABLE}, podaj --key-password-file albo uruchom "
            "polecenie w terminalu."
        ) from None


def _output_file(path: str | None, option: str) -> None:
    """Where a file will be written after an action that cannot be undone: checked before it."""
    if path is None:
        return
    file = Path(path)
    if file.is_dir():
        raise InvalidRequest(f"{option} {path} jest katalogiem; podaj nazwę pliku.")
    if not file.parent.is_dir():
        raise InvalidRequest(f"{option} {path}: nie ma katalogu {file.parent}.")
    if not os.access(file if file.exists() else file.parent, os.W_OK):
        raise InvalidRequest(f"{option} {path}: brak uprawnień do zapisu.")


def _documents_sign(core: HubCore, args: argparse.Namespace) -> int:
    # Before anything is uploaded: a receipt that cannot be written after the certificate was delivered made
    # the command fail (exit 2) for a delivery that had happened, and a repeated one found the case closed.
    try:
        refuse_shared_key(args.key)  # also a device or FIFO given as the key
        if args.cert:
            regular_file(args.cert, "--cert")
    except SigningError as error:
        raise InvalidRequest(error.message) from None
    _output_file(args.receipt, "--receipt")
    actor = _actor(core, args)
    to_sign = core.documents.for_signing(actor, args.case_id)
    try:
        signed = XadesSigner(open_key(args.key, _key_password(args), args.cert)).sign_enveloped(to_sign.content)
    except SigningError as error:  # a --cert that is no certificate too (`open_key`)
        raise InvalidRequest(f"Nie udało się podpisać zaświadczenia: {error}") from None
    delivered = core.documents.upload_signed(actor, args.case_id, signed)
    unwritten = None
    if args.receipt:
        try:
            write_whole(Path(args.receipt), delivered.receipt)
        except OSError as error:  # a full disk or a device the check before could not foresee: delivered all the same
            unwritten = reason(error)
    if args.json:
        data = _case_dict(delivered.case)
        data["dokument"] = _document_dict(delivered.document)
        if unwritten is not None:
            data["poswiadczenie_niezapisane"] = unwritten
        _print_json(data)
    else:
        console.print(
            f"Podpisane zaświadczenie przyjęte i doręczone (sprawa {delivered.case.id}, stan {delivered.case.state}, "
            f"SHA-256 {delivered.document.sha256}).",
            highlight=False,
        )
    if unwritten is not None:
        print(
            f"Uwaga: zaświadczenie doręczono, ale poświadczenia (UPP) nie zapisano do {args.receipt} ({unwritten}). "
            f"Poświadczenia sprawy {delivered.case.id} są w hubie: operacja PobierzPoswiadczenia.",
            file=sys.stderr,
        )
        return 1
    return 0


def _documents_seal(core: HubCore, args: argparse.Namespace) -> int:
    delivered = core.documents.seal_certificate(_actor(core, args), args.case_id)
    if args.json:
        data = _case_dict(delivered.case)
        data["dokument"] = _document_dict(delivered.document)
        _print_json(data)
    else:
        console.print(
            f"Zaświadczenie opieczętowane pieczęcią huba i doręczone (sprawa {delivered.case.id}, "
            f"SHA-256 {delivered.document.sha256}).",
            highlight=False,
        )
    return 0


# -- parser -----------------------------------------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser, *, json_output: bool = True) -> None:
    parser.add_argument("--config", required=True, help="plik konfiguracji TOML")
    parser.add_argument(
        "--as",
        "--actor",
        dest="actor",
        required=True,
        help="login wykonującego (hasło: zmienna PLATFORMA_HASLO lub pytanie)",
    )
    if json_output:
        parser.add_argument("--json", action="store_true", help="wynik w formacie JSON (dla skryptów)")


def _add(commands: Any, name: str, help_text: str, action: Any, *, json_output: bool = True) -> Any:
    parser = commands.add_parser(name, help=help_text)
    _common(parser, json_output=json_output)
    parser.set_defaults(func=_with_core(action))
    return parser


def _register_templates(commands: Any) -> None:
    templates = commands.add_parser("templates", help="szablony dokumentów: wersje, eksport, import, aktywacja")
    actions = templates.add_subparsers(dest="templates_command", metavar="AKCJA", required=True)
    _add(actions, "list", "wszystkie wersje szablonów (kto i kiedy je utworzył; redaktor szablonów)", _templates_list)
    for name, help_text, action in (
        (
            "show",
            "metadane wersji szablonu (z --json także schemat i wizualizacja; redaktor szablonów)",
            _templates_show,
        ),
        ("export", "zapisz wersję szablonu jako jeden plik (JSON; redaktor szablonów)", _templates_export),
    ):
        parser = _add(actions, name, help_text, action, json_output=name == "show")
        parser.add_argument("document_type", metavar="RODZAJ", help="rodzaj dokumentu, np. WNIOSEK_O_INFORMACJE")
        parser.add_argument("--version", type=version_number, metavar="WERSJA", help="numer wersji (domyślnie aktywna)")
        if name == "export":
            parser.add_argument("--out", required=True, metavar="PLIK", help="plik wynikowy ('-': wyjście)")
    imported = _add(actions, "import", "nowa wersja szablonu z pliku eksportu (redaktor szablonów)", _templates_import)
    imported.add_argument("file", metavar="PLIK", help="plik JSON z eksportu szablonu")
    new = _add(actions, "new-version", "nowa wersja szablonu z plików (redaktor szablonów)", _templates_new_version)
    new.add_argument("document_type", metavar="RODZAJ", help="rodzaj dokumentu")
    new.add_argument("--xsd", metavar="PLIK", help="schemat XSD (domyślnie z aktywnej wersji)")
    new.add_argument("--xsl", metavar="PLIK", help="wizualizacja XSL (domyślnie z aktywnej wersji)")
    new.add_argument("--metadata", metavar="PLIK", help="zmiany metadanych (JSON)")
    activate = _add(actions, "activate", "włącz wersję szablonu (redaktor szablonów; zdarzenie)", _templates_activate)
    activate.add_argument("document_type", metavar="RODZAJ", help="rodzaj dokumentu")
    activate.add_argument("version", type=version_number, metavar="WERSJA", help="numer wersji")
    history = _add(
        actions, "history", "kto, co i kiedy zmienił w szablonach rodzaju (redaktor szablonów)", _templates_history
    )
    history.add_argument("document_type", metavar="RODZAJ", help="rodzaj dokumentu")


def _register_documents(commands: Any) -> None:
    documents = commands.add_parser("documents", help="wnioski i zaświadczenia: sprawy, podpis, pobranie")
    actions = documents.add_subparsers(dest="documents_command", metavar="AKCJA", required=True)
    listing = _add(actions, "list", "sprawy urzędu wykonującego (skrzynka odbiorcza i nadawcza)", _documents_list)
    listing.add_argument("--box", choices=("inbox", "outbox", "all"), default="all", help="która skrzynka")
    show = _add(actions, "show", "sprawa: stan, przejścia, dokumenty i ich skróty", _documents_show)
    show.add_argument("case_id", metavar="SPRAWA", help="identyfikator sprawy")
    fetch = _add(actions, "fetch", "zapisz dokument sprawy (XML)", _documents_fetch, json_output=False)
    fetch.add_argument("case_id", metavar="SPRAWA", help="identyfikator sprawy")
    fetch.add_argument("--role", choices=ROLES, default=CERTIFICATE, help="który dokument (domyślnie zaświadczenie)")
    fetch.add_argument("--out", required=True, metavar="PLIK", help="plik wynikowy ('-': standardowe wyjście)")
    pdf = _add(
        actions, "pdf", "zapisz wizualizację PDF dokumentu z weryfikacją podpisów", _documents_pdf, json_output=False
    )
    pdf.add_argument("case_id", metavar="SPRAWA", help="identyfikator sprawy")
    pdf.add_argument("--role", choices=ROLES, default=CERTIFICATE, help="który dokument (domyślnie zaświadczenie)")
    pdf.add_argument("--out", required=True, metavar="PLIK", help="plik PDF ('-': standardowe wyjście, nie terminal)")
    accept = _add(actions, "accept", "przyjmij wniosek: platforma wytworzy zaświadczenie", _documents_accept)
    accept.add_argument("case_id", metavar="SPRAWA", help="identyfikator sprawy")
    refuse = _add(actions, "refuse", "odmów wniosku z podaniem powodu", _documents_refuse, json_output=False)
    refuse.add_argument("case_id", metavar="SPRAWA", help="identyfikator sprawy")
    refuse.add_argument("--reason", required=True, help="powód odmowy (zobaczy go wnioskodawca)")
    sign = _add(actions, "sign", "podpisz zaświadczenie własnym kluczem i prześlij do weryfikacji", _documents_sign)
    sign.add_argument("case_id", metavar="SPRAWA", help="identyfikator sprawy")
    sign.add_argument("--key", required=True, metavar="KLUCZ", help="plik PKCS#12 lub PEM albo URI pkcs11:")
    sign.add_argument("--cert", metavar="PLIK", help="certyfikat (PEM), gdy nie ma go w pliku klucza ani w tokenie")
    sign.add_argument(
        "--key-password-file",
        metavar="PLIK",
        help="plik z hasłem lub PIN-em (inaczej PLATFORMA_HASLO_KLUCZA lub pytanie)",
    )
    sign.add_argument("--receipt", metavar="PLIK", help="zapisz poświadczenie przedłożenia (UPP)")
    seal = _add(actions, "seal", "opieczętuj zaświadczenie pieczęcią przechowywaną przez hub i doręcz", _documents_seal)
    seal.add_argument("case_id", metavar="SPRAWA", help="identyfikator sprawy")


def register(commands: Any) -> None:
    """Add `templates` and `documents` to the `platforma` command."""
    _register_templates(commands)
    _register_documents(commands)
