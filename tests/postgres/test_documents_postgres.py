"""Requests and certificates with the hub's database in PostgreSQL (the production database): the whole
workflow, the transitions that must happen once when signers race, and editors making versions at once.
The demo powiat's replicas and audit register stay SQLite; only `[hub] database` moves."""

from __future__ import annotations

import itertools
import threading
import tomllib
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import tomli_w
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from contract.errors import PlatformError
from hub import settings
from hub.core import HubCore
from hub.domain.documents import CERTIFICATE, RequestForm
from tests.integration.test_documents_certificates import Office, hub  # noqa: F401 - the demo fixture
from tests.postgres.conftest import PostgresServer


@pytest.fixture(scope="module")
def core(hub: Office, postgres: PostgresServer) -> Iterator[HubCore]:  # noqa: F811 - the fixture above
    name = f"hub_{uuid.uuid4().hex[:12]}"
    postgres.sql(f"CREATE DATABASE {name}")
    config = tomllib.loads((hub.directory / "platforma.toml").read_text(encoding="utf-8"))
    config["hub"]["database"] = postgres.url(name)
    path = hub.directory / "platforma-postgres.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    opened = HubCore.open(settings.load(path))
    assert opened.documents.engine.dialect.name == "postgresql"
    yield opened
    opened.close()
    postgres.sql(f"DROP DATABASE {name} WITH (FORCE)")


def _caller(core: HubCore, hub: Office, login: str) -> Any:  # noqa: F811
    return core.accounts.authenticate(login, hub.passwords[login], channel="CLI", source="test")


def _submitted(core: HubCore, hub: Office) -> str:  # noqa: F811
    form = RequestForm(
        hub.person("OPS"),
        "URPSZ-2025",
        "Ustalenie uprawnień",
        "ZASWIADCZENIE_OPS_SWIADCZENIA",
        "OPS",
        {"OPS": ["SWIADCZENIA"]},
    )
    return core.documents.submit(_caller(core, hub, "pup.kierownik"), form).case.id


def _at_once(calls: list[Callable[[], object]]) -> list[str]:
    """Run the calls together (released by one barrier); each outcome: OK or the error's code."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> str:
        barrier.wait()
        try:
            call()
            return "OK"
        except PlatformError as error:
            return error.code

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_a_certificate_goes_from_request_to_collection_on_postgresql(core: HubCore, hub: Office) -> None:  # noqa: F811
    case_id = _submitted(core, hub)
    signer = _caller(core, hub, "ops.podpisujacy")
    generated = core.documents.accept(signer, case_id)
    sealed = core.documents.seal_certificate(signer, case_id)
    requester = _caller(core, hub, "pup.kierownik")
    collected = core.documents.document(requester, case_id, CERTIFICATE)
    assert collected.content == sealed.document.content and collected.sha256 == sealed.document.sha256
    moves = [(t.from_state, t.to_state) for t in core.documents.history(requester, case_id)]
    assert moves == [
        ("", "ZLOZONY"),
        ("ZLOZONY", "DO_PODPISU"),
        ("DO_PODPISU", "DO_PODPISU"),
        ("DO_PODPISU", "DOSTARCZONY"),
        ("DOSTARCZONY", "ODEBRANY"),
    ]
    assert len(core.documents.receipts(requester, case_id)) == 3  # UPP submitted, UPP delivered, UPD collected
    assert core.documents.document(signer, case_id, CERTIFICATE).content == generated.content  # the controller's
    with pytest.raises(DBAPIError), core.documents.engine.begin() as connection:  # append-only on PostgreSQL too
        connection.execute(text("UPDATE dokumenty SET tresc = 'x'::bytea WHERE sprawa = :c"), {"c": case_id})


def test_racing_signers_accept_and_seal_a_case_once_on_postgresql(core: HubCore, hub: Office) -> None:  # noqa: F811
    case_id = _submitted(core, hub)
    signer = _caller(core, hub, "ops.podpisujacy")
    accepted = _at_once([lambda: core.documents.accept(signer, case_id)] * 6)
    assert sorted(accepted) == ["NIEDOZWOLONE_PRZEJSCIE"] * 5 + ["OK"], accepted
    sealed = _at_once([lambda: core.documents.seal_certificate(signer, case_id)] * 6)
    assert sorted(sealed) == ["NIEDOZWOLONE_PRZEJSCIE"] * 5 + ["OK"], sealed
    moves = [t.to_state for t in core.documents.history(signer, case_id)]
    assert moves == ["ZLOZONY", "DO_PODPISU", "DO_PODPISU", "DOSTARCZONY"]
    assert len(core.documents.receipts(signer, case_id)) == 2


def test_a_refusal_racing_an_acceptance_leaves_one_consistent_history_on_postgresql(
    core: HubCore,
    hub: Office,  # noqa: F811
) -> None:
    signer = _caller(core, hub, "ops.podpisujacy")
    for _ in range(4):
        case_id = _submitted(core, hub)
        _at_once(
            [
                lambda case_id=case_id: core.documents.accept(signer, case_id),
                lambda case_id=case_id: core.documents.refuse(signer, case_id, "Brak podstawy."),
            ]
        )
        moves = [(t.from_state, t.to_state) for t in core.documents.history(signer, case_id)]
        assert all(later[0] == earlier[1] for earlier, later in itertools.pairwise(moves)), moves
        assert moves[-1][1] == core.documents.case(signer, case_id).state


def test_editors_making_versions_at_once_get_consecutive_numbers_on_postgresql(
    core: HubCore,
    hub: Office,  # noqa: F811
) -> None:
    editor = _caller(core, hub, "pup.redaktor")
    before = max(
        t.version for t in core.documents.templates.versions(editor) if t.document_type == "WNIOSEK_O_INFORMACJE"
    )
    made = _at_once(
        [
            lambda n=n: core.documents.templates.new_version(
                editor, "WNIOSEK_O_INFORMACJE", metadata={"opis": f"Wersja {n}"}
            )
            for n in range(5)
        ]
    )
    assert made == ["OK"] * 5, made
    numbers = sorted(
        t.version for t in core.documents.templates.versions(editor) if t.document_type == "WNIOSEK_O_INFORMACJE"
    )
    assert numbers[-5:] == list(range(before + 1, before + 6))


def test_a_used_version_cannot_be_changed_on_postgresql(core: HubCore, hub: Office) -> None:  # noqa: F811
    editor = _caller(core, hub, "pup.redaktor")
    case_id = _submitted(core, hub)  # the request type's active version is now used
    assert case_id
    active = next(
        t for t in core.documents.templates.versions(editor) if t.document_type == "WNIOSEK_O_INFORMACJE" and t.active
    )
    with pytest.raises(PlatformError) as refused:
        core.documents.templates.change(editor, "WNIOSEK_O_INFORMACJE", active.version, xsd=None, xsl=active.xsl + " ")
    assert refused.value.code == "SZABLON_W_UZYCIU"
    with pytest.raises(DBAPIError), core.documents.engine.begin() as connection:
        connection.execute(text("UPDATE wersje_szablonow SET wizualizacja = 'x' WHERE id = :i"), {"i": active.id})
