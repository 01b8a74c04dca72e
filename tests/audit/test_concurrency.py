"""One writer, no forks: concurrent threads and processes append without gaps, forks or reordering, and a
process killed in the middle of an append leaves a chain that verifies and can be appended to."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

from audit.checkpoints import CheckpointSigner, TrustedKeys
from audit.sql import SqlDisclosureRegister, SqlEventLog
from audit.store import AuditStore, CheckpointPolicy
from audit.verify import verify
from tests.audit.conftest import disclosure, security_event
from tests.audit.workers import append_many

ROOT = Path(__file__).resolve().parents[2]


def _requests_are_contiguous(store: AuditStore) -> None:
    """The records of one append carry consecutive numbers: nobody's records were interleaved."""
    numbers: dict[str, list[int]] = defaultdict(list)
    with store.reader.connect() as connection:
        for nr, request_id in connection.exec_driver_sql("SELECT nr, id_zapytania FROM rejestr_ujawnien"):
            numbers[request_id].append(nr)
    for request_id, found in numbers.items():
        assert sorted(found) == list(range(min(found), min(found) + len(found))), request_id


def test_threads_append_to_one_chain(database: Path, signer: CheckpointSigner, keys: TrustedKeys) -> None:
    url = f"sqlite:///{database}"
    key_file = database.parent.parent / "klucz-audytu.pem"
    register = SqlDisclosureRegister(url, key_file=key_file, checkpoint_every=9)
    events = SqlEventLog(url, key_file=key_file, checkpoint_every=9)
    threads_count, appends = 8, 25
    failures: list[BaseException] = []
    start = threading.Barrier(threads_count)

    def work(worker: int) -> None:
        try:
            start.wait()
            for index in range(appends):
                base = 10_000 * (worker + 1) + 2 * index
                register.append([disclosure(base), disclosure(base + 1)])
                events.record(security_event(base))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    report = verify(register.store, keys)
    assert report.ok, report.problems
    assert report.records == threads_count * appends * 3 and report.last_nr == report.records
    assert report.checkpoints >= report.records // 10  # one per 9 records at least, appends of 1 or 2
    _requests_are_contiguous(register.store)
    register.dispose()
    events.dispose()


