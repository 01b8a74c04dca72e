"""The append path's short ways (bench/audit.py): the stored values and the hashed bytes are the same as the
general way gives them, for the usual record and for the odd ones; a register keeps only the lookup indexes
its readers use."""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
from pathlib import Path

import pytest

from audit import chain
from audit.records import Outcome
from audit.sql import SqlDisclosureRegister
from audit.store import AuditStore, disclosure_values
from audit.verify import verify
from tests.audit.conftest import disclosure


def test_a_message_of_text_values_is_the_formats_bytes() -> None:
    values = ("2026-11-02T08:00:00.000000Z", "Urząd", "", "x")
    expected = "U2|7|" + "a" * 64 + "|27,6,0,1,2026-11-02T08:00:00.000000ZUrządx"
    assert chain.message_v2("U", 7, "a" * 64, values) == expected.encode()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("a", None, "ż"), b"U2|1|p|1,,2,a\xc5\xbc"),
        (("a", True, "b", False), b"U2|1|p|1,1,1,1,a1b0"),
    ],
)
def test_a_missing_value_or_a_flag_takes_the_general_way_to_the_same_format(
    values: tuple[str | bool | None, ...], expected: bytes
) -> None:
    assert chain.message_v2("U", 1, "p", values) == expected
    assert chain.link_v2("U", 1, "p", values) == hashlib.sha256(expected).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"subject_pesel": None},
        {"reason": "po\x00wod", "user": "ops\x00"},
        {"user": "u" * 500, "request_id": "r" * 65},
        {"user": "u\x00" * 100, "subject_pesel": None},
        {"outcome": "ODMOWA"},
    ],
)
def test_stored_values_are_those_of_the_general_way(change: dict[str, object]) -> None:
    record = dataclasses.replace(disclosure(3), **change)  # type: ignore[arg-type]
    values = disclosure_values(record)
    assert values == disclosure_values(record, chain.format_time(record.time))
    general = [
        chain.format_time(record.time),
        record.request_id,
        record.user,
        record.office,
        record.channel,
        record.identifier,
        record.subject_pesel,
        record.data_set,
        record.controller,
        ",".join(record.categories),
        record.legal_basis,
        record.purpose,
        Outcome(record.outcome).value,
        record.digest,
        record.reason,
    ]
    limits = (27, 64, 120, 32, 32, None, 11, 32, None, None, 64, None, 16, 64, None)
    cleaned = [None if v is None else chain.clean(v)[:limit] for v, limit in zip(general, limits, strict=True)]
    assert list(values) == cleaned


def test_an_odd_record_is_stored_as_linked_and_verifies(store: AuditStore) -> None:
    odd = dataclasses.replace(disclosure(1), subject_pesel=None, reason="x\x00y", user="u" * 300)
    store.append([disclosure(0), odd, disclosure(2)])
    assert verify(store).ok
    stored = list(store.disclosures())
    assert stored[1].user == "u" * 120 and stored[1].reason == "x\ufffdy" and stored[1].subject_pesel is None


def test_an_older_register_loses_the_request_index_and_still_finds_a_request(tmp_path: Path) -> None:
    path = tmp_path / "audyt.sqlite"
    register = SqlDisclosureRegister(f"sqlite:///{path}")
    register.append([disclosure(1), disclosure(2)])
    register.dispose()
    with sqlite3.connect(path) as db:  # as a register made before the index was dropped
        db.execute("CREATE INDEX ix_rejestr_ujawnien_id_zapytania ON rejestr_ujawnien (id_zapytania)")
    register = SqlDisclosureRegister(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:
        indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_rejestr_ujawnien_id_zapytania" not in indexes
    assert {"ix_rejestr_ujawnien_pesel_osoby", "ix_rejestr_ujawnien_uzytkownik"} <= indexes
    assert [r.request_id for r in register.records(request_id="zap-000002")] == ["zap-000002"]
    register.dispose()
