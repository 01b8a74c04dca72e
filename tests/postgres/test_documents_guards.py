"""The documents' tables are append-only in the database itself (hub/storage/guards.py; issue 15 item 3,
guideline 8), on SQLite and on a real PostgreSQL alike: whoever connects to the hub's database cannot
change or remove a stored document, a transition, a receipt or a template change, change anything of a case
but its state and refusal reason, or change a template version a document was made from."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hub.storage.documents import Case, Receipt, StoredDocument, TemplateChange, TemplateVersion, Transition
from hub.storage.guards import REFUSED
from hub.storage.tables import hub_engine
from tests.postgres.conftest import PostgresServer

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = hub_engine(f"sqlite:///{tmp_path / 'hub.sqlite'}")
        yield made
        made.dispose()
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    name = f"hub_{uuid.uuid4().hex[:12]}"
    postgres.sql(f"CREATE DATABASE {name}")
    made = hub_engine(postgres.url(name))
    hub_engine(postgres.url(name)).dispose()  # a second opening (another worker) installs them again, harmlessly
    yield made
    made.dispose()
    postgres.sql(f"DROP DATABASE {name}")


def _rows(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        for number, used in ((1, True), (2, False)):
            session.add(
                TemplateVersion(
                    id=number,
                    document_type="ZASWIADCZENIE_TEST",
                    version=number,
                    xsd="<xs:schema/>",
                    xsl="<xsl:stylesheet/>",
                    metadata_json="{}",
                    author="platforma",
                    created=NOW,
                    active=number == 1,
                    used=used,
                )
            )
        session.flush()
        session.add(
            Case(
                id="sprawa-1",
                certificate_type="ZASWIADCZENIE_TEST",
                requester="ops.pracownik",
                requester_office="OPS",
                requester_group="PRACOWNICY_SOCJALNI",
                recipient_office="PUP",
                state="ZLOZONY",
                created=NOW,
            )
        )
        session.flush()
        session.add(
            StoredDocument(
                id="dokument-1",
                case_id="sprawa-1",
                role="WNIOSEK",
                template_id=1,
                content=b"<Dokument/>",
                sha256="0" * 64,
                author="ops.pracownik",
                created=NOW,
            )
        )
        session.flush()
        session.add(
            Transition(
                case_id="sprawa-1", time=NOW, actor="ops.pracownik", office="OPS", from_state="", to_state="ZLOZONY"
            )
        )
        session.add(
            Receipt(id="upp-1", case_id="sprawa-1", kind="UPP", document_id="dokument-1", content=b"<U/>", created=NOW)
        )
        session.add(
            TemplateChange(
                document_type="ZASWIADCZENIE_TEST",
                version=1,
                action="UTWORZENIE",
                actor="platforma",
                office="",
                time=NOW,
                sha256="0" * 64,
            )
        )


REFUSED_STATEMENTS = [
    "UPDATE dokumenty SET tresc = :bytes",
    "UPDATE dokumenty SET skrot_sha256 = 'f'",
    "DELETE FROM dokumenty",
    "UPDATE przejscia_spraw SET kto = 'ktos.inny'",
    "DELETE FROM przejscia_spraw",
    "UPDATE poswiadczenia SET tresc = :bytes",
    "DELETE FROM poswiadczenia",
    "UPDATE zmiany_szablonow SET kto = 'ktos.inny'",
    "DELETE FROM zmiany_szablonow",
    "UPDATE sprawy_dokumentow SET wnioskodawca = 'ktos.inny'",
    "UPDATE sprawy_dokumentow SET urzad_adresata = 'SR'",
    "DELETE FROM sprawy_dokumentow",
    "UPDATE wersje_szablonow SET wizualizacja = 'inna' WHERE id = 1",
    "UPDATE wersje_szablonow SET uzyta = :false WHERE id = 1",
    "UPDATE wersje_szablonow SET rodzaj = 'INNY' WHERE id = 2",
    "DELETE FROM wersje_szablonow WHERE id = 2",
]
ALLOWED_STATEMENTS = [
    "UPDATE sprawy_dokumentow SET stan = 'ODMOWIONY', powod_odmowy = 'Brak podstawy.'",
    "UPDATE wersje_szablonow SET wizualizacja = 'poprawiona' WHERE id = 2",  # unused: still editable
    "UPDATE wersje_szablonow SET aktywna = :false WHERE id = 1",
    "UPDATE wersje_szablonow SET aktywna = :true, uzyta = :true WHERE id = 2",
]
PARAMETERS = {"bytes": b"<Zmieniony/>", "false": False, "true": True}


@pytest.mark.parametrize("statement", REFUSED_STATEMENTS)
def test_a_change_behind_the_hubs_back_is_refused_by_the_database(engine: Engine, statement: str) -> None:
    _rows(engine)
    with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
        connection.execute(text(statement), {k: v for k, v in PARAMETERS.items() if f":{k}" in statement})
    assert REFUSED in str(refused.value)


def test_what_the_workflow_changes_still_changes(engine: Engine) -> None:
    _rows(engine)
    with engine.begin() as connection:
        for statement in ALLOWED_STATEMENTS:
            connection.execute(text(statement), {k: v for k, v in PARAMETERS.items() if f":{k}" in statement})
    with Session(engine) as session:
        case = session.get(Case, "sprawa-1")
        assert case is not None and (case.state, case.refusal) == ("ODMOWIONY", "Brak podstawy.")
        second = session.get(TemplateVersion, 2)
        assert second is not None and (second.xsl, second.used, second.active) == ("poprawiona", True, True)
        with pytest.raises(DBAPIError):  # and now that it is used, no longer
            session.execute(text("UPDATE wersje_szablonow SET wizualizacja = 'x' WHERE id = 2"))
