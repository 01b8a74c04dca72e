"""The `audit` commands of `platforma`: verify, report, purge, checkpoint, key, grants.

The hub's `platforma` calls `register(subparsers)`; `python -m audit.cli` runs them alone. The audit
database comes from `--audit-db URL` or from `--config FILE` (`[hub] audit_database`, and the optional
`audit_key`, `audit_checkpoint_every`, `audit_checkpoint_minutes`, `audit_retention_days`; relative
paths are relative to the file's folder). Messages are Polish; a failure is one sentence on stderr.

Exit codes: 0 success; 1 `verify` found the register tampered with; 2 the command could not do its work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import getpass
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.anchors import AnchorFile, default_anchor_path
from audit.checkpoints import CheckpointSigner, TrustedKeys, generate_key, public_pem
from audit.errors import AuditError
from audit.output import STDOUT, output_stream
from audit.reports import ReportFormat, ReportKind, ReportRequest, Requester, write_report
from audit.retention import cut_for, purge
from audit.schema import postgresql_grants, postgresql_guards
from audit.store import AuditStore, CheckpointPolicy, Head, OpenMode
from audit.verify import VerificationReport, verify
from contract.oserrors import reason
from contract.polish_time import polish_zone

EXIT_OK = 0
EXIT_TAMPERED = 1
EXIT_ERROR = 2

Command = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class AuditSettings:
    """What the audit commands need from the configuration file or the command line."""

    url: str
    key: Path | None = None
    every_records: int = 1000
    every_minutes: float = 10.0
    retention_days: int | None = None
    issuer: str = "Platforma komunikacyjna"
    anchors: Path | None = None
    """The anchor file (`[hub] audit_anchors`); None: beside `key` (`audit.anchors.default_anchor_path`)."""

    @property
    def anchor_file(self) -> Path | None:
        """Where the anchors are: as configured, else beside the signing key, else nowhere."""
        if self.anchors is not None:
            return self.anchors
        return None if self.key is None else default_anchor_path(self.key)


def _fail(message: str) -> int:
    print(f"Błąd: {message}", file=sys.stderr)
    return EXIT_ERROR


def _guarded(command: Command) -> Command:
    """Every failure becomes a Polish sentence and exit code 2; never a traceback."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except AuditError as error:
            return _fail(error.message)
        except FileNotFoundError as error:
            return _fail(f"nie znaleziono pliku {error.filename}.")
        except PermissionError as error:
            return _fail(f"brak dostępu do pliku {error.filename}.")
        except OSError as error:
            return _fail(f"operacja na pliku nie powiodła się ({reason(error)}).")

    return run


def settings_from(args: argparse.Namespace) -> AuditSettings:
    """The audit database and options from `--audit-db` / `--config` (the command line wins)."""
    url: str | None = getattr(args, "audit_db", None)
    key: Path | None = None
    values: dict[str, Any] = {}
    config = getattr(args, "config", None)
    if config:
        # The hub's settings are read by the hub's one loader (hub/settings.py), given to `register`: the
        # audit package reads no configuration file of its own (it imports nothing of the hub).
        read_config: Callable[[Path], AuditSettings] | None = getattr(args, "read_config", None)
        if read_config is None:
            raise AuditError("Opcja --config jest dostępna w poleceniu platforma audit; podaj --audit-db URL.")
        from_file = read_config(Path(config))
        url = url or from_file.url
        key = from_file.key
        values = {
            "every_records": from_file.every_records,
            "every_minutes": from_file.every_minutes,
            "retention_days": from_file.retention_days,
            "issuer": from_file.issuer,
            # `[hub] audit_anchors`: left out, verify, checkpoint, accept and purge used the file beside the key
            # while the hub used the configured one, and a register anchored by the CLI stopped the hub.
            "anchors": from_file.anchors,
        }
    if url is None:
        raise AuditError("Wskaż bazę audytu: --audit-db URL albo --config PLIK.")
    if getattr(args, "key", None):
        key = Path(args.key[0] if isinstance(args.key, list) else args.key)
    return AuditSettings(url=url, key=key, **values)


