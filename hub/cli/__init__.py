"""The `platforma` command: serve the hub, load replicas, contracts; the other commands come from the modules
in `COMMAND_MODULES` (accounts, signing, audit, feeders, the demo powiat)."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contract.arguments import port_number, positive_integer
from contract.errors import InvalidRequest, PlatformError
from contract.files import is_special
from contract.logs import redact_handlers
from contract.oserrors import reason
from hub import __version__
from hub.cli.errors import MissingSecret, not_utf8

#: Modules that add commands (each by its `register(commands)`), with the commands each adds: a command
#: imports only its own module (all of them cost half a second: `platforma feed` does not need the
#: hub's core, the audit store or the signing stack). `--help` and unknown commands import them all.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "hub.cli.admin": ("users", "groups", "policy", "events"),
    "signing.cli": ("sign", "verify"),
    "hub.cli.audit": ("audit",),
    "hub.cli.documents": ("templates", "documents"),
    "adapters.cli": ("feed",),
    "demo.cli": ("demo", "demo-data", "demo-domains"),
}

#: Commands that create replicas, registers, keys and configuration: every file they make is private to the
#: account that runs them (umask 077, docs/security.md). SQLite creates a database's -wal and -shm files on
#: its own, later, so only the process's umask reaches them all.
PRIVATE_FILE_COMMANDS = frozenset({"serve", "demo", "feed"})
#: The commands whose files are meant for others (WSDL and XSD for integrators). Every other command may
#: create the hub's databases (`users list` on a new configuration) or write a certificate, a PDF or a report
#: with a person's data (`documents fetch --out`), so it runs with umask 077 too.
PUBLIC_FILE_COMMANDS = frozenset({"contracts"})

console = Console(stderr=False)
errors = Console(stderr=True)


def _progress_factory(progress: Progress) -> Callable[[str, int, int], Callable[[int], None]]:
    def start(description: str, total: int, _done: int) -> Callable[[int], None]:
        task = progress.add_task(description, total=total)
        return lambda step: progress.advance(task, step)

    return start


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


# -- commands ----------------------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from hub import settings as config_module
    from hub.core import HubCore
    from hub.soap.server import serve

    config = config_module.load(args.config)
    config = config.with_hub(
        tls_certificate=args.tls_cert, tls_key=args.tls_key, client_ca=args.client_ca, client_crl=args.client_crl
    )
    listen = args.listen or config.hub.listen
    port = config.hub.port if args.port is None else args.port
    scheme = "https" if config.hub.tls_certificate else "http"
    if args.listen_fd is not None:  # a worker started by another `serve`: share its socket, print nothing
        from hub.soap.server import follow_parent

        follow_parent()
        sock = socket.socket(fileno=args.listen_fd)
        serve(HubCore.open(config), listen, port, sock=sock)
        return 0
    tls_args = [
        f"--{flag}={value}"
        for flag, value in (
            ("tls-cert", args.tls_cert),
            ("tls-key", args.tls_key),
            ("client-ca", args.client_ca),
            ("client-crl", args.client_crl),  # every worker checks revocation, not only this one
        )
        if value
    ]
    # Opened before the workers start: the first opening of an empty database creates its tables and seeds it,
    # and two processes doing that at once collide (PostgreSQL: a duplicate type, one worker gone).
    core = HubCore.open(config)
    sock, workers = _workers(str(config.path), listen, port, args.workers or config.hub.workers, tls_args)

    def ready(actual: int) -> None:
        base = f"{scheme}://{listen}:{actual}"
        console.print(f"Platforma nasłuchuje: {base}/", highlight=False)
        console.print(f"WSDL zapytania: {base}/soap/zapytania?wsdl", highlight=False)
        if workers:
            console.print(f"Procesy robocze: {len(workers) + 1}", highlight=False)
        sys.stdout.flush()

    serve(core, listen, port, on_ready=ready, sock=sock, workers=workers)
    return 0


def _workers(config_path: str, listen: str, port: int, count: int, extra: list[str]) -> tuple[Any, list[Any]]:
    """With more than one worker: a shared listening socket and the other worker processes."""
    if count <= 1:
        return None, []
    from hub.soap.server import listening_socket, spawn_workers

    sock = listening_socket(listen, port)
    return sock, spawn_workers(config_path, sock, count - 1, extra)


def cmd_load(args: argparse.Namespace) -> int:
    from hub import settings as config_module
    from hub.soap.contracts import feed_schema
    from replica.writer import Loader

    if is_special(Path(args.file)):  # /dev/zero was parsed for ever; a FIFO nobody writes to waited for ever
        raise InvalidRequest(f"{args.file} nie jest zwykłym plikiem (urządzenie, potok lub gniazdo); podaj plik.")
    config = config_module.load(args.config)
    data_set = config.data_set(args.data_set)
    if data_set is None or data_set.replica is None or data_set.writer_url is None:
        raise PlatformError(f"Zbiór {args.data_set} nie ma w konfiguracji lokalnej repliki z kontem zapisu (writer).")
    loader = Loader(
        data_set.writer_url, data_set.kind, feed_schema(), data_set=data_set.code, controller=data_set.controller
    )
    with _progress() as progress:
        task = progress.add_task(f"Ładowanie {args.data_set}", total=None)
        report = loader.load(Path(args.file), progress=lambda n: progress.advance(task, n))
    loader.dispose()
    console.print(
        f"Przeczytano {report.read}, załadowano {report.loaded}, usunięto {report.deleted}, "
        f"odrzucono {len(report.rejected)}; skrót SHA-256 {report.digest}",
        highlight=False,
    )
    for rejection in report.rejected[:50]:
        console.print(f"  odrzucono {rejection.source_key}: {rejection.reason}", highlight=False)
    return 0 if not report.rejected else 1


def cmd_contracts(args: argparse.Namespace) -> int:
    from hub.soap import contracts

    root = Path(args.dir)
    if args.action == "faults":
        sys.stdout.write(contracts.fault_table())  # Markdown as it is: no console wrapping
        return 0
    if args.action == "export":
        for path in contracts.export(root):
            console.print(f"zapisano {path}", highlight=False)
        return 0
    drift = contracts.check(root)
    for name in drift:
        errors.print(f"Plik {name} różni się od kontraktu wygenerowanego z kodu.", highlight=False)
    if drift:
        errors.print("Uruchom: platforma contracts export (nowa wersja przestrzeni nazw przy zmianie niezgodnej).")
        return 1
    console.print("Kontrakty w wsdl/ i xsd/ są zgodne z kodem.")
    return 0


# -- parser ------------------------------------------------------------------------------------------------------
def _command_modules(argv: Sequence[str] | None, own: Collection[str]) -> list[str]:
    """The modules whose commands the parser needs for `argv`: the one that adds its command, none for one
    of the `own` commands, all of them otherwise (help, no command, an unknown one)."""
    words = [word for word in (sys.argv[1:] if argv is None else argv) if not word.startswith("-")]
    if words:
        for module_name, names in COMMAND_MODULES.items():
            if words[0] in names:
                return [module_name]
        if words[0] in own:
            return []
    return list(COMMAND_MODULES)


_ARGPARSE_MESSAGES = (
    ("the following arguments are required:", "wymagane są argumenty:"),
    ("unrecognized arguments:", "nieznane argumenty:"),
    ("invalid choice:", "nieprawidłowy wybór:"),
    ("choose from", "dozwolone:"),
    ("expected one argument", "oczekiwano jednej wartości"),
    ("invalid int value:", "oczekiwano liczby całkowitej, podano"),
    ("invalid float value:", "oczekiwano liczby, podano"),
    ("not allowed with argument", "nie można podać razem z"),
    ("one of the arguments", "podaj jeden z argumentów"),
    ("is required", "jest wymagany"),
    ("ambiguous option:", "niejednoznaczna opcja:"),
    ("could match", "pasuje do"),
    ("expected at least one argument", "oczekiwano co najmniej jednej wartości"),
    ("argument ", "argument "),
)


class PolishHelpFormatter(argparse.HelpFormatter):
    """argparse's help with its one English word, "usage:", in Polish."""

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, "użycie: " if prefix is None else prefix)


