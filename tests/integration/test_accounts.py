"""Accounts and security events (guidelines 3 and 7) against real databases, without a server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from audit import EventKind
from audit.sql import SqlEventLog
from contract.errors import AuthenticationFailed, InvalidRequest, NotAllowed, PasswordChangeRequired, WeakPassword
from hub.cli import main
from hub.domain.accounts import Accounts, SecuritySettings, hash_password
from hub.settings import Group, UserEntry
from hub.storage.tables import hub_engine

STRONG = "Kasztanowa-Aleja-1987!"
NEWER = "Zielony-Parasol-Na-Wietrze-42"


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    events = SqlEventLog(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    accounts = Accounts(
        hub_engine(f"sqlite:///{tmp_path / 'replica.sqlite'}"),
        events=events,
        settings=SecuritySettings(cache_seconds=60, max_failed_logins=5),
    )
    accounts.import_groups(
        [
            Group(code="G", office="OPS", name="Grupa"),
            Group(code="G", office="PUP", name="Grupa"),
            Group(code="ADM", office="OPS", name="Admini"),
        ]
    )
    accounts.import_users(
        [
            UserEntry(login="ops.jan", office="OPS", group="G", password_hash=hash_password(STRONG)),
            UserEntry(login="pup.ewa", office="PUP", group="G", password_hash=hash_password(STRONG)),
            UserEntry(
                login="ops.admin",
                office="OPS",
                group="ADM",
                password_hash=hash_password(STRONG),
                roles=("ADMINISTRATOR_URZEDU",),
            ),
            UserEntry(
                login="root",
                office="PUP",
                group="G",
                password_hash=hash_password(STRONG),
                roles=("ADMINISTRATOR_PLATFORMY",),
            ),
        ]
    )
    return accounts


def kinds(accounts: Accounts) -> list[tuple[str, str, str]]:
    """(kind, user, actor) of every event so far."""
    return [(e.kind.value, e.user, e.actor) for e in accounts.events.events()]  # type: ignore[attr-defined]


def test_each_guideline_event_appears_exactly_when_it_happens(accounts: Accounts) -> None:
    """The whole event list after each step (a doubled or missing event anywhere fails it)."""
    expected: list[tuple[str, str, str]] = []

    def then(*events: tuple[str, str, str]) -> None:
        expected.extend(events)
        assert kinds(accounts) == expected

    accounts.authenticate("ops.jan", STRONG, source="10.0.0.7")
    then(("LOGOWANIE", "ops.jan", "ops.jan"))
    for _ in range(3):
        accounts.authenticate("ops.jan", STRONG)  # the same session: no new login
    then()
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("ops.jan", "zle-haslo")
    then(("NIEUDANE_LOGOWANIE", "ops.jan", "ops.jan"))
    accounts.change_password("ops.jan", STRONG, NEWER)
    then(("ZMIANA_HASLA", "ops.jan", "ops.jan"))  # verifying the old password is not a login
    caller = accounts.authenticate("ops.jan", NEWER)
    then(("LOGOWANIE", "ops.jan", "ops.jan"))
    accounts.logout(caller)
    then(("WYLOGOWANIE", "ops.jan", "ops.jan"))
    admin = accounts.authenticate("ops.admin", STRONG)
    then(("LOGOWANIE", "ops.admin", "ops.admin"))
    accounts.lock(admin, "ops.jan")
    then(("BLOKADA", "ops.jan", "ops.admin"))
    accounts.unlock(admin, "ops.jan")
    then(("ODBLOKOWANIE", "ops.jan", "ops.admin"))
    first = next(accounts.events.events())  # type: ignore[attr-defined]
    assert first.source == "10.0.0.7" and first.office == "OPS" and first.success


def test_a_timed_lock_is_lifted_by_the_system_when_it_expires(tmp_path: Path) -> None:
    now = [dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)]
    events = SqlEventLog(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    accounts = Accounts(
        hub_engine(f"sqlite:///{tmp_path / 'hub.sqlite'}"),
        events=events,
        settings=SecuritySettings(cache_seconds=60, max_failed_logins=2, lock_minutes=15),
        clock=lambda: now[0],
    )
    accounts.import_groups([Group(code="G", office="OPS", name="Grupa")])
    accounts.import_users([UserEntry(login="ops.jan", office="OPS", group="G", password_hash=hash_password(STRONG))])
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate("ops.jan", "zgadywane-haslo")
    now[0] += dt.timedelta(minutes=14)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("ops.jan", STRONG)  # still locked
    now[0] += dt.timedelta(minutes=2)
    assert accounts.authenticate("ops.jan", STRONG).login == "ops.jan"
    assert kinds(accounts) == [
        ("NIEUDANE_LOGOWANIE", "ops.jan", "ops.jan"),
        ("NIEUDANE_LOGOWANIE", "ops.jan", "ops.jan"),
        ("BLOKADA", "ops.jan", "system"),
        ("NIEUDANE_LOGOWANIE", "ops.jan", "ops.jan"),
        ("ODBLOKOWANIE", "ops.jan", "system"),
        ("LOGOWANIE", "ops.jan", "ops.jan"),
    ]


def test_brute_force_locks_the_account_and_the_right_password_no_longer_works(accounts: Accounts) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate("ops.jan", "zgadywane-haslo")
    events = kinds(accounts)
    assert [k for k, _u, _a in events].count("NIEUDANE_LOGOWANIE") == 5
    assert events[-1] == ("BLOKADA", "ops.jan", "system")
    with pytest.raises(AuthenticationFailed) as locked:
        accounts.authenticate("ops.jan", STRONG)
    with pytest.raises(AuthenticationFailed) as unknown:
        accounts.authenticate("nie.ma", STRONG)
    assert locked.value.message == unknown.value.message  # never says whether the login exists
    assert "LOGOWANIE" not in [k for k, _u, _a in kinds(accounts)]


def test_a_lock_takes_effect_at_once_even_for_a_cached_credential(accounts: Accounts) -> None:
    accounts.authenticate("ops.jan", STRONG)
    other_process = Accounts(accounts.engine, events=accounts.events)  # its own cache, same database
    other_process.authenticate("ops.jan", STRONG)
    admin = accounts.authenticate("root", STRONG)
    accounts.lock(admin, "ops.jan")
    with pytest.raises(AuthenticationFailed):
        other_process.authenticate("ops.jan", STRONG)


def test_a_logout_in_one_process_ends_the_cached_credential_in_another(accounts: Accounts) -> None:
    other_process = Accounts(accounts.engine, events=accounts.events)  # its own cache, same database
    for _ in range(2):
        caller = accounts.authenticate("ops.jan", STRONG)
        other_process.authenticate("ops.jan", STRONG)
    assert [k for k, _u, _a in kinds(accounts)].count("LOGOWANIE") == 2  # one per process; then cached
    accounts.logout(caller)
    other_process.authenticate("ops.jan", STRONG)  # the password is still right: a new login, not the cache
    assert [k for k, _u, _a in kinds(accounts)][-2:] == ["WYLOGOWANIE", "LOGOWANIE"]
    other_process.authenticate("ops.jan", STRONG)
    assert [k for k, _u, _a in kinds(accounts)].count("LOGOWANIE") == 3


def test_a_password_change_in_one_process_ends_the_cached_old_password_in_another(accounts: Accounts) -> None:
    other_process = Accounts(accounts.engine, events=accounts.events)
    for _ in range(2):
        accounts.authenticate("ops.jan", STRONG)
    other_process.change_password("ops.jan", STRONG, NEWER)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("ops.jan", STRONG)
    assert accounts.authenticate("ops.jan", NEWER).login == "ops.jan"


def test_a_forced_password_change_holds_for_a_cached_credential(accounts: Accounts) -> None:
    temporary = accounts.reset_password(accounts.authenticate("root", STRONG), "ops.jan")
    for _ in range(2):  # the second from the cache
        with pytest.raises(PasswordChangeRequired):
            accounts.check_usable(accounts.authenticate("ops.jan", temporary), "ZapytanieOBeneficjenta")


def test_office_administrator_sees_and_changes_only_own_office(accounts: Accounts) -> None:
    admin = accounts.authenticate("ops.admin", STRONG)
    assert {u.office for u in accounts.list_users(admin)} == {"OPS"}
    with pytest.raises(NotAllowed):
        accounts.list_users(admin, office="PUP")
    for action in (
        lambda: accounts.lock(admin, "pup.ewa"),
        lambda: accounts.reset_password(admin, "pup.ewa"),
        lambda: accounts.set_group(admin, "pup.ewa", "G"),
        lambda: accounts.add_user(admin, "pup.nowy", "PUP", "G", STRONG),
        lambda: accounts.add_user(admin, "ops.szef", "OPS", "G", STRONG, roles=("ADMINISTRATOR_PLATFORMY",)),
    ):
        with pytest.raises(NotAllowed):
            action()
    refusals = [e for e in accounts.events.events(kind=EventKind.PERMISSION_REFUSED)]  # type: ignore[attr-defined]
    assert len(refusals) == 6 and all(e.user == "ops.admin" and not e.success for e in refusals)
    caller = accounts.authenticate("pup.ewa", STRONG)
    assert caller.office == "PUP"  # untouched


def test_reset_forces_a_change_and_weak_passwords_are_refused(accounts: Accounts) -> None:
    root = accounts.authenticate("root", STRONG)
    temporary = accounts.reset_password(root, "ops.jan")
    caller = accounts.authenticate("ops.jan", temporary)
    with pytest.raises(PasswordChangeRequired):
        accounts.check_usable(caller, "ZapytanieOBeneficjenta")
    accounts.check_usable(caller, "ZmianaHasla")
    for weak in ("krotkie", "password1234", "qwertyuiop123", "ops.jan12345", "Haslo123456789"):
        with pytest.raises(WeakPassword):
            accounts.change_password("ops.jan", temporary, weak)
    accounts.change_password("ops.jan", temporary, NEWER)
    accounts.check_usable(accounts.authenticate("ops.jan", NEWER), "ZapytanieOBeneficjenta")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("ops.jan", temporary)


def test_system_may_act_only_for_users_of_its_own_office(accounts: Accounts) -> None:
    assert accounts.act_for("OPS", "ops.jan", "system-ops").login == "ops.jan"
    with pytest.raises(AuthenticationFailed):
        accounts.act_for("OPS", "pup.ewa", "system-ops")
    refusal = list(accounts.events.events(kind=EventKind.PERMISSION_REFUSED))  # type: ignore[attr-defined]
    assert refusal and refusal[-1].actor == "system-ops" and refusal[-1].user == "pup.ewa"



def _hub_with_root(office: str) -> str:
    """The `[hub]` section of a test powiat (SQLite files beside the configuration) and its platform administrator
    `root` (password STRONG) in the office's group ADM."""
    return f"""
[hub]
name = "Próba"
database = "sqlite:///hub.sqlite"
audit_database = "sqlite:///audyt.sqlite"

[[users]]
login = "root"
office = "{office}"
group = "ADM"
password_hash = "{hash_password(STRONG)}"
roles = ["ADMINISTRATOR_PLATFORMY"]
"""


