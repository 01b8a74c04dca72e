"""The demo powiat: synthetic data, replicas, a configuration with users of narrow and wide scope.

`prepare` makes everything under one folder (once; later runs reuse it) and writes `demo.json` for
scripts and integrators. Passwords are derived from the seed so that a demo is reproducible; they are
demo passwords and the configuration holds only their argon2id hashes.

Every folder of the demo is private to its owner (0700) and every file (0600): the replicas hold personal
data, even synthetic ones look real, and the configuration holds password hashes. The disclosure register
(`audyt/`) and the key that signs its checkpoints (`klucze/`) are in separate folders, so that the
register's folder can be copied or handed over without the key (docs/security.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from adapters import adapter_class
from adapters.feeder import FULL, Feeder, FeedSummary
from adapters.targets import ReplicaTarget
from audit.checkpoints import generate_key
from audit.store import AuditStore
from contract import catalog
from contract.errors import ConfigurationError
from demo.data import KINDS, Population, membership, write_domain_databases, write_people_database
from demo.documents import DOCUMENT_FOLDERS, add_demo_json_entries, check_crls, prepare_documents
from hub import settings as config_module
from hub.domain.accounts import hash_password
from replica.database import LAYOUT

OFFICES = (
    ("PUP", "Powiatowy Urząd Pracy", "PUP"),
    ("OPS", "Ośrodek Pomocy Społecznej", "OPS"),
    ("SR", "Dział Świadczeń Rodzinnych", "SR"),
)

# The demo powiat's gminas (issue 16): invented names, TERC codes in a voivodeship that does not exist (99), so
# nobody takes them for real ones. The first gmina's units keep the codes OPS and SR (the README's example,
# the demo's users); the others' are coded KIND-TERYT (`OPS-9901022`) by the `[[gminas]]` convention.
GMINA_NAMES = (
    "Zielonka",
    "Brzozów",
    "Lipowa Wola",
    "Dębina",
    "Olszanka",
    "Jaworze",
    "Kamionka",
    "Wierzbno",
    "Sosnowa Góra",
    "Modrzewie",
)
DEFAULT_GMINAS = 3
MOVED_PER_GMINA = 4  # people of the first gmina who moved to each other gmina


def gmina_list(count: int) -> list[tuple[str, str]]:
    """(TERC, name) of the demo's `count` gminas: `9901012`, `9901022`, … (type 2: a rural gmina)."""
    return [
        (f"9901{i:02d}2", GMINA_NAMES[i - 1] if i <= len(GMINA_NAMES) else f"Gmina Demonstracyjna {i}")
        for i in range(1, count + 1)
    ]


def _kind_wide(code: str) -> str:
    """The first gmina's unit codes in rules and groups stand for every unit of the kind (`*OPS`)."""
    return "*" + code if code in ("OPS", "SR") else code


# Legal bases cite acts as promulgated; the deployment's data protection officer names the exact provisions
# (the registry is configuration, never code: docs/operations.md).
LEGAL_BASES = (
    {
        "code": "URPSZ-2025",
        "name": "Ustawa o rynku pracy i służbach zatrudnienia",
        "citation": "Ustawa z dnia 20 marca 2025 r. o rynku pracy i służbach zatrudnienia (Dz.U. 2025 poz. 620)",
        "data_sets": ["PUP", "*OPS", "*SR"],
    },
    {
        "code": "UPS-2004",
        "name": "Ustawa o pomocy społecznej",
        "citation": "Ustawa z dnia 12 marca 2004 r. o pomocy społecznej (Dz.U. 2004 nr 64 poz. 593, z późn. zm.)",
        "data_sets": ["PUP", "*SR"],
    },
    {
        "code": "USR-2003",
        "name": "Ustawa o świadczeniach rodzinnych",
        "citation": "Ustawa z dnia 28 listopada 2003 r. o świadczeniach rodzinnych (Dz.U. 2003 nr 228 poz. 2255, "
        "z późn. zm.)",
        "data_sets": ["PUP", "*OPS"],
    },
)

