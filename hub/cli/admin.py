"""Administration commands: `platforma users|groups|policy|events` (guidelines 3 and 7).

Every command acts as a named platform user (`--as LOGIN`), authenticated like any other login, so that
each change and each refusal is a security event with its author. The password comes from the
`PLATFORMA_HASLO` environment variable or is asked for.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from audit import EventKind
from audit.store import OpenMode
from contract.errors import InvalidRequest
from contract.identifiers import LOGIN_RULE, is_valid_login
from contract.logs import redact
from hub import settings as config_module
from hub.cli.errors import MissingSecret, not_utf8
from hub.core import HubCore
from hub.domain.policy import Caller

console = Console()

#: How a user changes their own password on the command line (what a pending forced change asks for).
_PASSWORD_CHANGE = "poleceniem platforma users passwd"  # noqa: S105 - a hint, not a password


def _open(args: argparse.Namespace) -> HubCore:
    # A command that only reads the register (`events`) opens an existing one: on a mistyped audit_database it
    # is an error, not a new, empty register. The others may prepare a new powiat's databases before its first
    # start (`HubCore.open` says so when it creates one). Seals are opened when a command first needs one
    # (`documents seal`, a receipt): a user locked in an emergency needed every office's seal PIN set.
    mode = getattr(args, "audit_mode", OpenMode.CREATE)
    return HubCore.open(config_module.load(args.config), audit_mode=mode, seals_at_start=False, announce_new=True)


def _secret(prompt: str, variable: str) -> str:
    """A password from `variable`, else asked for; the error names the variable that is missing (with
    PLATFORMA_HASLO set and PLATFORMA_NOWE_HASLO not, the message told to set PLATFORMA_HASLO)."""
    value = os.environ.get(variable)
    if value is None:
        try:
            value = ask_secret(prompt)
        except EOFError:
            raise MissingSecret(f"brak hasła: ustaw zmienną {variable} albo uruchom polecenie w terminalu.") from None
    return utf8_secret(value, variable)


def utf8_secret(value: str, where: str) -> str:
    """A password as typed, refused when its bytes are not UTF-8 (a terminal in ISO-8859-2): hashing it failed
    with "Nieoczekiwany błąd (UnicodeEncodeError)"."""
    if not_utf8(value):
        raise MissingSecret(f"hasło z {where} zawiera bajty, które nie są tekstem UTF-8; ustaw terminal na UTF-8.")
    return value


def ask_secret(prompt: str) -> str:
    """A password asked on the terminal; with no terminal at all (cron, a service, CI) a line of standard input.

    getpass does the same, but first prints its English warnings ("GetPassWarning: Can not control echo on the
    terminal", "Warning: Password input may be echoed") before the Polish message about a missing password."""
    try:
        with open("/dev/tty", "rb"):
            pass
    except OSError:
        line = sys.stdin.readline()
        if not line:
            raise EOFError from None
        return line.removesuffix("\n")
    return getpass.getpass(prompt)


def _actor(core: HubCore, args: argparse.Namespace) -> Caller:
    password = _secret(f"Hasło użytkownika {args.actor}: ", "PLATFORMA_HASLO")
    source = f"cli:{getpass.getuser()}"
    caller = core.accounts.authenticate(args.actor, password, channel="CLI", source=source)
    # A one-time password after an administrator's reset does nothing but change itself, here as over SOAP.
    core.accounts.check_usable(caller, "CLI", change_with=_PASSWORD_CHANGE)
    return caller


def _configured_office(core: HubCore, office: str) -> None:
    """Refuse an office the configuration does not name: its users would log in with no rules and no data."""
    if not core.config.has_office(office):
        known = ", ".join(o.code for o in core.config.offices) or "żadnych"
        raise InvalidRequest(
            f"Nieznany urząd {office}: nie ma go w konfiguracji ({core.config.path.name}, sekcja offices). "
            f"Skonfigurowane urzędy: {known}."
        )


#: A group code, as the codes in platforma.toml are (`hub.settings.Code`; logins: `contract.identifiers`).
CODE_PATTERN = re.compile(rf"{config_module.CODE_CHARACTERS}{{1,{config_module.CODE_LENGTH}}}")
NAME_LENGTH = 200  # the `nazwa` columns of users and groups


def _shown(value: str) -> str:
    return repr(value[:60]) + ("…" if len(value) > 60 else "")


def login_argument(value: str) -> str:
    """A login for a new account (argparse type)."""
    if not is_valid_login(value):
        raise argparse.ArgumentTypeError(f"nieprawidłowy login {_shown(value)}: {LOGIN_RULE}")
    return value


def code_argument(value: str) -> str:
    """A group code (argparse type), as `[[groups]] code` in the configuration."""
    if not CODE_PATTERN.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"nieprawidłowy kod {_shown(value)}: od 1 do 64 znaków, litery bez znaków diakrytycznych, cyfry, _ . -"
        )
    return value