# -- the administration commands refuse offices the configuration does not name ----------------------------------
@pytest.fixture
def admin_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hub configuration with two offices and a platform administrator whose password the commands read."""
    path = tmp_path / "platforma.toml"
    path.write_text(
        """
offices = [
    { code = "OPS", name = "Ośrodek Pomocy Społecznej", kind = "OPS" },
    { code = "PUP", name = "Powiatowy Urząd Pracy", kind = "PUP" },
]
groups = [{ code = "ADM", office = "OPS", name = "Administratorzy" }]

"""
        + _hub_with_root("OPS"),
        encoding="utf-8",
    )
    monkeypatch.setenv("PLATFORMA_HASLO", STRONG)
    monkeypatch.setenv("PLATFORMA_NOWE_HASLO", NEWER)
    return path


def platforma(config: Path, *words: str) -> int:
    return main([*words[:2], "--config", str(config), "--as", "root", *words[2:]])


def test_admin_commands_refuse_an_office_that_is_not_configured(
    admin_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert platforma(admin_config, "groups", "add", "XX", "G", "Grupa widmo") == 2
    assert "Nieznany urząd XX" in capsys.readouterr().err
    # Even with a group of that office already in the database (written before this check), no user joins it.
    accounts = Accounts(hub_engine(f"sqlite:///{admin_config.parent / 'hub.sqlite'}"))
    accounts.import_groups([Group(code="G", office="XX", name="Grupa widmo")])
    assert platforma(admin_config, "users", "add", "xx.jan", "--office", "XX", "--group", "G") == 2
    assert "Nieznany urząd XX" in capsys.readouterr().err
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate("xx.jan", NEWER)
    assert platforma(admin_config, "groups", "add", "PUP", "G", "Grupa") == 0
    assert platforma(admin_config, "users", "add", "pup.jan", "--office", "PUP", "--group", "G") == 0
    assert accounts.authenticate("pup.jan", NEWER).office == "PUP"


def test_a_password_containing_the_login_is_refused(accounts: Accounts) -> None:
    with pytest.raises(WeakPassword, match="loginu"):
        accounts.change_password("ops.jan", STRONG, "Ops.Jan-Zielony-Parasol-42")
    assert accounts.authenticate("ops.jan", STRONG).login == "ops.jan"  # unchanged


@pytest.mark.parametrize("login", ["jan kowalski", "dwie\nlinie", "łukasz", "", "a" * 121])
def test_the_accounts_service_refuses_a_login_outside_the_one_rule(accounts: Accounts, login: str) -> None:
    """The CLI checked logins and the configuration checked only their length; the service any caller of
    `add_user` reaches checked nothing. One rule now (`contract.identifiers.LOGIN_PATTERN`), in all three."""
    admin = accounts.authenticate("ops.admin", STRONG)
    with pytest.raises(InvalidRequest, match="Nieprawidłowy login"):
        accounts.add_user(admin, login, "OPS", "G", STRONG)
    assert login not in {u.login for u in accounts.list_users(admin)}
    accounts.add_user(admin, "ops.nowa-osoba_1@ops", "OPS", "G", STRONG)  # the rule's whole alphabet


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("login", "jan kowalski", "nieprawidłowy login"),
        ("login", "łukasz", "nieprawidłowy login"),
        ("pesel", "44051401358", "PESEL"),  # the pattern took any eleven digits, a wrong check digit too
        ("pesel", "４４０５１４０１３５９", "PESEL"),
    ],
)
def test_the_configuration_checks_users_by_the_same_rules(field: str, value: str, reason: str) -> None:
    entry = {"login": "ops.jan", "office": "OPS", "group": "G", "password_hash": "x", field: value}
    with pytest.raises(ValueError, match=reason):
        UserEntry(**entry)


@pytest.mark.parametrize("role", ["ADMINISTRATOR_PLATFORMY", "AUDYTOR", "REDAKTOR_SZABLONOW", "ADMINISTRATOR_URZEDU"])
def test_an_office_administrator_cannot_take_over_an_account_above_the_office(accounts: Accounts, role: str) -> None:
    """Attack pass: pup.admin reset platforma.admin's password (same office), set one of its own with the one-time
    password, and then changed the scope rules as the platform administrator; it could also lock the auditor. An
    account holding a role above the office (or another office administrator) is the platform administrator's."""
    accounts.import_users(
        [UserEntry(login="ops.wyzej", office="OPS", group="G", password_hash=hash_password(STRONG), roles=(role,))]
    )
    admin = accounts.authenticate("ops.admin", STRONG)
    assert accounts.authenticate("ops.wyzej", STRONG).login == "ops.wyzej"  # the account works
    for act in (
        lambda: accounts.reset_password(admin, "ops.wyzej"),
        lambda: accounts.lock(admin, "ops.wyzej"),
        lambda: accounts.unlock(admin, "ops.wyzej"),
        lambda: accounts.set_group(admin, "ops.wyzej", "ADM"),
    ):
        with pytest.raises(NotAllowed, match="zarządza nim administrator platformy"):
            act()
    assert accounts.authenticate("ops.wyzej", STRONG).login == "ops.wyzej"  # password and lock unchanged
    refusals = [e for e in accounts.events.events(kind=EventKind.PERMISSION_REFUSED)]  # type: ignore[attr-defined]
    assert len(refusals) == 4 and all(e.user == "ops.admin" for e in refusals)
    root = accounts.authenticate("root", STRONG)
    assert accounts.reset_password(root, "ops.wyzej")  # the platform administrator still can
    accounts.lock(admin, "ops.admin")  # and an office administrator still manages their own account
    accounts.unlock(root, "ops.admin")


