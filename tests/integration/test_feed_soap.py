"""Feeding over real SOAP: domain database → adapter → /soap/zasilanie → replica → query, on a real hub.

The hub is `platforma demo` on a loopback port (its own folder: these tests change its replicas and its
domain databases). Every bad input must end in a fault with a stable code, and leave the live replica
exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import Client
from zeep.wsse.username import UsernameToken

from adapters import adapter_class
from adapters.base import ModelRecord, SourceUnavailable
from adapters.feeder import FULL, INCREMENTAL, Feeder, FeedError, FeedOptions
from adapters.targets import ReplicaTarget, SoapTarget
from audit import EventKind
from audit.sql import SqlEventLog
from replica.feed import BatchHeader
from replica.sections import unpack_sections
from tests.integration.conftest import MODEL, RunningHub, start_demo_hub

FEED = "urn:pl:platforma-komunikacyjna:zasilanie:1"
F = "{" + FEED + "}"
URPSZ = "URPSZ-2025"
PURPOSE = "Sprawdzenie zasilenia repliki (test)"


@pytest.fixture(scope="module")
def powiat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_demo_hub(tmp_path_factory.mktemp("zasilanie"))
    yield running
    running.process.terminate()
    try:
        running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.process.kill()


def feed_url(hub: RunningHub) -> str:
    return hub.endpoint.rsplit("/", 1)[0] + "/zasilanie"


def domain(hub: RunningHub, data_set: str) -> Path:
    return hub.directory / "dziedzinowe" / f"{data_set.lower()}-dziedzinowa.sqlite"


def replica(hub: RunningHub, data_set: str) -> Path:
    return hub.directory / "replicas" / f"{data_set.lower()}.sqlite"


def run_feed(hub: RunningHub, data_set: str, mode: str, **options: Any) -> Any:
    login = f"{data_set.lower()}.system"
    adapter = adapter_class(data_set.lower())(f"sqlite:///{domain(hub, data_set)}")  # type: ignore[call-arg]
    target = SoapTarget(feed_url(hub), login, hub.user(login)["password"])
    on_batch = options.pop("on_batch", None)
    try:
        return Feeder(adapter, target, FeedOptions(**options), on_batch=on_batch).run(mode)
    finally:
        target.close()
        adapter.close()


def fingerprint(hub: RunningHub, data_set: str) -> tuple[int, str]:
    """(live people, SHA-256 over their source keys and sections): what a query can see."""
    return replica_fingerprint(replica(hub, data_set))


def replica_fingerprint(path: Path) -> tuple[int, str]:
    """`fingerprint` of the replica database in `path`."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT o.id_zrodlowy, s.spis, s.tresc FROM osoby o JOIN sekcje s ON s.osoba_id = o.id "
            "WHERE o.generacja = (SELECT generacja FROM stan_repliki) ORDER BY o.id_zrodlowy"
        ).fetchall()
        people = connection.execute(
            "SELECT count(*) FROM osoby WHERE generacja = (SELECT generacja FROM stan_repliki)"
        ).fetchone()[0]
    finally:
        connection.close()
    digest = hashlib.sha256()
    for key, index, content in rows:
        for name, body in sorted(unpack_sections(index, content).items()):
            digest.update(key.encode() + b"\0" + name.encode() + b"\0" + body)
    return int(people), digest.hexdigest()


def source_count(hub: RunningHub, data_set: str) -> int:
    connection = sqlite3.connect(domain(hub, data_set))
    try:
        if data_set == "SR":
            sql = (
                "SELECT count(*) FROM osoba o WHERE czy_usunieta = 0 "
                "AND EXISTS (SELECT 1 FROM decyzja d WHERE d.id_osoby = o.id_osoby)"
            )
        else:
            sql = "SELECT count(*) FROM osoba WHERE czy_usunieta = 0"
        return int(connection.execute(sql).fetchone()[0])
    finally:
        connection.close()


def ask(hub: RunningHub, pesel: str, scope: dict[str, list[str]]) -> Any:
    user = hub.user("pup.kierownik")
    client = Client(hub.wsdl, wsse=UsernameToken(user["login"], user["password"]))
    return client.service.ZapytanieOBeneficjenta(
        Zapytanie={
            "IdentyfikatorBeneficjenta": {"Pesel": pesel},
            "PodstawaPrawna": URPSZ,
            "Cel": PURPOSE,
            "Zbiory": {"Zbior": [{"Kod": c, "Zakres": {"Kategoria": k}} for c, k in scope.items()]},
        }
    )