class UsageError(SystemExit):
    """argparse refused the command line (exit status 2); `message` is its Polish sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message


class PolishArgumentParser(argparse.ArgumentParser):
    """argparse with its usage errors and help headings in Polish (the messages a person reads; the help texts
    are ours). Sub-commands' parsers are made by this class too (argparse uses the parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", PolishHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        kwargs["add_help"] = False  # ours below, with its help in Polish
        super().__init__(*args, **kwargs)
        self._positionals.title = "argumenty pozycyjne"
        self._optionals.title = "opcje"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="pokaż tę pomoc i zakończ")

    def error(self, message: str) -> NoReturn:
        for english, polish in _ARGPARSE_MESSAGES:
            message = message.replace(english, polish)
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: błąd: {message}\n")
        raise UsageError(message)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The `platforma` parser; with `argv`, only the command modules its command needs (`_command_modules`)."""
    parser = PolishArgumentParser(
        prog="platforma",
        description="Platforma komunikacyjna: wymiana danych o wspólnych beneficjentach PUP, OPS i SR (SOAP).",
    )
    parser.add_argument(
        "--version", action="version", version=f"platforma {__version__}", help="pokaż wersję programu i zakończ"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="więcej komunikatów diagnostycznych")
    commands = parser.add_subparsers(
        dest="command", metavar="POLECENIE", help="polecenie (jego opcje: platforma POLECENIE --help)"
    )

    serve = commands.add_parser("serve", help="uruchom hub (usługi SOAP) według pliku konfiguracji")
    serve.add_argument("--config", required=True, metavar="PLIK", help="plik konfiguracji TOML (np. platforma.toml)")
    serve.add_argument("--listen", metavar="ADRES", help="adres nasłuchu (domyślnie z konfiguracji, 127.0.0.1)")
    serve.add_argument(
        "--port", type=port_number, metavar="PORT", help="port (0 = dowolny wolny; domyślnie z konfiguracji)"
    )
    serve.add_argument("--tls-cert", metavar="PLIK", help="certyfikat serwera TLS (PEM)")
    serve.add_argument("--tls-key", metavar="PLIK", help="klucz prywatny serwera TLS (PEM)")
    serve.add_argument(
        "--client-ca",
        metavar="PLIK",
        help="certyfikaty CA klientów (PEM); z nim serwer wymaga certyfikatu klienta (mTLS)",
    )
    serve.add_argument(
        "--client-crl",
        metavar="PLIK",
        help="lista odwołanych certyfikatów klientów (CRL, PEM lub DER); wczytywana ponownie po zmianie",
    )
    serve.add_argument(
        "--workers",
        type=positive_integer,
        metavar="LICZBA",
        help="liczba procesów roboczych na wspólnym gnieździe (domyślnie z konfiguracji, 1)",
    )
    serve.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)  # used by the first process for the others
    serve.set_defaults(func=cmd_serve)

    load = commands.add_parser("load", help="załaduj plik zasilający do repliki zbioru (jedna transakcja)")
    load.add_argument("--config", required=True, help="plik konfiguracji TOML")
    load.add_argument("--data-set", required=True, help="kod zbioru (PUP, OPS, SR)")
    load.add_argument("file", help="plik paczki zasilającej (XML)")
    load.set_defaults(func=cmd_load)

    contracts = commands.add_parser("contracts", help="eksport i kontrola kontraktów WSDL/XSD")
    contracts.add_argument(
        "action",
        choices=("export", "check", "faults"),
        help="export: zapisz; check: porównaj; faults: tabela kodów błędów (docs/integration.md)",
    )
    contracts.add_argument("--dir", default=".", metavar="KATALOG", help="katalog z wsdl/ i xsd/ (domyślnie bieżący)")
    contracts.set_defaults(func=cmd_contracts)

    for module_name in _command_modules(argv, own=dict(commands.choices)):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:  # an optional package that is not installed: its commands are absent
            continue
        except Exception as error:  # a broken package must not take the other commands down with it
            errors.print(f"Uwaga: polecenia modułu {module_name} są niedostępne ({type(error).__name__}: {error}).")
            continue
        register = getattr(module, "register", None)
        if register is not None:
            register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `platforma` console command."""
    parser = build_parser(argv)
    words = sys.argv[1:] if argv is None else argv
    undecodable = next((word for word in words if not_utf8(word)), None)
    try:
        if undecodable is not None:
            # Python keeps bytes that are not UTF-8 as lone surrogates; any later write of them failed with
            # "Nieoczekiwany błąd (UnicodeEncodeError)" and the codec's English.
            shown = os.fsencode(undecodable).decode("utf-8", "backslashreplace")
            parser.error(f"argument {shown} zawiera bajty, które nie są tekstem UTF-8; wpisz go w kodowaniu UTF-8")
        args = parser.parse_args(argv)
    except UsageError as error:  # a script that asked for JSON reads why as JSON, as for every other error
        if "--json" in (sys.argv[1:] if argv is None else argv):
            text = error.message[:1].upper() + error.message[1:]
            sys.stdout.write(
                json.dumps({"blad": {"kod": "NIEPRAWIDLOWE_ARGUMENTY", "komunikat": text}}, **_JSON) + "\n"
            )
        raise
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redact_handlers()  # no PESEL in a log line, not even in a database error's parameters (contract.logs)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    umask = os.umask(0o077) if args.command not in PUBLIC_FILE_COMMANDS else None
    try:
        return _run(args)
    finally:
        if umask is not None and args.command not in PRIVATE_FILE_COMMANDS:
            os.umask(umask)  # main() called in a process that goes on (tests, scripts) gets its umask back