ALL = {kind.code: list(kind.category_codes) for kind in (catalog.PUP, catalog.OPS, catalog.SR)}

#: The demo's layout, relative to its folder: the register apart from the key that signs its checkpoints.
AUDIT_DATABASE = "audyt/audit.sqlite"
AUDIT_KEY = "klucze/klucz-audytu.pem"
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600

# (office, group code, group name, login, {data set: categories}, {data set: legal bases})
GROUPS: tuple[tuple[str, str, str, str, dict[str, list[str]], dict[str, list[str]]], ...] = (
    (
        "PUP",
        "KIEROWNICTWO",
        "Kierownictwo PUP",
        "pup.kierownik",
        {"PUP": ALL["PUP"], "OPS": ALL["OPS"], "SR": ALL["SR"]},
        {"PUP": ["URPSZ-2025"], "OPS": ["URPSZ-2025"], "SR": ["URPSZ-2025"]},
    ),
    (
        "PUP",
        "POSREDNICY",
        "Pośrednicy pracy",
        "pup.posrednik",
        {"OPS": ["DANE_OSOBOWE", "INFORMACJE_OGOLNE"]},
        {"OPS": ["URPSZ-2025"]},
    ),
    (
        "OPS",
        "PRACOWNICY_SOCJALNI",
        "Pracownicy socjalni",
        "ops.pracownik",
        {"PUP": ALL["PUP"], "SR": ALL["SR"]},
        {"PUP": ["UPS-2004"], "SR": ["UPS-2004"]},
    ),
    (
        "OPS",
        "ASYSTENCI_RODZINY",
        "Asystenci rodziny",
        "ops.asystent",
        {"PUP": ["DANE_OSOBOWE", "OKRESY_REJESTRACJI"], "SR": ["DANE_OSOBOWE", "DANE_DZIECI"]},
        {"PUP": ["UPS-2004"], "SR": ["UPS-2004"]},
    ),
    (
        "SR",
        "REFERENCI",
        "Referenci świadczeń rodzinnych",
        "sr.referent",
        {
            "PUP": [
                "DANE_OSOBOWE",
                "OKRESY_REJESTRACJI",
                "PRZYZNANE_SWIADCZENIA",
                "POBRANE_ZASILKI",
                "INNE_SWIADCZENIA",
            ],
            "OPS": ["DANE_OSOBOWE", "SWIADCZENIA"],
        },
        {"PUP": ["USR-2003"], "OPS": ["USR-2003"]},
    ),
)


# Accounts that do not query: feeding systems, administrators, the auditor, the template editor.
# (office, group code, group name, login, roles)
SERVICE_ACCOUNTS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("PUP", "SYSTEMY", "Systemy dziedzinowe PUP", "pup.system", ("SYSTEM_ZASILAJACY",)),
    ("OPS", "SYSTEMY", "Systemy dziedzinowe OPS", "ops.system", ("SYSTEM_ZASILAJACY",)),
    ("SR", "SYSTEMY", "Systemy dziedzinowe SR", "sr.system", ("SYSTEM_ZASILAJACY",)),
    ("PUP", "ADMINISTRACJA", "Administratorzy PUP", "pup.admin", ("ADMINISTRATOR_URZEDU",)),
    ("OPS", "ADMINISTRACJA", "Administratorzy OPS", "ops.admin", ("ADMINISTRATOR_URZEDU",)),
    ("PUP", "PLATFORMA", "Administratorzy platformy", "platforma.admin", ("ADMINISTRATOR_PLATFORMY",)),
    ("PUP", "AUDYT", "Audytorzy", "audytor", ("AUDYTOR",)),
    ("PUP", "SZABLONY", "Redaktorzy szablonów dokumentów", "redaktor", ("REDAKTOR_SZABLONOW",)),
)


@dataclass(frozen=True)
class DemoSizes:
    pup: int = 5000
    ops: int = 2000
    sr: int = 3000