def envelope(login: str, password: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
        '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
        f"<wsse:UsernameToken><wsse:Username>{login}</wsse:Username><wsse:Password>{password}</wsse:Password>"
        f"</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def post(hub: RunningHub, body: str | bytes, login: str = "pup.system") -> requests.Response:
    data = body if isinstance(body, bytes) else envelope(login, hub.user(login)["password"], body)
    return requests.post(feed_url(hub), data=data, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=60)


def fault_code(response: requests.Response) -> str:
    root = etree.fromstring(response.content)
    code = root.findtext(f".//{MODEL}Blad/{MODEL}Kod")
    assert code is not None, response.text[:500]
    assert root.findtext(".//faultstring"), "a Polish fault string"
    return code


def person_record(key: str, pesel: str, surname: str = "Testowa", birth: str = "1990-05-17") -> str:
    return (
        f"<Rekord><IdZrodlowy>{key}</IdZrodlowy><DanePUP>"
        f'<m:DaneOsobowe xmlns:m="urn:pl:platforma-komunikacyjna:model:1"><m:Nazwisko>{surname}</m:Nazwisko>'
        f"<m:Imie>Anna</m:Imie><m:Pesel>{pesel}</m:Pesel><m:DataUrodzenia>{birth}</m:DataUrodzenia>"
        "<m:Plec>K</m:Plec></m:DaneOsobowe></DanePUP></Rekord>"
    )


def batch(records: str, data_set: str = "PUP", kind: str = "PRZYROSTOWA", extra: str = "") -> str:
    return f'<Paczka xmlns="{FEED}" Zbior="{data_set}" Rodzaj="{kind}" {extra}>{records}</Paczka>'


# -- the whole path, for the three kinds ------------------------------------------------------------------------
def test_full_feed_over_soap_gives_back_what_each_domain_database_holds(powiat: RunningHub) -> None:
    for data_set in ("PUP", "OPS", "SR"):
        summary = run_feed(powiat, data_set, FULL, batch_records=40)
        assert summary.rejected == [] and summary.batches > 1, summary
        assert fingerprint(powiat, data_set)[0] == source_count(powiat, data_set) == summary.applied
    pesel = powiat.person("PUP", "OPS", "SR")
    answer = ask(
        powiat,
        pesel,
        {
            "PUP": ["DANE_OSOBOWE", "OKRESY_REJESTRACJI", "POBRANE_ZASILKI"],
            "OPS": ["DANE_OSOBOWE", "SWIADCZENIA"],
            "SR": ["DANE_OSOBOWE", "DANE_DZIECI", "WYPLACONE_SWIADCZENIA"],
        },
    )
    results = {r.Zbior: r for r in answer.Wyniki.Wynik}
    assert {r.Status for r in results.values()} == {"OK"}
    pup = sqlite3.connect(domain(powiat, "PUP"))
    surname, key = pup.execute("SELECT nazwisko, id_osoby FROM osoba WHERE pesel = ?", (pesel,)).fetchone()
    periods = pup.execute("SELECT count(*) FROM rejestracja WHERE id_osoby = ?", (key,)).fetchone()[0]
    payments = pup.execute(
        "SELECT count(*) FROM wyplata w JOIN sl_swiadczenie s ON s.kod = w.kod_swiadczenia "
        "WHERE w.id_osoby = ? AND s.rodzaj = 'Z'",
        (key,),
    ).fetchone()[0]
    data = results["PUP"].DanePUP
    assert data.DaneOsobowe.Nazwisko == surname
    assert len(data.OkresyRejestracji.OkresRejestracji) == periods
    assert len(data.PobraneZasilki.PobranyZasilek if data.PobraneZasilki else []) == payments
    ops = sqlite3.connect(domain(powiat, "OPS"))
    ops_key = ops.execute("SELECT id_osoby FROM osoba WHERE pesel = ?", (pesel,)).fetchone()[0]
    benefits = ops.execute("SELECT count(*) FROM swiadczenie WHERE id_osoby = ?", (ops_key,)).fetchone()[0]
    assert len(results["OPS"].DaneOPS.Swiadczenia.Swiadczenie) == benefits
    sr = sqlite3.connect(domain(powiat, "SR"))
    sr_key = sr.execute("SELECT id_osoby FROM osoba WHERE pesel = ?", (pesel,)).fetchone()[0]
    child_pesels = {
        row[0]
        for row in sr.execute(
            "SELECT c.pesel FROM decyzja d JOIN decyzja_dziecko dd ON dd.id_decyzji = d.id_decyzji "
            "JOIN osoba c ON c.id_osoby = dd.id_osoby_dziecka WHERE d.id_osoby = ?",
            (sr_key,),
        )
    }
    assert {c.Pesel for c in results["SR"].DaneSR.DaneDzieci.Dziecko} == child_pesels
    paid = sr.execute(
        "SELECT count(*) FROM wyplata w JOIN decyzja d ON d.id_decyzji = w.id_decyzji WHERE d.id_osoby = ?", (sr_key,)
    ).fetchone()[0]
    assert len(results["SR"].DaneSR.WyplaconeSwiadczenia.Wyplata) == paid
    for connection in (pup, ops, sr):
        connection.close()


def test_incremental_run_carries_changes_additions_deletions_and_removals(powiat: RunningHub) -> None:
    run_feed(powiat, "PUP", FULL)
    path = domain(powiat, "PUP")
    now = dt.datetime.now().replace(microsecond=0) + dt.timedelta(seconds=1)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.000000")
    connection = sqlite3.connect(path)
    people = connection.execute(
        "SELECT id_osoby, pesel FROM osoba WHERE czy_usunieta = 0 ORDER BY id_osoby LIMIT 4"
    ).fetchall()
    (changed, changed_pesel), (deleted, deleted_pesel), (removed, removed_pesel), (history, history_pesel) = people
    connection.execute(
        "UPDATE osoba SET nazwisko = 'Zmienionazwisko', data_modyfikacji = ? WHERE id_osoby = ?", (stamp, changed)
    )
    for table in ("adres", "rejestracja", "wyplata", "kontakt", "kwalifikacja", "historia_statusu", "osoba"):
        connection.execute(f"DELETE FROM {table} WHERE id_osoby = ?", (deleted,))  # noqa: S608
    connection.execute("UPDATE osoba SET czy_usunieta = 1, data_modyfikacji = ? WHERE id_osoby = ?", (stamp, removed))
    connection.execute(
        "INSERT INTO kontakt (id_kontaktu, id_osoby, rodzaj, miejsce, data_planowana, data_faktyczna, "
        "data_modyfikacji) VALUES (9999001, ?, 'Wizyta u doradcy klienta', 'pokój 1', '2026-12-01', NULL, ?)",
        (history, stamp),
    )
    new_pesel = "90051712344"  # valid check digit, 17 May 1990, female
    connection.execute(
        "INSERT INTO osoba (id_osoby, nazwisko, imie, pesel, data_urodzenia, plec, czy_usunieta, data_modyfikacji) "
        "VALUES (9999002, 'Nowakowska', 'Ewa', ?, '1990-05-17', 'K', 0, ?)",
        (new_pesel, stamp),
    )
    connection.commit()
    connection.close()
    time.sleep(1.1)  # the change is in the past when the run takes its upper bound
    before = fingerprint(powiat, "PUP")[0]
    summary = run_feed(powiat, "PUP", INCREMENTAL)
    assert summary.read == 5 and summary.deleted == 2 and summary.applied == 3, summary
    assert fingerprint(powiat, "PUP")[0] == before - 2 + 1 == source_count(powiat, "PUP")
    scope = {"PUP": ["DANE_OSOBOWE", "WIZYTY"]}
    assert ask(powiat, changed_pesel, scope).Wyniki.Wynik[0].DanePUP.DaneOsobowe.Nazwisko == "Zmienionazwisko"
    for gone in (deleted_pesel, removed_pesel):
        assert ask(powiat, gone, scope).Wyniki.Wynik[0].Status == "BRAK_DANYCH"
    visits = ask(powiat, history_pesel, scope).Wyniki.Wynik[0].DanePUP.Wizyty.Wizyta
    assert any(v.Miejsce == "pokój 1" for v in visits)
    assert ask(powiat, new_pesel, scope).Wyniki.Wynik[0].DanePUP.DaneOsobowe.Imie == "Ewa"
    # Nothing changed since: the next incremental run sends nothing and changes nothing.
    again = run_feed(powiat, "PUP", INCREMENTAL)
    assert again.read == 0 and again.sent == 0


def test_killed_feeder_resumes_without_loss_and_without_duplicates(powiat: RunningHub, tmp_path: Path) -> None:
    password = tmp_path / "haslo"
    password.write_text(powiat.user("ops.system")["password"], encoding="utf-8")
    command = [
        sys.executable, "-m", "hub.cli", "feed", "--adapter", "ops", "--source", f"sqlite:///{domain(powiat, 'OPS')}",
        "--target", feed_url(powiat), "--full", "--login", "ops.system", "--password-file", str(password),
        "--batch-records", "2", "--quiet",
    ]  # fmt: skip
    before = fingerprint(powiat, "OPS")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    state = sqlite3.connect(f"file:{replica(powiat, 'OPS')}?mode=ro", uri=True)
    deadline = time.monotonic() + 60
    open_run = None
    while time.monotonic() < deadline:
        row = state.execute("SELECT id_zasilenia_roboczego, numer_paczki_roboczej FROM stan_repliki").fetchone()
        if row and row[0] and row[1] >= 5:
            open_run = row[0]
            break
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert open_run is not None, "the feeder finished before it could be killed"
    # Killed half-way: the open snapshot is not visible; queries still see the old one.
    assert fingerprint(powiat, "OPS") == before
    sent_before_kill = state.execute(
        "SELECT max(numer_paczki_roboczej) FROM stan_repliki WHERE id_zasilenia_roboczego = ?", (open_run,)
    ).fetchone()[0]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=dict(os.environ, COLUMNS="200"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wznowione" in result.stdout and open_run in result.stdout
    numbers = [
        n for (n,) in state.execute("SELECT numer_paczki FROM zasilenia WHERE id_zasilenia = ? ORDER BY 1", (open_run,))
    ]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) > sent_before_kill  # no gap, no repeat
    applied = state.execute("SELECT sum(rekordy) FROM zasilenia WHERE id_zasilenia = ?", (open_run,)).fetchone()[0]
    state.close()
    people, _digest = fingerprint(powiat, "OPS")
    assert people == applied == source_count(powiat, "OPS")


class HoldingProxy:
    """An HTTP proxy before the hub's feed service that passes `passes` batches (`Paczka`) and holds the next
    one unanswered: the feeder waits there, its earlier batches applied, until the test kills it."""

    def __init__(self, target: str, passes: int) -> None:
        self.target, self.passes, self.batches = target, passes, 0
        self.holding, self.release = threading.Event(), threading.Event()
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if b"<Paczka" in body:
                    proxy.batches += 1
                    if proxy.batches > proxy.passes:
                        proxy.holding.set()
                        proxy.release.wait(120)
                        return  # never forwarded, never answered
                answer = requests.post(
                    proxy.target, data=body, headers={"Content-Type": self.headers["Content-Type"]}, timeout=60
                )
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "text/xml"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/soap/zasilanie"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_killed_incremental_feed_resumes_the_same_run_and_the_replica_equals_the_source(
    powiat: RunningHub, tmp_path: Path
) -> None:
    run_feed(powiat, "PUP", FULL)
    path = domain(powiat, "PUP")
    stamp = (dt.datetime.now().replace(microsecond=0) + dt.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S.000000")
    connection = sqlite3.connect(path)
    query = "SELECT id_osoby FROM osoba WHERE czy_usunieta = 0 ORDER BY id_osoby DESC LIMIT 10"
    keys = [key for (key,) in connection.execute(query)]
    connection.executemany(
        "UPDATE osoba SET nazwisko = nazwisko || '-Wznowiona', data_modyfikacji = ? WHERE id_osoby = ?",
        [(stamp, key) for key in keys[1:]],
    )
    connection.execute("UPDATE osoba SET czy_usunieta = 1, data_modyfikacji = ? WHERE id_osoby = ?", (stamp, keys[0]))
    connection.commit()
    connection.close()
    time.sleep(1.1)  # the changes are in the past when the run takes its upper bound
    password = tmp_path / "haslo"
    password.write_text(powiat.user("pup.system")["password"], encoding="utf-8")

    def command(target: str) -> list[str]:
        return [
            sys.executable, "-m", "hub.cli", "feed", "--adapter", "pup", "--source", f"sqlite:///{path}",
            "--target", target, "--incremental", "--login", "pup.system", "--password-file", str(password),
            "--batch-records", "2", "--quiet",
        ]  # fmt: skip

    # Ten changed people in batches of two: five batches; the third is held until the feeder is killed.
    proxy = HoldingProxy(feed_url(powiat), passes=2)
    feeder = subprocess.Popen(
        command(proxy.url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        assert proxy.holding.wait(60), feeder.communicate(timeout=5)[0].decode(errors="replace")
        with sqlite3.connect(f"file:{replica(powiat, 'PUP')}?mode=ro", uri=True) as state:
            run_id, number = state.execute("SELECT id_zasilenia, numer_paczki FROM stan_repliki").fetchone()
        assert number == 2 and run_id
        os.killpg(feeder.pid, signal.SIGKILL)  # a real kill: no handler, no clean-up, in the middle of batch 3
        feeder.wait(timeout=10)
    finally:
        if feeder.poll() is None:
            os.killpg(feeder.pid, signal.SIGKILL)
            feeder.wait(timeout=10)
        proxy.close()
    assert feeder.returncode == -signal.SIGKILL

    again = subprocess.run(
        command(feed_url(powiat)), capture_output=True, text=True, timeout=120, env=dict(os.environ, COLUMNS="200")
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"Zasilenie wznowione {run_id}" in again.stdout, again.stdout
    with sqlite3.connect(f"file:{replica(powiat, 'PUP')}?mode=ro", uri=True) as state:
        rows = state.execute("SELECT numer_paczki FROM zasilenia WHERE id_zasilenia = ? ORDER BY 1", (run_id,))
        numbers = [n for (n,) in rows]
        applied, deleted = state.execute(
            "SELECT sum(rekordy), sum(usuniete) FROM zasilenia WHERE id_zasilenia = ?", (run_id,)
        ).fetchone()
    assert numbers == [1, 2, 3, 4, 5] and (applied, deleted) == (9, 1)  # the same run, from number 3 on
    # The replica the hub reads equals the source: exactly what a full run over the source gives.
    fresh = tmp_path / "pelna.sqlite"
    adapter = adapter_class("pup")(f"sqlite:///{path}")  # type: ignore[call-arg]
    target = ReplicaTarget(f"sqlite:///{fresh}", "PUP")
    try:
        Feeder(adapter, target).run(FULL)
    finally:
        target.close()
        adapter.close()
    assert fingerprint(powiat, "PUP") == replica_fingerprint(fresh)
    assert fingerprint(powiat, "PUP")[0] == source_count(powiat, "PUP")


# -- bad input ------------------------------------------------------------------------------------------------
@pytest.fixture
def unchanged(powiat: RunningHub) -> Iterator[None]:
    before = fingerprint(powiat, "PUP")
    yield
    assert fingerprint(powiat, "PUP") == before, "a refused batch must leave the replica exactly as it was"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (lambda: batch(person_record("X-1", "90051712344")).replace("</Paczka>", "<Paczka>"), "NIEPRAWIDLOWY_XML"),
        (
            lambda: batch(person_record("X-1", "90051712344").replace("<DanePUP>", "<Nieznany/><DanePUP>")),
            "NIEZGODNOSC_ZE_SCHEMATEM",
        ),
        (lambda: batch(person_record("X-1", "90051712344", birth="1990-02-30")), "NIEZGODNOSC_ZE_SCHEMATEM"),
        (lambda: batch(person_record("X-1", "90051712344"), data_set="OPS"), "BRAK_UPRAWNIEN"),
        (lambda: batch(person_record("X-1", "90051712344"), data_set="XYZ"), "NIEZNANY_ZBIOR"),
        (lambda: batch(person_record("X-1", "90051712344") * 2), "ZDUPLIKOWANA_OSOBA"),
        (
            lambda: batch(person_record("X-1", "90051712344"), extra='IdZasilenia="obcy" NumerPaczki="7"'),
            "NIECIAGLOSC_ZASILENIA",
        ),
        (
            lambda: '<Paczka xmlns="' + FEED + '" Zbior="PUP" Rodzaj="PRZYROSTOWA"><!DOCTYPE x></Paczka>',
            "NIEDOZWOLONA_KONSTRUKCJA_XML",
        ),
    ],
    ids=["malformed", "schema", "impossible-date", "other-office", "unknown-set", "duplicate", "gap", "dtd"],
)
def test_a_bad_batch_is_refused_with_a_stable_code(
    powiat: RunningHub, unchanged: None, body: Any, expected: str
) -> None:
    response = post(powiat, body())
    assert response.status_code == 500
    assert fault_code(response) == expected


def test_a_user_without_the_feeding_role_cannot_feed(powiat: RunningHub, unchanged: None) -> None:
    response = post(powiat, batch(person_record("X-1", "90051712344")), login="pup.kierownik")
    assert fault_code(response) == "BRAK_UPRAWNIEN"


def test_oversize_payload_is_refused_before_it_is_stored(powiat: RunningHub, unchanged: None) -> None:
    records = "".join(person_record(f"X-{i}", "90051712344") for i in range(4000))
    response = post(powiat, batch(records))
    assert response.status_code == 413
    assert fault_code(response) == "ZBYT_DUZE_ZAPYTANIE"


def applied_digest(batch_xml: str, applied: list[str]) -> str:
    """`SkrotSHA256` of a receipt, recomputed from the batch sent, as replica/writer.py computes it: SHA-256
    over the applied records in order, a person as the Exclusive XML C14N 1.0 of each of its sections, a
    deletion as `D`, the source key and a new line."""
    digest = hashlib.sha256()
    for record in etree.fromstring(batch_xml.encode()).iterfind(f"{F}Rekord"):
        key = str(record.findtext(f"{F}IdZrodlowy"))
        if key not in applied:
            continue
        if record.findtext(f"{F}Usuniety") == "true":
            digest.update(b"D" + key.encode() + b"\n")
            continue
        for section in record.iterfind(f"{F}DanePUP/*"):
            digest.update(etree.tostring(section, method="c14n", exclusive=True))
    return digest.hexdigest()


def test_an_invalid_pesel_rejects_only_that_record_and_names_its_key(powiat: RunningHub) -> None:
    before = fingerprint(powiat, "PUP")[0]
    records = person_record("X-ZLY", "90051712345") + person_record("X-DOBRY", "85020312340", surname="Dobra")
    response = post(powiat, batch(records))
    assert response.status_code == 200, response.text[:500]
    receipt = etree.fromstring(response.content).find(f".//{F}Pokwitowanie")
    assert receipt is not None
    assert receipt.findtext(f"{F}Zastosowano") == "1" and receipt.findtext(f"{F}Odrzucono") == "1"
    assert receipt.findtext(f"{F}Odrzucone/{F}Odrzucenie/{F}IdZrodlowy") == "X-ZLY"
    assert "PESEL" in (receipt.findtext(f"{F}Odrzucone/{F}Odrzucenie/{F}Powod") or "")
    assert receipt.findtext(f"{F}SkrotSHA256") == applied_digest(batch(records), ["X-DOBRY"])
    assert fingerprint(powiat, "PUP")[0] == before + 1
    deletion = batch("<Rekord><IdZrodlowy>X-DOBRY</IdZrodlowy><Usuniety>true</Usuniety></Rekord>")
    receipt = etree.fromstring(post(powiat, deletion).content).find(f".//{F}Pokwitowanie")
    assert receipt is not None and receipt.findtext(f"{F}SkrotSHA256") == applied_digest(deletion, ["X-DOBRY"])
    assert fingerprint(powiat, "PUP")[0] == before


def test_an_impossible_date_at_the_source_rejects_only_that_person(powiat: RunningHub) -> None:
    run_feed(powiat, "OPS", FULL)
    connection = sqlite3.connect(domain(powiat, "OPS"))
    (bad,), (good,) = connection.execute("SELECT id_osoby FROM osoba WHERE czy_usunieta = 0 LIMIT 2").fetchall()
    stamp = (dt.datetime.now() + dt.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S.000000")
    connection.execute("UPDATE osoba SET data_ur = '1984-02-30', data_modyfikacji = ? WHERE id_osoby = ?", (stamp, bad))
    connection.execute("UPDATE osoba SET nazwisko = 'Poprawna', data_modyfikacji = ? WHERE id_osoby = ?", (stamp, good))
    connection.commit()
    connection.close()
    time.sleep(1.1)
    summary = run_feed(powiat, "OPS", INCREMENTAL)
    assert [key for key, _reason in summary.rejected] == [f"POM-{bad}"]
    assert "data urodzenia" in summary.rejected[0][1] and "1984-02-30" not in summary.rejected[0][1]  # not shown
    assert summary.applied == 1


def test_a_source_that_disappears_mid_run_stops_with_a_clear_error(powiat: RunningHub, tmp_path: Path) -> None:
    copy = tmp_path / "pup-kopia.sqlite"
    source = sqlite3.connect(domain(powiat, "PUP"))
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    before = fingerprint(powiat, "PUP")
    seen: list[int] = []

    def vanish(batch: Any, receipt: Any) -> None:
        seen.append(batch.sequence)
        if len(seen) == 2:
            copy.write_bytes(b"\0" * 4096)  # the database file is gone from under the adapter

    adapter = adapter_class("pup")(f"sqlite:///{copy}")  # type: ignore[call-arg]
    login = "pup.system"
    target_soap = SoapTarget(feed_url(powiat), login, powiat.user(login)["password"])
    with pytest.raises(SourceUnavailable) as error:
        Feeder(adapter, target_soap, FeedOptions(batch_records=5, source_batch=20), on_batch=vanish).run(FULL)
    adapter.close()
    target_soap.close()
    assert "niedostępna" in error.value.message
    assert fingerprint(powiat, "PUP") == before  # the open snapshot never became visible


def test_zeep_reads_the_feed_wsdl_and_the_state_operation(powiat: RunningHub) -> None:
    user = powiat.user("sr.system")
    client = Client(feed_url(powiat) + "?wsdl", wsse=UsernameToken(user["login"], user["password"]))
    state = client.service.StanZasilania(Zbior="SR")
    assert state.Zbior == "SR" and state.LiczbaOsob == fingerprint(powiat, "SR")[0]
    with pytest.raises(Exception, match=r"BRAK_UPRAWNIEN|administratorem"):
        client.service.StanZasilania(Zbior="PUP")


def test_feed_error_names_the_hubs_code(powiat: RunningHub, unchanged: None) -> None:
    """A batch the hub refuses: the feeder's error carries the code and the sentence of the hub's fault."""
    login = "pup.system"
    target = SoapTarget(feed_url(powiat), login, powiat.user(login)["password"])
    twice = [ModelRecord("X-DWA-RAZY", "1", True, "DanePUP")] * 2
    try:
        with pytest.raises(FeedError) as refused:
            target.send(BatchHeader("PUP", INCREMENTAL, "dwa-razy-1", "dwa-razy", 1), twice)
    finally:
        target.close()
    assert refused.value.code == "BLAD_ZASILANIA" and refused.value.fault_code == "ZDUPLIKOWANA_OSOBA"
    assert "X-DWA-RAZY" in refused.value.message and refused.value.message.endswith("[ZDUPLIKOWANA_OSOBA]")


def _refusals(hub: RunningHub, login: str) -> list[Any]:
    events = SqlEventLog(f"sqlite:///{hub.demo['audit_database']}")
    try:
        return [e for e in events.events(kind=EventKind.PERMISSION_REFUSED) if e.user == login]
    finally:
        events.dispose()


@pytest.mark.parametrize(
    ("login", "data_set"),
    [("pup.kierownik", "PUP"), ("pup.system", "OPS")],
    ids=["clerk-calls-Zasil", "system-feeds-another-office"],
)
def test_a_refused_feed_is_recorded_as_a_permission_refusal(
    powiat: RunningHub, unchanged: None, login: str, data_set: str
) -> None:
    before = len(_refusals(powiat, login))
    response = post(powiat, batch(person_record("X-1", "90051712344"), data_set=data_set), login=login)
    assert fault_code(response) == "BRAK_UPRAWNIEN"
    after = _refusals(powiat, login)
    assert len(after) == before + 1
    assert data_set in after[-1].details


def test_a_replica_fed_over_soap_records_its_data_set_and_controller(powiat: RunningHub) -> None:
    post(powiat, batch(person_record("X-ID-1", "90051712344")))
    with sqlite3.connect(f"file:{replica(powiat, 'PUP')}?mode=ro", uri=True) as connection:
        identity = connection.execute("SELECT zbior, rodzaj, administrator FROM stan_repliki").fetchone()
    assert identity == ("PUP", "PUP", "PUP")