@pytest.mark.parametrize("role", ["ADMINISTRATOR_PLATFORMY", "AUDYTOR", "REDAKTOR_SZABLONOW"])
def test_an_office_administrator_cannot_grant_a_role_above_the_office(accounts: Accounts, role: str) -> None:
    admin = accounts.authenticate("ops.admin", STRONG)
    with pytest.raises(NotAllowed, match=f"nadanie roli {role}"):
        accounts.add_user(admin, "ops.nowy", "OPS", "G", NEWER, roles=("UZYTKOWNIK", role))
    accounts.add_user(admin, "ops.nowy", "OPS", "G", NEWER, roles=("UZYTKOWNIK", "PODPISUJACY"))
    accounts.add_user(accounts.authenticate("root", STRONG), "ops.drugi", "OPS", "G", NEWER, roles=(role,))


@pytest.mark.parametrize("login", ["ROOT", "Ops.Jan", "OPS.ADMIN"])
def test_a_login_differing_from_another_only_in_letter_case_is_refused(accounts: Accounts, login: str) -> None:
    """Attack pass: an office administrator made `Platforma.ADMIN` and `PUP.admin`, read as the real ones in lists
    and events."""
    root = accounts.authenticate("root", STRONG)
    with pytest.raises(InvalidRequest, match="tylko wielkością liter"):
        accounts.add_user(root, login, "OPS", "G", NEWER)
    assert login not in [u.login for u in accounts.list_users(root)]