def _run(args: argparse.Namespace) -> int:
    """Run the command; every failure is one Polish line on standard error (and JSON with `--json`)."""
    try:
        result: Any = args.func(args)
        return int(result or 0)
    except PlatformError as error:
        return _fail(args, error.code, error.message, 2)
    except KeyboardInterrupt:
        return 130
    except MissingSecret as error:  # the variable named, or a password that is not UTF-8
        return _fail(args, "BRAK_HASLA", error.message)
    except EOFError:  # a password prompt with no terminal behind it
        return _fail(
            args, "BRAK_HASLA", "brak hasła: ustaw zmienną PLATFORMA_HASLO albo uruchom polecenie w terminalu."
        )
    except socket.gaierror:  # an OSError whose errno is the resolver's, not the C library's
        return _fail(args, "BLAD_SIECI", f"nieznany adres: {_UNKNOWN_HOST}.")
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        return _fail(args, "BLAD_SYSTEMU_PLIKOW", f"Błąd systemu plików lub sieci{where}: {reason(error)}.", prefix="")
    except Exception as error:  # a bug: say so plainly; the traceback only with --verbose
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        known = _database_error(error) or _listen_error(error)
        if known is not None:
            return _fail(args, *known)
        message = f"Nieoczekiwany błąd ({type(error).__name__}): {error}. Uruchom z opcją -v, aby zobaczyć szczegóły."
        return _fail(args, "BLAD_WEWNETRZNY", message, 3, prefix="")