def test_processes_append_to_one_chain(database: Path, signer: CheckpointSigner, keys: TrustedKeys) -> None:
    key_file = database.parent.parent / "klucz-audytu.pem"
    AuditStore(f"sqlite:///{database}").dispose()  # create the schema once, before the race
    context = multiprocessing.get_context("spawn")
    workers, appends = 4, 30
    processes = [
        context.Process(target=append_many, args=(str(database), str(key_file), n, appends)) for n in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * workers
    store = AuditStore(f"sqlite:///{database}")
    report = verify(store, keys)
    assert report.ok, report.problems
    assert report.records == workers * appends * 3
    # every worker's records are all there
    tags = [r.request_id[:5] for r in store.disclosures()]
    assert sorted({t for t in tags}) == ["zap-1", "zap-2", "zap-3", "zap-4"]
    _requests_are_contiguous(store)
    store.dispose()


def _start(*arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.audit.workers", *arguments], cwd=ROOT, stderr=subprocess.PIPE)


def _wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, "the worker never got going"
        time.sleep(0.01)


def test_kill_inside_an_append_leaves_a_valid_chain(
    store: AuditStore, database: Path, signer: CheckpointSigner, keys: TrustedKeys, tmp_path: Path
) -> None:
    store.append([disclosure(1), disclosure(2)], [security_event(1)])
    before = store.head()
    ready = tmp_path / "w-transakcji"
    worker = _start("stall", str(database), str(tmp_path / "klucz-audytu.pem"), str(ready))
    _wait_for(ready, worker)
    assert int(ready.read_text()) == before.nr + 3  # rows inserted (and a checkpoint signed), not committed
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(30)
    assert store.head() == before
    report = verify(store, keys)
    assert report.ok and report.last_nr == before.nr, report.problems
    store.append([disclosure(3)], [security_event(3)])  # the write lock was released with the process
    report = verify(store, keys)
    assert report.ok and report.last_nr == before.nr + 2, report.problems


def test_kill_at_random_moments_while_appending(
    store: AuditStore, database: Path, keys: TrustedKeys, tmp_path: Path
) -> None:
    randomness = random.Random(6)
    for attempt in range(4):
        ready = tmp_path / f"gotowy-{attempt}"
        worker = _start("forever", str(database), str(tmp_path / "klucz-audytu.pem"), str(ready))
        _wait_for(ready, worker)
        time.sleep(randomness.uniform(0.02, 0.25))
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(30)
        report = verify(store, keys)
        assert report.ok, report.problems
        assert report.records > 0 and report.checkpoints > 0
    store.append([disclosure(5)], [])
    assert verify(store, keys).ok


def test_store_with_policy_signs_by_time(database: Path, signer: CheckpointSigner, keys: TrustedKeys) -> None:
    store = AuditStore(
        f"sqlite:///{database}", signer=signer, policy=CheckpointPolicy(every_records=1000, every_minutes=0)
    )
    store.append([disclosure(1)], [])
    assert [c.nr for c in store.checkpoints()] == [1]  # zero minutes: every append is due
    assert store.checkpoint() is None  # nothing new since
    store.append([disclosure(2)], [])
    assert [c.nr for c in store.checkpoints()] == [1, 2]
    assert store.checkpoint(force=False) is None
    assert verify(store, keys).ok
    store.dispose()


def test_the_log_is_copied_into_the_database_beside_the_appends(database: Path) -> None:
    """Appends never wait for a checkpoint of the log (SQLite's own, from the committing connection, made
    one request in ~140 wait ~9 ms): a thread copies it. Read here from the database file alone
    (`immutable`: the log is not looked at), the records are there without any checkpoint of ours."""
    store = AuditStore(f"sqlite:///{database}")
    try:
        for index in range(300):
            store.append(disclosures=[disclosure(index)])

        def in_database_file() -> int:
            connection = sqlite3.connect(f"file:{database}?mode=ro&immutable=1", uri=True)
            try:
                return int(connection.execute("SELECT count(*) FROM rejestr_ujawnien").fetchone()[0])
            except sqlite3.OperationalError:
                return 0  # not even the tables have been copied yet
            finally:
                connection.close()

        deadline = time.monotonic() + 10
        while in_database_file() < 300 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert in_database_file() == 300
        # The commits themselves leave the log to the thread (SQLite's 1,000 pages would copy it inline).
        with store.writer.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 20_000
    finally:
        store.dispose()


def test_requests_arriving_during_a_commit_share_the_next_one(database: Path, signer: CheckpointSigner) -> None:
    """Group commit: while one thread holds the writer's lock, three requests queue up; the next commit
    writes all three (each request's records together) and none returns before it."""
    store = AuditStore(f"sqlite:///{database}", signer=signer, policy=CheckpointPolicy(every_records=1000))
    store.append([disclosure(1)])
    transactions = []
    original = AuditStore._raw_write

    def counted(self: AuditStore) -> object:
        transactions.append(len(self._queued))
        return original(self)

    AuditStore._raw_write = counted  # type: ignore[assignment, method-assign]
    try:
        returned: list[int] = []
        with store._lock:  # a commit under way
            threads = [
                threading.Thread(
                    target=lambda n=n: (store.append([disclosure(100 * n + i) for i in range(3)]), returned.append(n))
                )
                for n in range(1, 4)
            ]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 10
            while len(store._queued) < 3:
                assert time.monotonic() < deadline, "the requests did not queue"
                time.sleep(0.01)
            assert returned == []  # nobody answered before the commit
        for thread in threads:
            thread.join(10)
    finally:
        AuditStore._raw_write = original  # type: ignore[method-assign]
    assert sorted(returned) == [1, 2, 3]
    assert transactions == [0]  # one transaction, for all three (the queue was taken before it began)
    assert store.head().nr == 10
    _requests_are_contiguous(store)
    store.dispose()