def _open(settings: AuditSettings, *, with_key: bool, mode: OpenMode = OpenMode.EXISTING) -> AuditStore:
    """An existing register (never created here: only the hub creates one); read-only for `verify`."""
    signer = CheckpointSigner.from_file(settings.key) if with_key and settings.key is not None else None
    return AuditStore(
        settings.url,
        signer=signer,
        policy=CheckpointPolicy(settings.every_records, settings.every_minutes),
        mode=mode,
        anchor_file=settings.anchor_file if signer is not None else None,
    )


def _anchors_for_verify(args: argparse.Namespace, settings: AuditSettings) -> tuple[AnchorFile | None, str]:
    """The anchor file `verify` checks against (by default the configured one), and a note when none is."""
    if args.no_anchors:
        return None, "Uwaga: na życzenie (--no-anchors) rejestru nie porównano z plikiem kotwic."
    if args.anchors:
        anchors = AnchorFile(args.anchors)
        if not anchors.exists():
            raise AuditError(f"Nie ma pliku kotwic {args.anchors}.")
        return anchors, ""
    path = settings.anchor_file
    if path is None:
        return None, "Uwaga: konfiguracja nie wskazuje pliku kotwic, więc rejestru nie porównano z plikiem kotwic."
    if not path.exists():
        # Still checked: a register with checkpoints signed long ago must have their anchors (BRAK_KOTWIC).
        note = f"Uwaga: nie znaleziono pliku kotwic {path} (podaj --anchors PLIK, jeśli jest gdzie indziej)."
        return AnchorFile(path), note
    return AnchorFile(path), ""


def _parse_anchor(value: str) -> Head:
    """`NR:SKROT` as printed by an earlier `audit verify`."""
    number, _, link = value.partition(":")
    # ASCII only: `str.isdigit` also takes '²' or Arabic-Indic digits, which `int` refuses or reads otherwise.
    if not (number.isascii() and number.isdigit()) or len(link) != 64 or any(c not in "0123456789abcdef" for c in link):
        raise AuditError("Kotwica ma postać NR:SKROT (numer wpisu i 64 znaki szesnastkowe), jak wypisuje verify.")
    return Head(int(number), link)


def parse_moment(value: str, *, end: bool) -> dt.datetime:
    """`RRRR-MM-DD` (a whole day in Polish time; as an end, the day is included) or ISO 8601."""
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            if end:
                day += dt.timedelta(days=1)
            moment = dt.datetime.combine(day, dt.time(), polish_zone())
        else:
            moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=polish_zone())
        moment.astimezone(dt.UTC)  # the register compares in UTC: a moment at the calendar's edge does not fit
    except ValueError as error:
        raise AuditError(f"Nieprawidłowa data {value!r}: podaj RRRR-MM-DD albo RRRR-MM-DDTGG:MM.") from error
    except OverflowError as error:
        raise AuditError(f"Data {value!r} wykracza poza zakres dat obsługiwanych przez rejestr.") from error
    return moment