_JSON: dict[str, Any] = {"ensure_ascii": False, "indent": 2}
_UNKNOWN_HOST = "to nie jest adres IP ani nazwa hosta, którą da się odnaleźć"
_CONFLICT = (
    "zapis koliduje z równoczesną zmianą (np. ten sam login lub kod dodany w tej chwili innym poleceniem); "
    "sprawdź stan i w razie potrzeby powtórz polecenie."
)
_DATABASE = "baza danych huba jest niedostępna lub zajęta; sprawdź adres bazy w konfiguracji i powtórz polecenie."


def _database_error(error: Exception) -> tuple[str, str] | None:
    """A database error's code and Polish message, instead of SQLAlchemy's English and its SQL. Looked up in
    `sys.modules`: a command that never opened a database need not import SQLAlchemy to report its errors."""
    exc = sys.modules.get("sqlalchemy.exc")
    if exc is None:
        return None
    if isinstance(error, exc.IntegrityError):  # two commands at once: the other wrote the same key first
        return "KONFLIKT_ZAPISU", _CONFLICT
    if isinstance(error, exc.OperationalError):
        return "BLAD_BAZY_DANYCH", _DATABASE
    return None


def _listen_error(error: Exception) -> tuple[str, str] | None:
    """Twisted's `CannotListenError` (the port is taken, the address is not this computer's) in Polish."""
    twisted_errors = sys.modules.get("twisted.internet.error")
    if twisted_errors is None or not isinstance(error, twisted_errors.CannotListenError):
        return None
    cause = error.socketError
    if isinstance(cause, socket.gaierror):
        why = f"nieznany adres ({_UNKNOWN_HOST})"
    else:
        why = reason(cause) if isinstance(cause, OSError) else str(cause)
    return "BLAD_SIECI", f"nie można nasłuchiwać na {error.interface or 'wszystkich adresach'}:{error.port}: {why}."


def _fail(args: argparse.Namespace, code: str, message: str, exit_code: int = 2, *, prefix: str = "Błąd: ") -> int:
    """One problem on standard error; with `--json` also as JSON on standard output, where a script reads."""
    # soft_wrap: one problem stays one line however narrow the terminal (or 80 columns in a log file)
    errors.print(f"{prefix}{message}", highlight=False, markup=False, soft_wrap=True)
    if getattr(args, "json", False) is True:
        text = message[:1].upper() + message[1:]
        sys.stdout.write(json.dumps({"blad": {"kod": code, "komunikat": text}}, **_JSON) + "\n")
    return exit_code