def name_argument(value: str) -> str:
    """A person's or a group's name (argparse type): one line, at most `NAME_LENGTH` characters."""
    if len(value) > NAME_LENGTH or any(not character.isprintable() for character in value):
        raise argparse.ArgumentTypeError(
            f"nieprawidłowa nazwa {_shown(value)}: najwyżej {NAME_LENGTH} znaków, bez znaków sterujących"
        )
    return value


def _with_core(action: Callable[[HubCore, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        core = _open(args)
        try:
            return action(core, args)
        finally:
            core.close()

    return run


# -- users ------------------------------------------------------------------------------------------------------
def _users_list(core: HubCore, args: argparse.Namespace) -> int:
    actor = _actor(core, args)
    if args.office is not None:
        _configured_office(core, args.office)  # a mistyped office listed nobody, as if it had no users
    table = Table(title="Użytkownicy")
    for column in ("login", "urząd", "grupa", "role", "aktywny", "zablokowany", "zmiana hasła"):
        table.add_column(column)
    for user in core.accounts.list_users(actor, args.office):
        table.add_row(
            user.login,
            user.office,
            user.group,
            ", ".join(user.roles),
            "tak" if user.active else "nie",
            "tak" if user.locked else "nie",
            "wymagana" if user.must_change_password else "",
        )
    console.print(table)
    return 0


def _users_add(core: HubCore, args: argparse.Namespace) -> int:
    _configured_office(core, args.office)
    actor = _actor(core, args)
    password = _secret(f"Hasło początkowe dla {args.login}: ", "PLATFORMA_NOWE_HASLO")
    core.accounts.add_user(
        actor, args.login, args.office, args.group, password, roles=args.role or ["UZYTKOWNIK"], name=args.name
    )
    console.print(f"Dodano użytkownika {args.login}; przy pierwszym użyciu musi zmienić hasło.", highlight=False)
    return 0


def _users_lock(core: HubCore, args: argparse.Namespace) -> int:
    core.accounts.lock(_actor(core, args), args.login)
    console.print(f"Zablokowano {args.login}.", highlight=False)
    return 0


def _users_unlock(core: HubCore, args: argparse.Namespace) -> int:
    core.accounts.unlock(_actor(core, args), args.login)
    console.print(f"Odblokowano {args.login}.", highlight=False)
    return 0


def _users_reset(core: HubCore, args: argparse.Namespace) -> int:
    temporary = core.accounts.reset_password(_actor(core, args), args.login)
    console.print(f"Hasło jednorazowe dla {args.login}: {temporary}", highlight=False)
    console.print("Przekaż je użytkownikowi bezpiecznym kanałem; przy pierwszym użyciu musi je zmienić.")
    return 0


def _users_set_group(core: HubCore, args: argparse.Namespace) -> int:
    core.accounts.set_group(_actor(core, args), args.login, args.group)
    console.print(f"{args.login} należy teraz do grupy {args.group}.", highlight=False)
    return 0


def _users_set_roles(core: HubCore, args: argparse.Namespace) -> int:
    roles = _codes(args.roles)
    core.accounts.set_roles(_actor(core, args), args.login, roles)
    console.print(f"{args.login} ma teraz role: {', '.join(roles)}.", highlight=False)
    return 0


def _users_passwd(core: HubCore, args: argparse.Namespace) -> int:
    old = _secret(f"Dotychczasowe hasło {args.login}: ", "PLATFORMA_HASLO")
    new = _secret("Nowe hasło: ", "PLATFORMA_NOWE_HASLO")
    core.accounts.change_password(args.login, old, new, source=f"cli:{getpass.getuser()}")
    console.print("Hasło zostało zmienione.")
    return 0


# -- groups -----------------------------------------------------------------------------------------------------
def _groups_list(core: HubCore, args: argparse.Namespace) -> int:
    actor = _actor(core, args)
    if args.office is not None:
        _configured_office(core, args.office)
    table = Table(title="Grupy użytkowników")
    for column in ("urząd", "kod", "nazwa"):
        table.add_column(column)
    for office, code, name in core.accounts.list_groups(actor, args.office):
        table.add_row(office, code, name)
    console.print(table)
    return 0


def _groups_add(core: HubCore, args: argparse.Namespace) -> int:
    _configured_office(core, args.office)
    core.accounts.add_group(_actor(core, args), args.office, args.code, args.name)
    console.print(f"Dodano grupę {args.code} w urzędzie {args.office}.", highlight=False)
    return 0


# -- policy -----------------------------------------------------------------------------------------------------
def _codes(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _policy_list(core: HubCore, args: argparse.Namespace) -> int:
    _actor(core, args)
    version, rules = core.rules.rules()
    table = Table(title=f"Reguły zakresu danych (wersja {version})")
    for column in ("urząd", "grupa", "zbiór", "kategorie", "podstawy prawne"):
        table.add_column(column)
    for (office, group, data_set), rule in sorted(rules.items()):
        table.add_row(office, group, data_set, ", ".join(rule.categories), ", ".join(rule.legal_bases) or "wszystkie")
    console.print(table)
    return 0


def _policy_set(core: HubCore, args: argparse.Namespace) -> int:
    categories = _codes(args.categories)
    if not categories and args.categories.strip() != "":
        raise InvalidRequest('Podaj kategorie (--categories A,B) albo --categories "", by odebrać dostęp do zbioru.')
    core.rules.set_rule(
        _actor(core, args), args.office, args.group, args.data_set, categories, _codes(args.legal_bases)
    )
    if categories:
        console.print("Reguła zapisana; obowiązuje od następnego zapytania.")
    else:  # as `categories = []` in the file: it overrides a kind-wide rule for this office (docs/powiat.md)
        console.print(f"Reguła zapisana: grupa nie ma dostępu do zbioru {args.data_set} od następnego zapytania.")
    return 0


def _policy_remove(core: HubCore, args: argparse.Namespace) -> int:
    core.rules.remove_rule(_actor(core, args), args.office, args.group, args.data_set)
    console.print("Reguła usunięta; obowiązuje od następnego zapytania.")
    return 0


# -- events -----------------------------------------------------------------------------------------------------
def _date(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"nieprawidłowa data: {value} (RRRR-MM-DD lub RRRR-MM-DDTGG:MM)") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _events(core: HubCore, args: argparse.Namespace) -> int:
    actor = _actor(core, args)
    office = args.office
    shown: Callable[[str], str] = str
    if not (actor.has_role("AUDYTOR") or actor.has_role("ADMINISTRATOR_PLATFORMY")):
        if not actor.has_role("ADMINISTRATOR_URZEDU") or (office and office != actor.office):
            raise core.accounts.refused(actor, "przegląd zdarzeń bezpieczeństwa")
        office = actor.office
        # An office administrator gets no personal data: the PESEL an auditor's report was about (RAPORT's
        # details) stays with those who read the register.
        shown = redact
    if office:
        _configured_office(core, office)  # `--office NIEMA` listed nothing, exit 0: read as "no events"
    kind = EventKind(args.kind) if args.kind else None
    found = core.events.events(user=args.user, office=office, kind=kind, since=args.since, until=args.until)
    if args.json:
        rows = [
            {
                "czas": item.time.isoformat(),
                "rodzaj": item.kind.value,
                "uzytkownik": item.user,
                "urzad": item.office,
                "wykonawca": item.actor,
                "zrodlo": item.source,
                "sukces": item.success,
                "szczegoly": shown(item.details),
            }
            for item in found
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    table = Table(title="Zdarzenia bezpieczeństwa")
    for column in ("czas (UTC)", "rodzaj", "użytkownik", "urząd", "wykonawca", "źródło", "wynik", "szczegóły"):
        table.add_column(column)
    count = 0
    for item in found:
        table.add_row(
            item.time.strftime("%Y-%m-%d %H:%M:%S"),
            item.kind.value,
            item.user,
            item.office,
            item.actor,
            item.source,
            "sukces" if item.success else "porażka",
            shown(item.details),
        )
        count += 1
    console.print(table)
    console.print(f"Zdarzeń: {count}", highlight=False)
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="PLIK", help="plik konfiguracji TOML")
    parser.add_argument(
        "--as",
        dest="actor",
        required=True,
        metavar="LOGIN",
        help="login wykonującego (hasło: zmienna PLATFORMA_HASLO lub pytanie)",
    )


def _rule_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("office", metavar="URZAD", help="kod urzędu albo *RODZAJ (każdy urząd rodzaju, np. *OPS)")
    parser.add_argument("group", metavar="GRUPA", help="kod grupy użytkowników")
    parser.add_argument("data_set", metavar="ZBIOR", help="kod zbioru albo *RODZAJ (każdy zbiór rodzaju)")


def register(commands: Any) -> None:
    """Add `users`, `groups`, `policy` and `events` to the `platforma` command."""
    users = commands.add_parser("users", help="użytkownicy: lista, dodanie, blokada, odblokowanie, reset hasła")
    users_commands = users.add_subparsers(dest="users_command", metavar="AKCJA", required=True)
    listing = users_commands.add_parser("list", help="lista użytkowników (administrator urzędu: tylko swojego)")
    _common(listing)
    listing.add_argument("--office", metavar="URZAD", help="tylko ten urząd")
    listing.set_defaults(func=_with_core(_users_list))
    add = users_commands.add_parser("add", help="dodaj użytkownika (hasło: zmienna PLATFORMA_NOWE_HASLO lub pytanie)")
    _common(add)
    add.add_argument("login", type=login_argument, metavar="LOGIN", help="login nowego użytkownika (np. jan.nowak)")
    add.add_argument("--office", required=True, metavar="URZAD", help="kod urzędu (z sekcji offices konfiguracji)")
    add.add_argument("--group", required=True, metavar="GRUPA", help="kod grupy w tym urzędzie")
    add.add_argument("--role", action="append", metavar="ROLA", help="rola (można powtórzyć); domyślnie UZYTKOWNIK")
    add.add_argument("--name", default="", type=name_argument, metavar="NAZWA", help="imię i nazwisko")
    add.set_defaults(func=_with_core(_users_add))
    for name, help_text, action in (
        ("lock", "zablokuj konto", _users_lock),
        ("unlock", "odblokuj konto (zeruje licznik nieudanych prób)", _users_unlock),
        ("reset-password", "ustaw hasło jednorazowe (wymusza zmianę)", _users_reset),
    ):
        command = users_commands.add_parser(name, help=help_text)
        _common(command)
        command.add_argument("login", metavar="LOGIN", help="login użytkownika")
        command.set_defaults(func=_with_core(action))
    set_group = users_commands.add_parser("set-group", help="przenieś użytkownika do innej grupy urzędu")
    _common(set_group)
    set_group.add_argument("login", metavar="LOGIN", help="login użytkownika")
    set_group.add_argument("group", type=code_argument, metavar="GRUPA", help="kod nowej grupy w jego urzędzie")
    set_group.set_defaults(func=_with_core(_users_set_group))
    set_roles = users_commands.add_parser(
        "set-roles", help="zastąp role użytkownika (np. odbierz PODPISUJACY, zostawiając konto)"
    )
    _common(set_roles)
    set_roles.add_argument("login", metavar="LOGIN", help="login użytkownika")
    set_roles.add_argument(
        "--roles",
        required=True,
        metavar="ROLE",
        help="nowe role po przecinku, np. UZYTKOWNIK albo UZYTKOWNIK,PODPISUJACY",
    )
    set_roles.set_defaults(func=_with_core(_users_set_roles))
    passwd = users_commands.add_parser("passwd", help="zmień własne hasło (PLATFORMA_HASLO, PLATFORMA_NOWE_HASLO)")
    passwd.add_argument("--config", required=True, metavar="PLIK", help="plik konfiguracji TOML")
    passwd.add_argument("login", metavar="LOGIN", help="własny login")
    passwd.set_defaults(func=_with_core(_users_passwd))

    groups = commands.add_parser("groups", help="grupy użytkowników urzędów")
    groups_commands = groups.add_subparsers(dest="groups_command", metavar="AKCJA", required=True)
    group_list = groups_commands.add_parser("list", help="lista grup")
    _common(group_list)
    group_list.add_argument("--office", metavar="URZAD", help="tylko ten urząd")
    group_list.set_defaults(func=_with_core(_groups_list))
    group_add = groups_commands.add_parser("add", help="dodaj grupę")
    _common(group_add)
    group_add.add_argument("office", metavar="URZAD", help="kod urzędu (z sekcji offices konfiguracji)")
    group_add.add_argument("code", type=code_argument, metavar="KOD", help="kod nowej grupy (np. POSREDNICY)")
    group_add.add_argument("name", type=name_argument, metavar="NAZWA", help="nazwa grupy (np. Pośrednicy pracy)")
    group_add.set_defaults(func=_with_core(_groups_add))

    policy = commands.add_parser("policy", help="reguły zakresu danych (urząd, grupa, zbiór) → kategorie, podstawy")
    policy_commands = policy.add_subparsers(dest="policy_command", metavar="AKCJA", required=True)
    policy_list = policy_commands.add_parser("list", help="lista reguł")
    _common(policy_list)
    policy_list.set_defaults(func=_with_core(_policy_list))
    policy_set = policy_commands.add_parser("set", help="ustaw regułę (administrator platformy)")
    _common(policy_set)
    _rule_key(policy_set)
    policy_set.add_argument(
        "--categories",
        required=True,
        metavar="KATEGORIE",
        help='kody kategorii, po przecinku; "" odbiera dostęp (także nadany regułą dla rodzaju, *OPS)',
    )
    policy_set.add_argument(
        "--legal-bases", metavar="PODSTAWY", help="kody podstaw prawnych, po przecinku (domyślnie wszystkie)"
    )
    policy_set.set_defaults(func=_with_core(_policy_set))
    policy_remove = policy_commands.add_parser("remove", help="usuń regułę (administrator platformy)")
    _common(policy_remove)
    _rule_key(policy_remove)
    policy_remove.set_defaults(func=_with_core(_policy_remove))

    events = commands.add_parser("events", help="zdarzenia bezpieczeństwa (logowania, blokady, zmiany, odmowy)")
    _common(events)
    events.add_argument("--user", help="tylko ten użytkownik")
    events.add_argument("--office", help="tylko ten urząd")
    events.add_argument("--kind", choices=[k.value for k in EventKind], help="tylko ten rodzaj zdarzenia")
    events.add_argument("--since", type=_date, help="od (RRRR-MM-DD[THH:MM], UTC)")
    events.add_argument("--until", type=_date, help="do (wyłącznie)")
    events.add_argument("--json", action="store_true", help="lista zdarzeń w formacie JSON (dla skryptów)")
    events.set_defaults(func=_with_core(_events), audit_mode=OpenMode.EXISTING)
