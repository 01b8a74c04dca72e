"""The event kind ZMIANA_SZABLONU (template changes, issue 15) in the audit register: a register written before
the kind existed keeps verifying once template changes are appended to it, and the kind is stored, chained, read
back and filtered alike on SQLite and on a real PostgreSQL (`rodzaj` is a VARCHAR(32) with no CHECK or type
naming the kinds, so no register needs a migration)."""

from __future__ import annotations

import datetime as dt

from audit.checkpoints import CheckpointSigner, TrustedKeys
from audit.records import EventKind, SecurityEvent
from audit.store import AuditStore, CheckpointPolicy
from audit.verify import verify
from tests.audit.conftest import START, fill
from tests.audit.test_postgresql import Cluster, cluster, installed, signer  # noqa: F401 - the PostgreSQL fixtures

DIGEST = "ab" * 32


def template_change(index: int) -> SecurityEvent:
    return SecurityEvent(
        START + dt.timedelta(days=1, minutes=index),
        EventKind.TEMPLATE_CHANGE,
        "pup.redaktor",
        "PUP",
        "pup.redaktor",
        "192.0.2.20",
        True,
        f"szablon ZASWIADCZENIE_PUP_REJESTRACJA: aktywacja wersji {index + 2} (SHA-256 pliku {DIGEST})",
    )


def continues_and_verifies(store: AuditStore, keys: TrustedKeys) -> None:
    fill(store)  # a register of the kinds that existed before: 60 records, checkpoints every 10
    before = verify(store, keys)
    assert before.ok, before.problems
    store.append(events=[template_change(index) for index in range(3)])
    after = verify(store, keys)
    assert after.ok and after.records == before.records + 3, after.problems
    read = list(store.events(kind=EventKind.TEMPLATE_CHANGE))
    assert read == [template_change(index) for index in range(3)]
    assert all(e.kind is EventKind.TEMPLATE_CHANGE for e in read)
    assert list(store.events(kind=EventKind.POLICY_CHANGE)) == []


def test_template_changes_continue_a_sqlite_register_that_keeps_verifying(store: AuditStore, keys: TrustedKeys) -> None:
    continues_and_verifies(store, keys)


def test_template_changes_continue_a_postgresql_register_that_keeps_verifying(
    installed: Cluster,  # noqa: F811 - the fixtures imported above
    signer: CheckpointSigner,  # noqa: F811
) -> None:
    hub = AuditStore(installed.url("hub"), signer=signer, policy=CheckpointPolicy(every_records=10))
    try:
        continues_and_verifies(hub, TrustedKeys([signer.public_key]))
    finally:
        hub.dispose()