def demo_password(seed: int, login: str) -> str:
    """A reproducible demo password for a login (never used outside the demo)."""
    tail = hashlib.sha256(f"{seed}:{login}".encode()).hexdigest()[:8]
    return f"Demo-{login.split('.')[-1].capitalize()}-{tail}"


def _pick_beneficiaries(known_to: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """People known to three, two and one data set(s), several of each, in a stable order."""
    wanted = [("PUP", "OPS", "SR")] * 3 + [("PUP", "OPS"), ("PUP", "SR"), ("OPS", "SR")] + [("PUP",), ("OPS",), ("SR",)]
    chosen: list[dict[str, Any]] = []
    used: set[str] = set()
    for sets in wanted:
        for pesel, known in sorted(known_to.items()):
            if known == sets and pesel not in used:
                used.add(pesel)
                chosen.append({"pesel": pesel, "data_sets": list(sets)})
                break
    return chosen


def write_config(
    directory: Path, seed: int, port: int, gminas: int = DEFAULT_GMINAS
) -> tuple[Path, list[dict[str, Any]]]:
    """The demo's platforma.toml (relative paths) and the users with their demo passwords.

    Groups and rules of the OPS and SR are written for every unit of the kind (`*OPS`, `*SR`); the first
    gmina's units are explicit offices (codes OPS, SR), the others `[[gminas]]`.
    """
    places = gmina_list(gminas)
    users: list[dict[str, Any]] = []
    for office, group, _name, login, _scope, _bases in GROUPS:
        users.append(
            {
                "login": login,
                "password": demo_password(seed, login),
                "office": office,
                "group": group,
                "roles": ["UZYTKOWNIK"],
            }
        )
    for office, group, _name, login, roles in SERVICE_ACCOUNTS:
        users.append(
            {
                "login": login,
                "password": demo_password(seed, login),
                "office": office,
                "group": group,
                "roles": list(roles),
            }
        )
    document: dict[str, Any] = {
        "hub": {
            "name": "Powiat demonstracyjny (dane syntetyczne)",
            "database": "sqlite:///hub.sqlite",
            "audit_database": f"sqlite:///{AUDIT_DATABASE}",
            "listen": "127.0.0.1",
            "port": port,
            "max_request_bytes": 1_048_576,
            "credential_cache_seconds": 60,
            "audit_key": AUDIT_KEY,
        },
        "powiat": {"name": "Powiat demonstracyjny", "replica": "replicas/{code}.sqlite"},
        "offices": [
            {"code": c, "name": n, "kind": k} | ({} if c == "PUP" else {"gmina": places[0][0]}) for c, n, k in OFFICES
        ],
        "data_sets": [
            {"code": code, "kind": code, "controller": code, "replica": f"sqlite:///replicas/{code.lower()}.sqlite"}
            for code in ("PUP", "OPS", "SR")
        ],
        # The first gmina's units are the explicit OPS and SR above (units = []); the others' are made by convention.
        "gminas": [
            {"teryt": teryt, "name": name, "units": ["OPS", "SR"] if number else []}
            for number, (teryt, name) in enumerate(places)
        ],
        "groups": [{"code": g, "office": _kind_wide(o), "name": n} for o, g, n, _l, _s, _b in GROUPS]
        + [
            {"code": g, "office": _kind_wide(o), "name": n}
            for o, g, n in dict.fromkeys((o, g, n) for o, g, n, _l, _r in SERVICE_ACCOUNTS)
        ],
        "users": [
            {
                "login": u["login"],
                "office": u["office"],
                "group": u["group"],
                "password_hash": hash_password(u["password"]),
                "roles": u["roles"],
            }
            for u in users
        ],
        "legal_bases": list(LEGAL_BASES),
        "rules": [
            {
                "office": _kind_wide(o),
                "group": g,
                "data_set": _kind_wide(data_set),
                "categories": categories,
                "legal_bases": bases.get(data_set, []),
            }
            for o, g, _n, _l, scope, bases in GROUPS
            for data_set, categories in scope.items()
        ],
    }
    path = directory / "platforma.toml"
    header = "# Konfiguracja demonstracyjnego powiatu (dane syntetyczne). Wygenerowano: platforma demo.\n"
    write_private(path, header + tomli_w.dumps(document))
    return path, users


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read, whatever the process's umask (an existing one made so too)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)
        handle.write(text)


_log = logging.getLogger(__name__)

#: What the demo writes in its folder (with the names of earlier layouts), and the folders it owns whole.
DEMO_FILES = (
    "platforma.toml",
    "demo-state.json",
    "demo.json",
    "hub.sqlite",
    "replica.sqlite",  # the hub database of a demo made before it was named hub.sqlite
    "audit.sqlite",
    "klucz-audytu.pem",
)
DEMO_FOLDERS = ("dziedzinowe", "replicas", "audyt", "klucze", *DOCUMENT_FOLDERS)
_SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def _clear_unfinished(directory: Path) -> bool:
    """Remove what an unfinished preparation left (no demo-state.json: killed, or failed): its checkpoint key made
    every later run fail ("klucz już istnieje") and its half-made databases would be reused. Only the demo's own
    names are removed, and no symbolic link is followed. Whether anything was."""
    removed = False
    for name in DEMO_FOLDERS:
        folder = directory / name
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
            removed = True
    for name in DEMO_FILES:
        for suffix in _SQLITE_SIDE_FILES:
            path = directory / (name + suffix)
            if path.is_file() and not path.is_symlink():
                path.unlink()
                removed = True
    return removed


def make_private(directory: Path) -> None:
    """Folders 0700 and files 0600 for what the demo writes: a demo made by an earlier version, or with a
    wider umask, is closed too. Only the demo's own names are touched (`--dir` may name a folder that holds
    other things), and symbolic links are left alone (they may point outside the demo)."""
    directory.chmod(PRIVATE_FOLDER)
    for name in DEMO_FOLDERS:
        folder = directory / name
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(PRIVATE_FOLDER)
            for path in folder.iterdir():
                if path.is_file() and not path.is_symlink():
                    path.chmod(PRIVATE_FILE)
    for name in DEMO_FILES:
        for suffix in _SQLITE_SIDE_FILES:
            path = directory / (name + suffix)
            if path.is_file() and not path.is_symlink():
                path.chmod(PRIVATE_FILE)


def _anchor_an_older_register(state: dict[str, Any]) -> None:
    """A demo register made before checkpoints were anchored outside the database has signed checkpoints
    and no anchor file, which the hub refuses (docs/audit.md): for the demo's synthetic register its state
    is accepted once, recorded in the register as an operator's acceptance would be."""
    hub = config_module.load(state["config"]).hub
    if hub.audit_key is None:
        return
    store = AuditStore(hub.audit_database, key_file=hub.audit_key, anchor_file=hub.audit_anchors)
    try:
        if store.anchors is not None and not store.anchors.exists() and store.checkpoints():
            store.accept("platforma demo", "katalog demonstracji sprzed kotwic punktów kontrolnych")
    finally:
        store.dispose()


def prepare(
    directory: Path,
    *,
    seed: int = 1,
    sizes: DemoSizes = DemoSizes(),
    port: int = 8080,
    progress: Callable[[str, int, int], Callable[[int], None]] | None = None,
    gminas: int = DEFAULT_GMINAS,
) -> dict[str, Any]:
    """Create (or reuse) the demo in `directory`; return the contents of demo.json (without URLs).

    A demo made earlier is reused as it is, with the gminas it was made with (`--gminas` applies to a new one).
    """
    directory = directory.resolve()
    directory.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    with _preparing(directory, progress):
        return _prepare(directory, seed, sizes, port, progress, gminas)


@contextlib.contextmanager
def _preparing(directory: Path, progress: Callable[[str, int, int], Callable[[int], None]] | None) -> Iterator[None]:
    """One preparation of a folder at a time: two `demo` runs started together in one folder both made its
    databases, keys and replicas, each over the other's. The second now waits for the first (an exclusive
    `flock`, released when the first ends or dies) and then reuses what it made."""
    descriptor = os.open(directory / ".przygotowanie.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # one made before with wider modes is closed, as the folder's files are
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if progress is not None:
                progress(f"Czekanie na inne uruchomienie demo, które przygotowuje katalog {directory}", 1, 0)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _prepare(
    directory: Path,
    seed: int,
    sizes: DemoSizes,
    port: int,
    progress: Callable[[str, int, int], Callable[[int], None]] | None,
    gminas: int,
) -> dict[str, Any]:
    state_path = directory / "demo-state.json"
    if state_path.exists():
        state: dict[str, Any] = json.loads(state_path.read_text(encoding="utf-8"))
        if state.get("uklad_replik") != LAYOUT:
            raise ConfigurationError(
                f"Katalog demonstracji {directory} pochodzi z wcześniejszej wersji (inny układ replik). "
                "Usuń go albo wskaż inny (--dir) i uruchom demonstrację ponownie: powstanie od nowa."
            )
        make_private(directory)
        check_crls(directory)
        _anchor_an_older_register(state)
        return state
    if _clear_unfinished(directory):
        _log.warning(
            "Poprzednie przygotowanie demonstracji w katalogu %s nie zakończyło się (przerwane albo nieudane); "
            "jego pliki usunięto i demonstracja powstaje od nowa.",
            directory,
        )
    for folder in ("dziedzinowe", "replicas", Path(AUDIT_DATABASE).parent, Path(AUDIT_KEY).parent):
        (directory / folder).mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
    total = sizes.pup + sizes.ops + sizes.sr
    step = progress("Generowanie baz dziedzinowych urzędów", total, 0) if progress else None
    # Each office's domain database in its adapter's reference schema; the replicas are then fed
    # through the adapters (guideline 4), as the offices' feeding modules do.
    summary = write_domain_databases(seed, directory / "dziedzinowe", sizes.pup, sizes.ops, sizes.sr, progress=step)
    generate_key(directory / AUDIT_KEY)
    config_path, users = write_config(directory, seed, port, gminas)
    config = config_module.load(config_path)
    reports: list[FeedSummary] = []
    for data_set in ("PUP", "OPS", "SR"):
        count = summary.counts[data_set]
        step = progress(f"Zasilanie repliki {data_set} (moduł zasilający)", count, 0) if progress else None
        reports.append(_feed(config, data_set, summary.urls[data_set], step))
    units = write_gmina_units(directory / "dziedzinowe", config, seed, sizes, summary.known_to, progress)
    state = {
        "config": str(config_path),
        "seed": seed,
        "users": users,
        "beneficiaries": _pick_beneficiaries(summary.known_to),
        "loaded": {data_set: r.applied for data_set, r in zip(("PUP", "OPS", "SR"), reports, strict=True)},
        # People a feeding module could not express in the model, by source key (never silently left out).
        "rejected": {
            data_set: [key for key, _reason in r.rejected]
            for data_set, r in zip(("PUP", "OPS", "SR"), reports, strict=True)
        },
        "domain_databases": summary.urls | units.urls,
        "audit_database": AUDIT_DATABASE,
        "uklad_replik": LAYOUT,
        "offices": offices_of(config),
        "moved": units.moved,
    }
    state["loaded"].update(units.loaded)
    # Issue 15: the test PKI, the hub seal, signers and a few documents (demo/documents.py).
    state.update(prepare_documents(directory, state, seed))
    write_private(state_path, json.dumps(state, ensure_ascii=False, indent=2))
    make_private(directory)
    return state


def _feed(config: config_module.Config, code: str, source: str, step: Callable[[int], None] | None) -> FeedSummary:
    """One unit's full run: its kind's adapter over its domain database, into its replica."""
    target = config.data_set(code)
    assert target is not None and target.replica is not None
    adapter = adapter_class(target.kind.lower())(source)  # type: ignore[call-arg]
    replica = ReplicaTarget(target.replica, target.kind, data_set=target.code, controller=target.controller)
    try:
        return Feeder(adapter, replica, progress=step, data_set=target.code).run(FULL)
    finally:
        replica.close()
        adapter.close()


@dataclass
class GminaUnits:
    """What `write_gmina_units` made: domain databases and people fed per data set, and who moved where."""

    urls: dict[str, str] = field(default_factory=dict)
    loaded: dict[str, int] = field(default_factory=dict)
    moved: list[dict[str, Any]] = field(default_factory=list)


def write_gmina_units(
    folder: Path,
    config: config_module.Config,
    seed: int,
    sizes: DemoSizes,
    known_to: dict[str, tuple[str, ...]],
    progress: Callable[[str, int, int], Callable[[int], None]] | None = None,
) -> GminaUnits:
    """The OPS and SR units of the gminas after the first: each knows a few people of its own and a few who
    moved there from the first gmina (known to its OPS and SR too), so a query by kind finds some people in
    two units. Each unit's domain database is fed into its replica by its adapter, as for the first gmina."""
    units = GminaUnits()
    others = [g for g in config.gminas if g.units]  # the first gmina's units are fed with the PUP
    if not others:
        return units
    # The first gmina's people, made again from the seed (the same people write_domain_databases wrote).
    first = [person for person, sets in membership(Population(seed), sizes.pup, sizes.ops, sizes.sr) if sets == KINDS]
    for number, gmina in enumerate(others, start=2):
        population = Population(seed * 1000 + number)
        population._next_key = 1_000_000 * number  # keys apart from the first gmina's people who moved here
        moved = first[number - 2 :: len(others)][:MOVED_PER_GMINA]
        own = [population.parent_with_children() for _ in range(max(3, sizes.ops // (2 * len(others) + 4)))]
        for person in moved:
            known_to[person.pesel] = (*known_to.get(person.pesel, ()), f"OPS-{gmina.teryt}", f"SR-{gmina.teryt}")
            units.moved.append({"pesel": person.pesel, "data_sets": list(known_to[person.pesel])})
        for kind in ("OPS", "SR"):
            code = f"{kind}-{gmina.teryt}"
            url = f"sqlite:///{folder / (code.lower() + '-dziedzinowa.sqlite')}"
            people = moved + (own if kind == "OPS" else own[: len(own) // 2 + 1])
            step = progress(f"Jednostka {code} ({gmina.name})", len(people), 0) if progress else None
            write_people_database(url, kind, population, people)
            units.urls[code] = url
            units.loaded[code] = _feed(config, code, url, step).applied
    return units


def offices_of(config: config_module.Config) -> list[dict[str, Any]]:
    """demo.json's offices: code, name, kind, gmina (TERC and name, none for the powiat's PUP), data sets."""
    listed = []
    for office in config.offices:
        gmina = config.gmina(office.gmina)
        listed.append(
            {
                "code": office.code,
                "name": office.name,
                "kind": office.kind,
                "gmina": office.gmina,
                "gmina_name": gmina.name if gmina else None,
                "data_sets": [d.code for d in config.data_sets if d.controller == office.code],
            }
        )
    return listed


def write_demo_json(directory: Path, state: dict[str, Any], base_url: str) -> Path:
    """demo.json: service WSDLs, users, offices with their gminas and data sets, and people known to one,
    two and three data sets, and people who moved between gminas (known to several units of a kind)."""
    document = {
        "wsdl": {name: f"{base_url}/soap/{name}?wsdl" for name in ("zapytania", "konta", "audyt", "zasilanie")},
        "users": state["users"],
        "offices": state.get("offices", []),
        "beneficiaries": state["beneficiaries"],
        "moved": state.get("moved", []),
        "config": state["config"],
        "audit_database": str(Path(state["config"]).parent / _audit_database(state)),
    }
    add_demo_json_entries(document, state, base_url)  # issue 15: documents WSDL, signers' keys, trust
    path = directory.resolve() / "demo.json"
    write_private(path, json.dumps(document, ensure_ascii=False, indent=2))
    return path


def _audit_database(state: dict[str, Any]) -> str:
    """The register's file, relative to the demo folder (a demo made before `audyt/` keeps its own)."""
    return str(state.get("audit_database", "audit.sqlite"))
