"""Replayed and stale WS-Security tokens (UsernameToken Profile 1.1 Nonce and Created, wsu:Timestamp) are refused
with soap:Client faults and recorded, by a hub of two worker processes sharing one nonce table; a token without
them is still served. The window and the purge of old nonces are checked on Accounts with its clock."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from audit import EventKind
from audit.sql import SqlEventLog
from hub.domain.accounts import Accounts, ReplayedToken, StaleToken, TokenStamps
from hub.storage.tables import UsedNonce, hub_engine
from tests.integration.conftest import RunningHub
from tests.integration.worker_hub import WorkerHub, add_user, hub_events, two_workers
from tests.integration.wsse import Answer, Envelope, fresh_nonce, post, security

STRONG = "Kasztanowa-Aleja-1987!"
LOGIN = "sr.powtorka"
WINDOW = dt.timedelta(minutes=5)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def workers(hub: RunningHub) -> Iterator[WorkerHub]:
    add_user(hub, LOGIN, STRONG)
    with two_workers(hub, "token-replay.log") as running:
        yield running


@pytest.fixture(scope="module")
def listing(workers: WorkerHub) -> Envelope:
    return Envelope.of(workers.wsdl(), "ListaZbiorow")


def send(workers: WorkerHub, listing: Envelope, **token: object) -> Answer:
    return post(workers.endpoint(), listing.with_header(security(LOGIN, STRONG, **token)))  # type: ignore[arg-type]


def refused_as(answer: Answer, code: str) -> bool:
    return answer.status == 500 and answer.code == code and answer.faultcode.endswith("Client")


def test_a_token_without_nonce_or_times_is_still_served(workers: WorkerHub, listing: Envelope) -> None:
    assert send(workers, listing).status == 200
    fresh = {"nonce": fresh_nonce(), "created": now(), "timestamp": (now(), now() + dt.timedelta(minutes=5))}
    assert send(workers, listing, **fresh).status == 200


def test_a_replayed_nonce_is_refused_by_every_worker(hub: RunningHub, workers: WorkerHub, listing: Envelope) -> None:
    envelope = listing.with_header(security(LOGIN, STRONG, nonce=fresh_nonce(), created=now()))
    assert post(workers.endpoint(), envelope).status == 200
    again = [post(workers.endpoint(), envelope) for _ in range(6)]  # new connections: either process
    assert all(refused_as(a, "POWTORZONY_TOKEN") for a in again), again
    assert "Nonce" in str(again[0].message)
    refusals = [e for e in hub_events(hub, LOGIN) if e.kind == EventKind.FAILED_LOGIN and "Nonce" in e.details]
    assert len(refusals) == 6 and not any(e.success for e in refusals)


def test_the_same_token_sent_in_parallel_is_served_once(workers: WorkerHub, listing: Envelope) -> None:
    envelope = listing.with_header(security(LOGIN, STRONG, nonce=fresh_nonce(), created=now()))
    answers: list[Answer] = []
    barrier = threading.Barrier(8)

    def send_once() -> None:
        barrier.wait()
        answers.append(post(workers.endpoint(), envelope))

    threads = [threading.Thread(target=send_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status for a in answers) == [200] + [500] * 7
    assert all(refused_as(a, "POWTORZONY_TOKEN") for a in answers if a.status == 500)


MINUTE = dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda t: {"created": t - 10 * MINUTE}, id="Created ten minutes old"),
        pytest.param(lambda t: {"created": t + 10 * MINUTE}, id="Created ten minutes ahead"),
        pytest.param(lambda t: {"nonce": fresh_nonce(), "created": t - 60 * MINUTE}, id="Nonce with an old Created"),
        pytest.param(lambda t: {"timestamp": (t - 2 * MINUTE, t - MINUTE)}, id="Timestamp expired"),
        pytest.param(lambda t: {"timestamp": (t - 10 * MINUTE, None)}, id="Timestamp ten minutes old"),
    ],
)
def test_a_stale_or_expired_token_is_refused_and_recorded(
    hub: RunningHub, workers: WorkerHub, listing: Envelope, token: Callable[[dt.datetime], dict[str, object]]
) -> None:
    before = len(hub_events(hub, LOGIN))
    answer = send(workers, listing, **token(now()))
    assert refused_as(answer, "NIEAKTUALNY_TOKEN"), answer
    recorded = hub_events(hub, LOGIN)[before:]
    assert [(e.kind, e.success) for e in recorded] == [(EventKind.FAILED_LOGIN, False)]
    assert "wsu:" in recorded[0].details


def test_a_password_digest_or_a_malformed_time_is_refused_and_recorded(
    hub: RunningHub, workers: WorkerHub, listing: Envelope
) -> None:
    before = len(hub_events(hub, LOGIN))
    digest = send(workers, listing, nonce=fresh_nonce(), created=now(), digest=True)
    assert refused_as(digest, "BLEDNE_UWIERZYTELNIENIE") and "PasswordDigest" in str(digest.message)
    header = security(LOGIN, STRONG, created=now())
    header.find(".//{*}Created").text = "wczoraj"  # type: ignore[union-attr]
    malformed = post(workers.endpoint(), listing.with_header(header))
    assert refused_as(malformed, "BLEDNE_UWIERZYTELNIENIE") and "wsu:Created" in str(malformed.message)
    recorded = hub_events(hub, LOGIN)[before:]
    assert [(e.kind, e.success) for e in recorded] == [(EventKind.FAILED_LOGIN, False)] * 2


# -- the window and the nonce table, on Accounts with its clock --------------------------------------------------
@pytest.fixture
def clock() -> list[dt.datetime]:
    return [dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)]


@pytest.fixture
def processes(tmp_path: Path, clock: list[dt.datetime]) -> Iterator[list[Accounts]]:
    url, audit = f"sqlite:///{tmp_path / 'hub.sqlite'}", f"sqlite:///{tmp_path / 'audit.sqlite'}"
    processes = [Accounts(hub_engine(url), events=SqlEventLog(audit), clock=lambda: clock[0]) for _ in range(3)]
    yield processes
    for accounts in processes:
        accounts.engine.dispose()


def test_the_window_is_inclusive_and_a_nonce_may_come_back_after_it(
    processes: list[Accounts], clock: list[dt.datetime]
) -> None:
    first, second, _ = processes
    start = clock[0]
    first.admit_token("ops.jan", TokenStamps(created=start - WINDOW), WINDOW)
    with pytest.raises(StaleToken):
        first.admit_token("ops.jan", TokenStamps(created=start - WINDOW - dt.timedelta(seconds=1)), WINDOW)
    first.admit_token("ops.jan", TokenStamps(nonce="abc", created=start), WINDOW)
    with pytest.raises(ReplayedToken):
        second.admit_token("ops.jan", TokenStamps(nonce="abc", created=start), WINDOW)
    second.admit_token("pup.ewa", TokenStamps(nonce="abc", created=start), WINDOW)  # another user's token
    clock[0] = start + WINDOW + dt.timedelta(seconds=2)  # the old token is stale anyway: the nonce may return
    second.admit_token("ops.jan", TokenStamps(nonce="abc", created=clock[0]), WINDOW)
    with pytest.raises(ReplayedToken):
        first.admit_token("ops.jan", TokenStamps(nonce="abc", created=clock[0]), WINDOW)


def test_expired_nonces_are_purged(processes: list[Accounts], clock: list[dt.datetime]) -> None:
    accounts = processes[0]
    for index in range(50):
        accounts.admit_token("ops.jan", TokenStamps(nonce=f"n{index}", created=clock[0]), WINDOW)
    clock[0] += WINDOW + dt.timedelta(minutes=2)
    accounts.admit_token("ops.jan", TokenStamps(nonce="po-oknie", created=clock[0]), WINDOW)
    with accounts.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(UsedNonce)).scalar_one() == 1


def test_one_nonce_claimed_by_many_threads_is_admitted_once(
    processes: list[Accounts], clock: list[dt.datetime]
) -> None:
    outcomes: list[object] = []
    barrier = threading.Barrier(12)

    def claim(accounts: Accounts) -> None:
        barrier.wait()
        try:
            accounts.admit_token("ops.jan", TokenStamps(nonce="wspolny", created=clock[0]), WINDOW)
            outcomes.append("admitted")
        except ReplayedToken as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=claim, args=(processes[i % 3],)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["POWTORZONY_TOKEN"] * 11 + ["admitted"]
