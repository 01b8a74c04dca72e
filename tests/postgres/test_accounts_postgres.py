"""Lockout, the credential cache and the nonce table with the hub database in PostgreSQL, shared by several hub
instances (each its own engine and cache, as separate hubs behind one load balancer have them)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import hub.domain.accounts as accounts_module
from audit import EventKind
from audit.sql import SqlEventLog
from contract.errors import AuthenticationFailed
from hub.domain.accounts import Accounts, SecuritySettings, TokenStamps, hash_password
from hub.settings import Group, UserEntry
from hub.storage.tables import hub_engine
from tests.integration.test_login_concurrency import LIMIT, STRONG, CountingHasher, login_call, run_together
from tests.postgres.conftest import PostgresServer


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts_module, "_HASHER", counting)
    return counting


@pytest.fixture
def hubs(postgres: PostgresServer, tmp_path: Path, hasher: CountingHasher) -> Iterator[list[Accounts]]:
    name = f"hub_{uuid.uuid4().hex[:12]}"
    postgres.sql(f"CREATE DATABASE {name}")
    audit = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    hubs = [
        Accounts(
            hub_engine(postgres.url(name)),
            events=SqlEventLog(audit),
            settings=SecuritySettings(max_failed_logins=LIMIT),
        )
        for _ in range(3)
    ]
    hubs[0].import_groups([Group(code="G", office="OPS", name="Grupa")])
    stored = hash_password(STRONG)
    hasher.watched.add(stored)
    hubs[0].import_users(
        [
            UserEntry(login="ops.jan", office="OPS", group="G", password_hash=stored),
            UserEntry(login="root", office="OPS", group="G", password_hash=stored, roles=("ADMINISTRATOR_PLATFORMY",)),
        ]
    )
    yield hubs
    for accounts in hubs:
        accounts.engine.dispose()
    postgres.sql(f"DROP DATABASE {name}")


def kinds(accounts: Accounts) -> list[EventKind]:
    return [e.kind for e in accounts.events.events(user="ops.jan")]  # type: ignore[attr-defined]


def test_thirty_parallel_guesses_on_three_hubs_check_the_limit_and_lock_once(
    hubs: list[Accounts], hasher: CountingHasher
) -> None:
    outcomes = run_together([login_call(hubs[i % 3], f"zgadywane-{i}") for i in range(30)])
    assert all(isinstance(o, AuthenticationFailed) for o in outcomes), outcomes
    assert hasher.checked == LIMIT
    assert kinds(hubs[0]).count(EventKind.LOCK) == 1
    with pytest.raises(AuthenticationFailed):
        hubs[2].authenticate("ops.jan", STRONG)
    assert hasher.checked == LIMIT


def test_a_lock_or_a_logout_on_one_hub_ends_the_cached_credential_on_the_others(hubs: list[Accounts]) -> None:
    for accounts in hubs:
        for _ in range(2):
            caller = accounts.authenticate("ops.jan", STRONG)
    assert kinds(hubs[0]).count(EventKind.LOGIN) == 3
    hubs[0].logout(caller)
    for accounts in hubs[1:]:
        accounts.authenticate("ops.jan", STRONG)
    assert kinds(hubs[0]).count(EventKind.LOGIN) == 5  # each other hub checked the password anew
    hubs[0].lock(hubs[0].authenticate("root", STRONG), "ops.jan")
    for accounts in hubs[1:]:
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate("ops.jan", STRONG)


def test_one_nonce_sent_to_three_hubs_at_once_is_admitted_once(hubs: list[Accounts]) -> None:
    stamps = TokenStamps(nonce="wspolny-nonce", created=dt.datetime.now(dt.UTC))
    window = dt.timedelta(minutes=5)
    outcomes = run_together([lambda a=a: a.admit_token("ops.jan", stamps, window) for a in hubs * 4])  # type: ignore[misc]
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType"] + ["ReplayedToken"] * 11