@pytest.mark.parametrize("role", ["ADMINISTRATOR_PLATFORMY", "AUDYTOR", "REDAKTOR_SZABLONOW", "ADMINISTRATOR_URZEDU"])
def test_an_office_system_cannot_act_for_an_account_above_its_staff(accounts: Accounts, role: str) -> None:
    """Attack pass: PUP's system certificate named `audytor` (office PUP) in UzytkownikKoncowy and, with no
    password, ordered a report of OPS's disclosures with PESELs; named `redaktor`, it read every template. A
    system acts for its office's staff; the roles above them, and the administrators, log in themselves."""
    accounts.import_users(
        [UserEntry(login="ops.wyzej", office="OPS", group="G", password_hash=hash_password(STRONG), roles=(role,))]
    )
    with pytest.raises(NotAllowed, match=role):
        accounts.act_for("OPS", "ops.wyzej", "system-ops", "192.0.2.7")
    refusal = list(accounts.events.events(kind=EventKind.PERMISSION_REFUSED))  # type: ignore[attr-defined]
    assert refusal and refusal[-1].actor == "system-ops" and refusal[-1].user == "ops.wyzej"
    assert role in refusal[-1].details
    assert accounts.act_for("OPS", "ops.jan", "system-ops").login == "ops.jan"  # its staff still