# -- commands ----------------------------------------------------------------------------------------------------
@_guarded
def cmd_verify(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    key_files = list(args.key or [])
    if not key_files and settings.key is not None:
        key_files = [str(settings.key)]
    keys = TrustedKeys.from_files(key_files) if key_files else None
    anchor = _parse_anchor(args.anchor) if args.anchor else None
    anchors, note = _anchors_for_verify(args, settings)
    store = _open(settings, with_key=False, mode=OpenMode.READ_ONLY)
    try:
        report = verify(
            store,
            keys,
            progress=(lambda n: print(f"  sprawdzono {n:,} wpisów…", file=sys.stderr)) if args.progress else None,
            anchor=anchor,
            anchors=anchors,
        )
    finally:
        store.dispose()
    rate = report.records / report.seconds if report.seconds > 0 else 0.0
    print(
        f"Sprawdzono {report.records} wpisów (nr {report.first_nr or 0}–{report.last_nr or 0}) i "
        f"{report.checkpoints} punktów kontrolnych w {report.seconds:.1f} s ({rate:,.0f} wpisów/s)"
        + (f"; {report.anchors} kotwic z pliku {anchors.path}." if anchors is not None else ".")
    )
    if note:
        print(note)
    if not report.signatures_checked:
        print("Uwaga: nie podano klucza publicznego (--key), więc podpisów punktów kontrolnych nie sprawdzono.")
    _print_accepted(report)
    if report.ok:
        accepted = report.acceptance
        since = "" if accepted is None else f" od przyjęcia jego stanu (punkt kontrolny nr {accepted.number})"
        print(f"Rejestr jest nienaruszony{since}. Skrót ostatniego wpisu: {report.head_link}")
        print(f"Kotwica do następnej weryfikacji (zachowaj poza bazą): --anchor {report.last_nr}:{report.head_link}")
        if report.unsigned_tail:
            print(f"Ostatnie {report.unsigned_tail} wpisów nie jest jeszcze objętych podpisanym punktem kontrolnym.")
        return EXIT_OK
    first = report.first_problem
    assert first is not None
    print(f"NARUSZENIE REJESTRU [{first.kind.value}]: {first.message}")
    for problem in report.problems:
        if problem is not first:
            print(f"  także [{problem.kind.value}]: {problem.message}")
    return EXIT_TAMPERED


def _print_accepted(report: VerificationReport) -> None:
    if report.acceptance is None:
        return
    acceptance = report.acceptance
    print(
        f"Stan rejestru przyjęto (punkt kontrolny nr {acceptance.number} nad wpisem nr {acceptance.nr}; kto i "
        "dlaczego: zdarzenie PRZYJECIE_STANU_REJESTRU w rejestrze)."
    )
    for problem in report.accepted:
        print(f"  wcześniejsze naruszenie, przyjęte przez operatora [{problem.kind.value}]: {problem.message}")


@_guarded
def cmd_accept(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if settings.key is None:
        raise AuditError("Przyjęcie stanu rejestru wymaga klucza punktów kontrolnych: --key PLIK albo audit_key.")
    store = _open(settings, with_key=True)
    try:
        checkpoint = store.accept(args.operator or getpass.getuser(), args.reason)
    finally:
        store.dispose()
    print(
        f"Przyjęto stan rejestru: podpisano punkt kontrolny nr {checkpoint.number} nad wpisem nr {checkpoint.nr} "
        "i zapisano jego kotwicę; kto i dlaczego: zdarzenie PRZYJECIE_STANU_REJESTRU w rejestrze."
    )
    return EXIT_OK


@_guarded
def cmd_report(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.pesel:
        kind = ReportKind.PERSON
    elif args.user:
        kind = ReportKind.USER
    elif args.office:
        kind = ReportKind.OFFICE
    else:
        kind = ReportKind.PERIOD
    request = ReportRequest(
        kind=kind,
        pesel=args.pesel,
        user=args.user,
        office=args.office,
        since=parse_moment(args.since, end=False) if args.since else None,
        until=parse_moment(args.until, end=True) if args.until else None,
        include_refusals=args.refusals,
    )
    request.check()
    fmt = ReportFormat(args.format)
    requester = Requester(args.requested_by or getpass.getuser(), args.requester_office or "", "CLI")
    to_stdout = args.output in (None, STDOUT)
    if fmt is ReportFormat.PDF and to_stdout and sys.stdout.isatty():
        raise AuditError("Raportu PDF nie wypisuję na terminal: podaj --output PLIK.pdf.")
    store = _open(settings, with_key=True)
    try:
        with output_stream(args.output) as handle:
            count = write_report(store, request, fmt, handle, requested_by=requester, issuer=settings.issuer)
    finally:
        store.dispose()
    if not to_stdout:
        print(f"Zapisano raport ({count} wpisów): {args.output}", file=sys.stderr)
    return EXIT_OK


@_guarded
def cmd_purge(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    days = args.older_than_days if args.older_than_days is not None else settings.retention_days
    if days is None:
        raise AuditError("Podaj --older-than-days DNI albo audit_retention_days w konfiguracji.")
    if days < 1:
        raise AuditError("Okres przechowywania musi wynosić co najmniej jeden dzień.")
    try:
        dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    except OverflowError as error:
        raise AuditError(
            f"Okres przechowywania {days} dni jest zbyt długi: sięga przed początek kalendarza."
        ) from error
    if settings.key is None:
        raise AuditError("Usuwanie wpisów wymaga klucza punktów kontrolnych: --key PLIK albo audit_key.")
    store = _open(settings, with_key=True)
    try:
        age = dt.timedelta(days=days)
        if not args.yes:
            cutoff = dt.datetime.now(dt.UTC) - age
            cut = cut_for(store, cutoff)
            print(
                f"Usunięte zostałyby wpisy do nr {cut} (starsze niż {days} dni). "
                "Aby je usunąć, powtórz polecenie z --yes."
            )
            return EXIT_OK
        result = purge(store, age, actor=args.actor or getpass.getuser())
    finally:
        store.dispose()
    print(
        f"Usunięto {result.removed} wpisów (do nr {result.cut_nr}) starszych niż {days} dni"
        + (f"; podpisano cięcie retencji (punkt kontrolny nr {result.checkpoint})." if result.checkpoint else ".")
    )
    return EXIT_OK


@_guarded
def cmd_checkpoint(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if settings.key is None:
        raise AuditError("Podpisanie punktu kontrolnego wymaga klucza: --key PLIK albo audit_key.")
    store = _open(settings, with_key=True)
    try:
        checkpoint = store.checkpoint()
    finally:
        store.dispose()
    if checkpoint is None:
        print("Nie ma nowych wpisów od ostatniego punktu kontrolnego; nic nie podpisano.")
    else:
        print(f"Podpisano punkt kontrolny nr {checkpoint.number} nad wpisem nr {checkpoint.nr} ({checkpoint.link}).")
    return EXIT_OK


@_guarded
def cmd_key(args: argparse.Namespace) -> int:
    signer = generate_key(args.out)
    print(f"Zapisano nowy klucz prywatny Ed25519: {args.out} (tylko dla hubu; uprawnienia 0600).")
    print(f"Odcisk klucza (SHA-256): {signer.fingerprint}")
    print("Klucz publiczny dla audytorów (audit verify --key):")
    print(public_pem(signer.public_key), end="")
    return EXIT_OK


@_guarded
def cmd_grants(args: argparse.Namespace) -> int:
    print("-- Zabezpieczenia tabel audytu (wyzwalacze): uruchom jako właściciel tabel.")
    for statement in postgresql_guards():
        print(statement + ";")
    print("-- Uprawnienia: rola hubu tylko INSERT i SELECT.")
    for statement in postgresql_grants(args.hub_role, args.retention_role):
        print(statement + ";")
    return EXIT_OK


# -- parser ------------------------------------------------------------------------------------------------------
def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audit-db", metavar="URL", help="adres bazy audytu (np. sqlite:///audit.sqlite)")
    parser.add_argument("--config", metavar="PLIK", help="plik konfiguracji TOML hubu ([hub] audit_database)")


def _add_accept(commands: Any) -> None:
    accept = commands.add_parser(
        "accept",
        help="przyjmij stan rejestru po wyjaśnieniu naruszenia (albo rozpocznij kotwice istniejącego rejestru)",
        description="Zapisuje w rejestrze zdarzenie PRZYJECIE_STANU_REJESTRU (kto, dlaczego, co stwierdzono) i "
        "podpisuje nad nim punkt kontrolny z kotwicą; hub sprawdza odtąd łańcuch od tego miejsca i znów podpisuje "
        "punkty kontrolne. Wcześniejsze naruszenia verify nadal wypisuje jako przyjęte.",
    )
    _database_options(accept)
    accept.add_argument("--reason", required=True, metavar="TEKST", help="dlaczego (np. numer zgłoszenia)")
    accept.add_argument("--operator", metavar="LOGIN", help="kto przyjmuje (domyślnie użytkownik systemu)")
    accept.add_argument("--key", metavar="PEM", help="klucz prywatny punktów kontrolnych (domyślnie audit_key)")
    accept.set_defaults(func=cmd_accept)


def _add_report(commands: Any, report_command: Command | None) -> None:
    report = commands.add_parser(
        "report",
        help="raport ujawnień: o osobie (PESEL), użytkowniku, urzędzie lub za okres (XML, CSV, PDF)",
        description="Raport z rejestru ujawnień. Rodzaj wynika z kryterium: --pesel (dla osoby, art. 15 RODO), "
        "--user, --office; bez nich raport za okres (--since/--until). Sporządzenie raportu jest odnotowywane "
        "w dzienniku zdarzeń.",
    )
    _database_options(report)
    report.add_argument("--pesel", help="numer PESEL osoby, której dane udostępniono")
    report.add_argument("--user", metavar="LOGIN", help="login użytkownika, który pozyskał dane")
    report.add_argument("--office", metavar="KOD", help="kod urzędu, który pozyskał dane")
    report.add_argument("--since", metavar="DATA", help="od (RRRR-MM-DD albo RRRR-MM-DDTGG:MM, czas polski)")
    report.add_argument("--until", metavar="DATA", help="do (RRRR-MM-DD – ten dzień włącznie – albo RRRR-MM-DDTGG:MM)")
    refusals = report.add_mutually_exclusive_group()
    refusals.add_argument("--refusals", dest="refusals", action="store_true", default=None, help="wykaż także odmowy")
    refusals.add_argument("--no-refusals", dest="refusals", action="store_false", help="tylko ujawnienia")
    report.add_argument(
        "--format", choices=[f.value for f in ReportFormat], default="xml", help="format raportu (domyślnie xml)"
    )
    report.add_argument(
        "--output",
        metavar="PLIK",
        help="plik wynikowy (domyślnie standardowe wyjście, także -); zwykły plik jest zastępowany w całości, "
        "do urządzenia lub potoku nazwanego raport jest pisany wprost",
    )
    report.add_argument("--key", metavar="PEM", help="klucz prywatny punktów kontrolnych (domyślnie audit_key)")
    if report_command is None:
        report.add_argument("--requested-by", metavar="LOGIN", help="kto sporządza raport (domyślnie użytkownik)")
        report.add_argument("--requester-office", metavar="KOD", help="urząd sporządzającego")
        report.set_defaults(func=cmd_report)
    else:
        report.add_argument(
            "--unit",
            metavar="KOD",
            help="udostępnienia ze zbiorów jednostki (urzędu) jako administratora, np. OPS-0201011",
        )
        report.add_argument("--gmina", metavar="TERYT", help="udostępnienia ze zbiorów wszystkich jednostek gminy")
        report.add_argument(
            "--actor",
            metavar="LOGIN",
            required=True,
            help="login audytora (rola AUDYTOR); hasło z PLATFORMA_HASLO albo z pytania; raport jest zapisywany "
            "w rejestrze jako sporządzony przez niego",
        )
        report.set_defaults(func=report_command)


def register(
    subparsers: Any,
    *,
    read_config: Callable[[Path], AuditSettings] | None = None,
    report_command: Command | None = None,
) -> None:
    """Add the `audit` command group to `platforma`'s subparsers; `read_config` turns `--config FILE` into
    `AuditSettings`, and `report_command` replaces `report` by one that authenticates the auditor (the hub
    passes both, `hub.cli.audit`)."""
    audit = subparsers.add_parser(
        "audit",
        help="rejestr ujawnień i zdarzeń: weryfikacja, raporty, retencja",
        description="Rejestr ujawnień danych osobowych i dziennik zdarzeń bezpieczeństwa (wytyczne 6 i 7): "
        "łańcuch skrótów z podpisanymi punktami kontrolnymi.",
    )
    audit.set_defaults(read_config=read_config)
    commands = audit.add_subparsers(dest="audit_command", metavar="POLECENIE", required=True)

    check = commands.add_parser(
        "verify",
        help="sprawdź, czy rejestru nie zmieniono (łańcuch skrótów i podpisy punktów kontrolnych)",
        description="Przechodzi cały łańcuch i punkty kontrolne; wskazuje pierwszy naruszony wpis i co się z nim "
        "stało (zmieniony, usunięty, wstawiony, przestawiony, nieprawidłowy podpis). Kod wyjścia 1 przy "
        "naruszeniu, 2 przy błędzie.",
    )
    _database_options(check)
    check.add_argument(
        "--key",
        action="append",
        metavar="PEM",
        help="zaufany klucz publiczny punktów kontrolnych (można podać kilka; domyślnie audit_key z konfiguracji)",
    )
    check.add_argument("--progress", action="store_true", help="pokazuj postęp co 100 000 wpisów")
    check.add_argument(
        "--anchor",
        metavar="NR:SKROT",
        help="kotwica z wcześniejszej weryfikacji (przechowywana poza bazą): wpis NR musi mieć ten skrót",
    )
    anchor_files = check.add_mutually_exclusive_group()
    anchor_files.add_argument(
        "--anchors",
        metavar="PLIK",
        help="plik kotwic punktów kontrolnych (domyślnie audit_anchors albo plik .kotwice obok klucza)",
    )
    anchor_files.add_argument(
        "--no-anchors", action="store_true", help="nie porównuj rejestru z plikiem kotwic (tylko sama baza)"
    )
    check.set_defaults(func=cmd_verify)

    _add_accept(commands)

    _add_report(commands, report_command)

    retention = commands.add_parser(
        "purge",
        help="usuń wpisy starsze niż okres przechowywania (za podpisanym cięciem retencji)",
        description="Sprawdza łańcuch do miejsca cięcia, podpisuje punkt kontrolny cięcia, usuwa starsze wpisy "
        "i odnotowuje usunięcie w dzienniku. Bez --yes tylko pokazuje, co zostałoby usunięte.",
    )
    _database_options(retention)
    retention.add_argument("--older-than-days", type=int, metavar="DNI", help="wiek wpisów do usunięcia (dni)")
    retention.add_argument("--key", metavar="PEM", help="klucz prywatny punktów kontrolnych (domyślnie audit_key)")
    retention.add_argument("--actor", metavar="LOGIN", help="kto usuwa (domyślnie użytkownik systemu)")
    retention.add_argument("--yes", action="store_true", help="naprawdę usuń")
    retention.set_defaults(func=cmd_purge)

    checkpoint = commands.add_parser("checkpoint", help="podpisz teraz punkt kontrolny nad ostatnim wpisem")
    _database_options(checkpoint)
    checkpoint.add_argument("--key", metavar="PEM", help="klucz prywatny punktów kontrolnych (domyślnie audit_key)")
    checkpoint.set_defaults(func=cmd_checkpoint)

    key = commands.add_parser("key", help="wygeneruj klucz Ed25519 do podpisywania punktów kontrolnych")
    key.add_argument("--out", required=True, metavar="PLIK", help="plik klucza prywatnego PEM (nie nadpisuję)")
    key.set_defaults(func=cmd_key)

    grants = commands.add_parser("grants", help="wypisz SQL zabezpieczeń i uprawnień tabel audytu dla PostgreSQL")
    grants.add_argument("--hub-role", required=True, metavar="ROLA", help="rola hubu (tylko INSERT i SELECT)")
    grants.add_argument("--retention-role", metavar="ROLA", help="rola retencji (także DELETE poniżej cięcia)")
    grants.set_defaults(func=cmd_grants)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the audit commands alone: `python -m audit.cli verify --audit-db URL`."""
    parser = argparse.ArgumentParser(prog="platforma", description="Polecenia rejestru audytu platformy.")
    commands = parser.add_subparsers(dest="command", metavar="POLECENIE", required=True)
    register(commands)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
