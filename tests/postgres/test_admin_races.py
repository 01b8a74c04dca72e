"""Administrative commands run at once on PostgreSQL (attack pass): `platforma users add` and `policy set|remove`,
each a process of its own, as operators start them. Each test failed before the fix:

* eight `users add` of one login: one user, but each loser that failed at commit had already recorded "dodano";
* `policy set` racing `policy remove` of one rule: StaleDataError, exit 3 ("Nieoczekiwany błąd");
* two `policy remove` of one rule: both succeeded, two removals recorded;
* two `policy set` of one rule: the second's event named a "before" the first had already replaced.

A transaction of the test holds the policy version row while the commands start, so that they meet as the
race needs; the commands then wait for that lock (`waiting_on_lock`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg

from audit import EventKind
from tests.postgres import test_production_attacks
from tests.postgres.test_production_attacks import Powiat

powiat = test_production_attacks.powiat  # that module's fixture: a powiat of its own for this module


def start_cli(powiat: Powiat, *args: str, actor: str = "platforma.admin") -> subprocess.Popen[str]:
    env = dict(os.environ, PLATFORMA_HASLO=powiat.passwords[actor], COLUMNS="200")
    env["PLATFORMA_NOWE_HASLO"] = "Modrzewiowa-Dolina-4471#"
    config = str(powiat.directory / "platforma.toml")
    command = [sys.executable, "-m", "hub.cli", *args[:2], "--config", config, "--as", actor, *args[2:]]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = process.communicate(timeout=120)
    return process.returncode, out.strip()


def waiting_on_lock(powiat: Powiat, count: int, seconds: float = 60) -> None:
    """Until `count` sessions of the hub database wait for a lock."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = powiat.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )[0][0]
        if waiting >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{count} commands never waited for the lock")


def policy_events(powiat: Powiat, needle: str) -> list[str]:
    return [
        e.details for e in powiat.events("platforma.admin") if e.kind == EventKind.POLICY_CHANGE and needle in e.details
    ]


def hold_policy_version(powiat: Powiat) -> psycopg.Connection:
    connection = psycopg.connect(f"host=127.0.0.1 port={powiat.postgres.port} user=postgres dbname={powiat.database}")
    connection.execute("SELECT wersja FROM wersja_polityki WHERE id = 1 FOR UPDATE")
    return connection


def set_rule(powiat: Powiat, categories: str) -> subprocess.Popen[str]:
    return start_cli(powiat, "policy", "set", "PUP", "POSREDNICY", "PUP", "--categories", categories)


def test_parallel_additions_of_one_login_record_one_addition(powiat: Powiat) -> None:
    login = "sr.rownolegly"
    barrier = threading.Barrier(8)

    def add(_: int) -> tuple[int, str]:
        barrier.wait()
        return finish(start_cli(powiat, "users", "add", login, "--office", "SR", "--group", "REFERENCI"))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(add, range(8)))
    added = [e for e in powiat.events(login) if e.kind == EventKind.USER_CHANGE and e.details.startswith("dodano")]
    assert sum(code == 0 for code, _ in results) == len(added) == 1, results
    assert all(code == 2 for code, _ in results if code != 0), results


def test_a_change_racing_a_removal_of_one_rule_is_applied_not_an_internal_error(powiat: Powiat) -> None:
    assert set_rule(powiat, "DANE_OSOBOWE").wait(120) == 0
    holder = hold_policy_version(powiat)
    try:
        remove = start_cli(powiat, "policy", "remove", "PUP", "POSREDNICY", "PUP")
        waiting_on_lock(powiat, 1)
        change = set_rule(powiat, "DANE_OSOBOWE,OKRESY_REJESTRACJI")
        waiting_on_lock(powiat, 2)
    finally:
        holder.rollback()
        holder.close()
    removed, changed = finish(remove), finish(change)
    assert removed[0] == 0 and changed[0] == 0, (removed, changed)
    rule = powiat.sql("SELECT kategorie FROM reguly WHERE urzad = 'PUP' AND grupa = 'POSREDNICY' AND zbior = 'PUP'")
    assert rule == [("DANE_OSOBOWE,OKRESY_REJESTRACJI",)]
    assert policy_events(powiat, "zmiana reguły (PUP, POSREDNICY, PUP)")[-1].endswith(
        ": brak → DANE_OSOBOWE,OKRESY_REJESTRACJI / *"
    )


def test_two_removals_of_one_rule_record_one_removal(powiat: Powiat) -> None:
    assert set_rule(powiat, "DANE_OSOBOWE").wait(120) == 0
    before = len(policy_events(powiat, "usunięcie reguły (PUP, POSREDNICY, PUP)"))
    holder = hold_policy_version(powiat)
    try:
        first = start_cli(powiat, "policy", "remove", "PUP", "POSREDNICY", "PUP")
        waiting_on_lock(powiat, 1)
        second = start_cli(powiat, "policy", "remove", "PUP", "POSREDNICY", "PUP")
        waiting_on_lock(powiat, 2)
    finally:
        holder.rollback()
        holder.close()
    results = sorted([finish(first), finish(second)])
    assert [code for code, _ in results] == [0, 2] and "Nie ma reguły" in results[1][1], results
    assert "Warning" not in results[0][1] + results[1][1]
    assert len(policy_events(powiat, "usunięcie reguły (PUP, POSREDNICY, PUP)")) - before == 1


def test_two_changes_of_one_rule_record_a_history_that_replays(powiat: Powiat) -> None:
    assert set_rule(powiat, "DANE_OSOBOWE").wait(120) == 0
    holder = hold_policy_version(powiat)
    try:
        first = set_rule(powiat, "DANE_OSOBOWE,OKRESY_REJESTRACJI")
        waiting_on_lock(powiat, 1)
        second = set_rule(powiat, "OKRESY_REJESTRACJI")
        waiting_on_lock(powiat, 2)
    finally:
        holder.rollback()
        holder.close()
    assert [finish(first)[0], finish(second)[0]] == [0, 0]
    events = policy_events(powiat, "zmiana reguły (PUP, POSREDNICY, PUP)")[-2:]
    first_after = events[0].split(" → ")[1]
    second_before = events[1].split(": ", 1)[1].split(" → ")[0]
    assert second_before == first_after, events