def test_an_office_administrator_reads_events_without_the_pesel_an_auditor_reported_on(
    admin_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack pass: `events --as ops.admin` showed "raport OSOBA; pesel=…" of an auditor of the office: the
    office administrator gets no personal data. The platform administrator (and the auditor) still see it."""
    import datetime as dt

    from audit import SecurityEvent
    from hub import settings as config_module
    from hub.core import HubCore

    with admin_config.open("a", encoding="utf-8") as config:
        config.write(
            f'\n[[users]]\nlogin = "ops.admin"\noffice = "OPS"\ngroup = "ADM"\n'
            f'password_hash = "{hash_password(STRONG)}"\nroles = ["ADMINISTRATOR_URZEDU"]\n'
        )
    core = HubCore.open(config_module.load(admin_config))
    try:
        core.events.record(
            SecurityEvent(
                time=dt.datetime.now(dt.UTC), kind=EventKind.REPORT, user="ops.audytor", office="OPS",
                actor="ops.audytor", source="CLI", success=True,
                details="raport OSOBA; pesel=90051712344; odmowy=nie; format=csv; wpisow=3",
            )
        )  # fmt: skip
    finally:
        core.close()
    capsys.readouterr()

    def details(login: str) -> list[str]:
        assert main(["events", "--config", str(admin_config), "--as", login, "--kind", "RAPORT", "--json"]) == 0
        return [event["szczegoly"] for event in json.loads(capsys.readouterr().out)]

    assert details("root") == ["raport OSOBA; pesel=90051712344; odmowy=nie; format=csv; wpisow=3"]
    assert details("ops.admin") == ["raport OSOBA; pesel=[PESEL ukryty]; odmowy=nie; format=csv; wpisow=3"]


def test_policy_set_with_no_categories_takes_a_units_access_away_from_a_kind_wide_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Gminas pass: docs/powiat.md says `categories = []` takes a unit's access away, but `policy set … --categories
    ""` answered "Podaj co najmniej jedną kategorię": once the hub database existed, a kind-wide rule could not be
    narrowed for one gmina's unit."""
    from hub import settings as config_module
    from hub.core import HubCore
    from hub.domain.policy import Caller

    path = tmp_path / "platforma.toml"
    path.write_text(
        """
offices = [{ code = "PUP", name = "Powiatowy Urząd Pracy", kind = "PUP" }]
data_sets = [{ code = "PUP", controller = "PUP", replica = "sqlite:///pup.sqlite" }]
groups = [
    { code = "ADM", office = "PUP", name = "Administratorzy" },
    { code = "PRACOWNICY_SOCJALNI", office = "*OPS", name = "Pracownicy socjalni" },
]
rules = [{ office = "*OPS", group = "PRACOWNICY_SOCJALNI", data_set = "PUP", categories = ["DANE_OSOBOWE"] }]
legal_bases = [{ code = "UPS-2004", citation = "Dz.U. 2004", data_sets = ["PUP"] }]
gminas = [{ teryt = "0201011", name = "Gmina 1" }, { teryt = "0201022", name = "Gmina 2" }]

"""
        + _hub_with_root("PUP"),
        encoding="utf-8",
    )
    monkeypatch.setenv("PLATFORMA_HASLO", STRONG)
    words = ["policy", "set", "--config", str(path), "--as", "root", "OPS-0201022", "PRACOWNICY_SOCJALNI", "PUP"]
    assert main([*words, "--categories", ","]) == 2  # a slip is still an error, not an empty rule
    assert main([*words, "--categories", ""]) == 0
    assert "nie ma dostępu do zbioru PUP" in capsys.readouterr().out
    core = HubCore.open(config_module.load(path))
    try:

        def scope(office: str) -> list[str]:
            caller = Caller("x", office, "PRACOWNICY_SOCJALNI", roles=frozenset({"UZYTKOWNIK"}))
            return [entry.data_set for entry in core.query.policy.scope(caller)]

        assert scope("OPS-0201011") == ["PUP"] and scope("OPS-0201022") == []
    finally:
        core.close()


def test_a_rule_added_to_the_file_after_the_first_start_is_reported_not_silently_ignored(
    admin_config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from hub import settings as config_module
    from hub.core import HubCore

    HubCore.open(config_module.load(admin_config)).close()  # the first start seeds the rules (none)
    with admin_config.open("a", encoding="utf-8") as config:
        config.write('\n[[rules]]\noffice = "OPS"\ngroup = "ADM"\ndata_set = "PUP"\ncategories = []\n')
    data_set = 'data_sets = [{ code = "PUP", controller = "PUP", replica = "sqlite:///pup.sqlite" }]\n'
    text = admin_config.read_text(encoding="utf-8").replace("offices = [", data_set + "offices = [")
    admin_config.write_text(text, encoding="utf-8")
    with caplog.at_level("WARNING"):
        HubCore.open(config_module.load(admin_config)).close()
    assert any("różnią się od reguł w bazie huba (1, np. OPS / ADM / PUP)" in r.getMessage() for r in caplog.records)


def test_policy_set_refuses_a_legal_basis_that_does_not_open_the_data_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding (access-changes pass): `policy set … SR --legal-bases USR-2003`, a basis that opens only PUP, said
    "Reguła zapisana" and replaced the kind-wide rule with one that gave nothing: every SR query was refused.
    Now refused in Polish, naming the bases that do open it; the rule before it stays."""
    path = tmp_path / "platforma.toml"
    path.write_text(
        """
offices = [
    { code = "PUP", name = "Powiatowy Urząd Pracy", kind = "PUP" },
    { code = "SR", name = "Dział Świadczeń Rodzinnych", kind = "SR" },
]
data_sets = [
    { code = "PUP", controller = "PUP", replica = "sqlite:///pup.sqlite" },
    { code = "SR", controller = "SR", replica = "sqlite:///sr.sqlite" },
]
groups = [{ code = "ADM", office = "PUP", name = "Administratorzy" }, { code = "G", office = "PUP", name = "G" }]
rules = [{ office = "PUP", group = "G", data_set = "SR", categories = ["DANE_OSOBOWE"] }]
legal_bases = [
    { code = "USR-2003", citation = "Dz.U. 2003", data_sets = ["PUP"] },
    { code = "SR-2003", citation = "Dz.U. 2003 (SR)", data_sets = ["SR"] },
]

"""
        + _hub_with_root("PUP"),
        encoding="utf-8",
    )
    monkeypatch.setenv("PLATFORMA_HASLO", STRONG)
    words = ["policy", "set", "--config", str(path), "--as", "root", "PUP", "G", "SR", "--categories", "DANE_OSOBOWE"]
    assert main([*words, "--legal-bases", "USR-2003"]) == 2
    out = capsys.readouterr()
    assert "USR-2003 nie otwiera zbioru SR" in out.err + out.out and "SR-2003" in out.err + out.out
    assert "Traceback" not in out.err
    assert main(["policy", "list", "--config", str(path), "--as", "root"]) == 0
    listed = capsys.readouterr().out
    assert "USR-2003" not in listed
    assert main([*words, "--legal-bases", "SR-2003"]) == 0


def test_users_set_roles_takes_a_role_away_at_once_and_only_the_platform_admin_touches_roles_above_the_office(
    admin_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding (access-changes pass): no command removed a role, so a signer who changed jobs could only be
    locked out. `users set-roles` replaces the roles: recorded, and the user's cached login is gone at once."""
    assert platforma(admin_config, "groups", "add", "OPS", "G", "Grupa") == 0
    assert platforma(admin_config, "users", "add", "ops.jan", "--office", "OPS", "--group", "G",
                     "--role", "UZYTKOWNIK", "--role", "PODPISUJACY") == 0  # fmt: skip
    accounts = Accounts(hub_engine(f"sqlite:///{admin_config.parent / 'hub.sqlite'}"))
    accounts.change_password("ops.jan", NEWER, STRONG)
    assert accounts.authenticate("ops.jan", STRONG).has_role("PODPISUJACY")  # cached in this process now
    assert platforma(admin_config, "users", "set-roles", "ops.jan", "--roles", "UZYTKOWNIK") == 0
    assert not accounts.authenticate("ops.jan", STRONG).has_role("PODPISUJACY")
    assert platforma(admin_config, "users", "set-roles", "ops.jan", "--roles", "UZYTKOWNIK,NIEMA") == 2
    assert "Nieznana rola: NIEMA" in capsys.readouterr().err
    # An office administrator manages the office's ordinary roles, not those above the office.
    assert platforma(admin_config, "users", "add", "ops.adm", "--office", "OPS", "--group", "G",
                     "--role", "ADMINISTRATOR_URZEDU") == 0  # fmt: skip
    accounts.change_password("ops.adm", NEWER, STRONG)
    office_admin = ["--config", str(admin_config), "--as", "ops.adm"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLATFORMA_HASLO", STRONG)
        assert main(["users", "set-roles", *office_admin, "ops.jan", "--roles", "UZYTKOWNIK,AUDYTOR"]) == 2
        assert main(["users", "set-roles", *office_admin, "ops.jan", "--roles", "UZYTKOWNIK,PODPISUJACY"]) == 0
    capsys.readouterr()
    assert main(["events", "--config", str(admin_config), "--as", "root", "--kind", "ZMIANA_UZYTKOWNIKA",
                 "--json"]) == 0  # fmt: skip
    details = [(e["uzytkownik"], e["szczegoly"]) for e in json.loads(capsys.readouterr().out)]
    assert ("ops.jan", "role UZYTKOWNIK,PODPISUJACY → UZYTKOWNIK") in details
    assert [d for d in details if "z pliku konfiguracji" in d[1]] == []  # the first start: the installation


def test_an_account_added_to_the_file_later_is_recorded_and_a_differing_one_is_reported(
    admin_config: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding (access-changes pass): a `[[users]]` entry appended to the file of a running powiat became an
    account at the next command, with no event; roles taken away in the file were silently ignored."""
    assert platforma(admin_config, "users", "list") == 0
    text = admin_config.read_text(encoding="utf-8")
    admin_config.write_text(
        text.replace('roles = ["ADMINISTRATOR_PLATFORMY"]', 'roles = ["ADMINISTRATOR_PLATFORMY", "AUDYTOR"]')
        + '\n[[users]]\nlogin = "nowy.admin"\noffice = "OPS"\ngroup = "ADM"\n'
        + f'password_hash = "{hash_password(STRONG)}"\nroles = ["ADMINISTRATOR_PLATFORMY"]\n',
        encoding="utf-8",
    )
    with caplog.at_level("WARNING"):
        assert platforma(admin_config, "users", "list") == 0
    assert "konta w pliku konfiguracji różnią się od kont w bazie huba" in caplog.text and "root" in caplog.text
    capsys.readouterr()
    assert main(["events", "--config", str(admin_config), "--as", "root", "--kind", "ZMIANA_UZYTKOWNIKA",
                 "--json"]) == 0  # fmt: skip
    events = json.loads(capsys.readouterr().out)
    assert [(e["uzytkownik"], e["wykonawca"]) for e in events if e["uzytkownik"] == "nowy.admin"] == [
        ("nowy.admin", "konfiguracja")
    ]


def test_a_report_or_the_events_of_a_register_that_does_not_exist_are_refused_and_create_nothing(
    admin_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding (reports pass; issue 12, item 5): with `audit_database` mistyped, `audit report --pesel …` made an
    empty register and issued a "no disclosures" art. 15 report from it, exit 0. The report and `events` now open
    an existing register only."""
    admin_config.write_text(
        admin_config.read_text(encoding="utf-8").replace(
            'roles = ["ADMINISTRATOR_PLATFORMY"]', 'roles = ["ADMINISTRATOR_PLATFORMY", "AUDYTOR"]'
        ),
        encoding="utf-8",
    )
    register = admin_config.parent / "audyt.sqlite"
    report = ["audit", "report", "--config", str(admin_config), "--actor", "root", "--pesel", "90051712344"]
    assert main(report) == 2
    assert "audit_database" in capsys.readouterr().err
    assert main(["events", "--config", str(admin_config), "--as", "root"]) == 2
    assert "audit_database" in capsys.readouterr().err
    assert not register.exists()
    assert platforma(admin_config, "users", "list") == 0  # a command that records changes makes the register
    assert register.exists()
    assert main(report) == 0


def test_a_one_time_password_opens_no_command_but_the_password_change(
    admin_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding (reports pass): after `users reset-password audytor`, the one-time password made an auditor's report
    on the command line (over SOAP it is refused until changed; docs/security.md: it "may do nothing but change
    it"). Every command acting as a user now refuses it, naming `platforma users passwd`."""
    admin_config.write_text(
        admin_config.read_text(encoding="utf-8").replace(
            'roles = ["ADMINISTRATOR_PLATFORMY"]', 'roles = ["ADMINISTRATOR_PLATFORMY", "AUDYTOR"]'
        ),
        encoding="utf-8",
    )
    assert platforma(admin_config, "users", "list") == 0
    accounts = Accounts(hub_engine(f"sqlite:///{admin_config.parent / 'hub.sqlite'}"))
    root = accounts.authenticate("root", STRONG)
    temporary = accounts.reset_password(root, "root")
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLATFORMA_HASLO", temporary)
        for command in (
            ["users", "list", "--config", str(admin_config), "--as", "root"],
            ["events", "--config", str(admin_config), "--as", "root"],
            ["audit", "report", "--config", str(admin_config), "--actor", "root", "--pesel", "90051712344"],
        ):
            assert main(command) == 2, command
            out = capsys.readouterr()
            assert "platforma users passwd" in out.err and "<?xml" not in out.out, command
        patch.setenv("PLATFORMA_NOWE_HASLO", NEWER)
        assert main(["users", "passwd", "--config", str(admin_config), "root"]) == 0
        patch.setenv("PLATFORMA_HASLO", NEWER)
        assert main(["users", "list", "--config", str(admin_config), "--as", "root"]) == 0


def test_a_missing_or_undecodable_password_names_its_variable(admin_config: Path) -> None:
    """Findings (CLI pass): with PLATFORMA_HASLO set and PLATFORMA_NOWE_HASLO not, and no terminal, `users add` said
    "ustaw zmienną PLATFORMA_HASLO"; a password typed on an ISO-8859-2 terminal was "Nieoczekiwany błąd
    (UnicodeEncodeError)", exit 3."""
    import os
    import subprocess
    import sys

    assert platforma(admin_config, "groups", "add", "OPS", "G", "Grupa") == 0
    environment = {k: v for k, v in os.environ.items() if k not in ("PLATFORMA_NOWE_HASLO", "PLATFORMA_HASLO")}

    def run(password: bytes, *words: str) -> tuple[int, str]:
        result = subprocess.run(
            [sys.executable, "-m", "hub.cli", *words],
            env={**{k.encode(): v.encode() for k, v in environment.items()}, b"PLATFORMA_HASLO": password},
            stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=False, start_new_session=True,
        )  # fmt: skip
        return result.returncode, result.stderr.decode("utf-8")

    code, error = run(STRONG.encode(), "users", "add", "--config", str(admin_config), "--as", "root", "ops.nowy",
                      "--office", "OPS", "--group", "G")  # fmt: skip
    assert code == 2 and "ustaw zmienną PLATFORMA_NOWE_HASLO" in error, error
    code, error = run(b"has\xb3o", "users", "list", "--config", str(admin_config), "--as", "root")
    assert code == 2 and "PLATFORMA_HASLO zawiera bajty, które nie są tekstem UTF-8" in error, error
    assert "Unicode" not in error and "Nieoczekiwany" not in error


def test_events_of_an_office_that_is_not_configured_are_refused(
    admin_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding (CLI pass): `events --office NIEMA` listed nothing with exit 0, which reads as "no events there";
    `users list --office NIEMA` said the office is unknown."""
    assert platforma(admin_config, "users", "list") == 0  # the register exists
    assert main(["events", "--config", str(admin_config), "--as", "root", "--office", "PUP"]) == 0
    assert main(["events", "--config", str(admin_config), "--as", "root", "--office", "NIEMA"]) == 2
    assert "Nieznany urząd NIEMA" in capsys.readouterr().err
