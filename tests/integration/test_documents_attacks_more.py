"""A fourth attack pass on /soap/dokumenty and its templates (issue 15; docs/documents.md), after
test_documents_attacks.py, test_templates_attacks.py, test_documents_sandbox.py and
test_documents_templates_soap.py: case identifiers of the wrong kind, template metadata of the wrong JSON type,
a template file whose fields disagree, schemas with pathological content models, and the receipts of a hub
restarted on the same data (its seal loaded again), checked with xmlsec1.

One demo powiat (`platforma demo`, as test_documents_attacks.py starts it) is served for the module; the last test
restarts it. Every caller's mistake must be a soap:Client fault with a stable code and a Polish sentence, and
write nothing.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from zeep.exceptions import Fault

from tests.integration.conftest import MODEL, start_demo_hub
from tests.integration.test_documents_attacks import (
    DOCS,
    Powiat,
    _xmlsec1,
    accepted,
    client_fault,
    delivered,
    hub_rows,
    polish,
    post,
    security_header,
    state,
    stored_roles,
    submit,
    transitions,
)

CERTIFICATE = "ZASWIADCZENIE_PUP_REJESTRACJA"
EDITOR = "redaktor"
SIGNER = "pup.podpisujacy"


@pytest.fixture(scope="module")
def powiat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Powiat]:
    running = start_demo_hub(
        tmp_path_factory.mktemp("atak-dokumenty-wiecej"), "--gminas", "1", "--pup", "40", "--ops", "30", "--sr", "30"
    )
    powiat = Powiat(running)
    yield powiat
    stop(powiat)


def stop(powiat: Powiat) -> None:
    powiat.running.process.terminate()
    try:
        powiat.running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        powiat.running.process.kill()
        powiat.running.process.wait(timeout=15)


def answer_of(call: Callable[[], Any]) -> Any:
    """The answer of a call, or the Fault it raised."""
    try:
        return call()
    except Fault as fault:
        return fault


def fault(outcome: Any, *codes: str) -> str:
    assert isinstance(outcome, Fault), f"expected a soap:Client fault {codes}, got: {str(outcome)[:400]!r}"
    return client_fault(outcome, *codes)


def code_of(outcome: Fault) -> str | None:
    return outcome.detail.findtext(f"{MODEL}Blad/{MODEL}Kod") if outcome.detail is not None else None


def templates_written(powiat: Powiat) -> tuple[list[tuple[Any, ...]], int]:
    versions = hub_rows(powiat, "SELECT rodzaj, wersja, schemat, wizualizacja, metadane, aktywna FROM wersje_szablonow")
    return versions, hub_rows(powiat, "SELECT count(*) FROM zmiany_szablonow")[0][0]


def cases_written(powiat: Powiat) -> tuple[int, int, int, int]:
    return (
        hub_rows(powiat, "SELECT count(*) FROM sprawy_dokumentow")[0][0],
        hub_rows(powiat, "SELECT count(*) FROM dokumenty")[0][0],
        hub_rows(powiat, "SELECT count(*) FROM przejscia_spraw")[0][0],
        hub_rows(powiat, "SELECT count(*) FROM poswiadczenia")[0][0],
    )


def exported(powiat: Powiat, document_type: str = CERTIFICATE) -> dict[str, Any]:
    answer = powiat.service(EDITOR).PobierzSzablon(RodzajDokumentu=document_type, Wersja=1)
    return dict(json.loads(answer.PlikSzablonu))


# == case identifiers of the wrong kind =============================================================================
def _operations(powiat: Powiat, signed: bytes) -> dict[str, Callable[[str], Any]]:
    pup, ops = powiat.service(SIGNER), powiat.service("ops.pracownik")
    return {
        "PobierzDokument": lambda c: ops.PobierzDokument(IdentyfikatorSprawy=c, Rola="WNIOSEK"),
        "PrzyjmijWniosek": lambda c: pup.PrzyjmijWniosek(IdentyfikatorSprawy=c),
        "OdmowWniosku": lambda c: pup.OdmowWniosku(IdentyfikatorSprawy=c, Powod="Brak podstawy prawnej"),
        "PobierzDoPodpisu": lambda c: pup.PobierzDoPodpisu(IdentyfikatorSprawy=c),
        "PrzeslijPodpisany": lambda c: pup.PrzeslijPodpisany(IdentyfikatorSprawy=c, Tresc=signed),
        "OpieczetujZaswiadczenie": lambda c: pup.OpieczetujZaswiadczenie(IdentyfikatorSprawy=c),
        "PobierzPoswiadczenia": lambda c: ops.PobierzPoswiadczenia(IdentyfikatorSprawy=c),
        "PobierzPDF": lambda c: ops.PobierzPDF(IdentyfikatorSprawy=c, Rola="WNIOSEK"),
    }


def test_case_identifiers_of_the_wrong_kind_are_client_faults_that_write_nothing(powiat: Powiat) -> None:
    """An empty identifier, 10,000 characters, an existing case's UUID in capitals or in braces, a UUID no case
    has, and text that only looks like one: each operation answers a soap:Client fault in Polish, nothing is
    written, and the real case is untouched."""
    case_id, _certificate = accepted(powiat)
    signed = powiat.service(SIGNER).PobierzDoPodpisu(IdentyfikatorSprawy=case_id).Tresc
    wrong = {
        "empty": "",
        "long": "a" * 10_000,
        "capitals": case_id.upper(),
        "braces": "{" + case_id + "}",
        "unknown": str(uuid.uuid4()),
        "like-sql": "' OR '1'='1",
        "padded": f" {case_id} ",
    }
    before = cases_written(powiat)
    history = transitions(powiat, case_id)
    for operation, call in _operations(powiat, bytes(signed)).items():
        for name, value in wrong.items():
            outcome = answer_of(lambda call=call, value=value: call(value))
            assert isinstance(outcome, Fault), (operation, name, str(outcome)[:300])
            assert str(outcome.code).endswith("Client"), (operation, name, outcome.code, outcome.message)
            assert code_of(outcome), (operation, name, outcome.message)
            polish(outcome.message)
            assert value not in (outcome.message or "") or len(value) < 100, (operation, name)
    assert cases_written(powiat) == before
    assert transitions(powiat, case_id) == history
    assert stored_roles(powiat, case_id) == ["WNIOSEK", "ZASWIADCZENIE"]


def test_an_operation_on_a_case_of_the_same_office_in_another_state_is_refused_in_polish(powiat: Powiat) -> None:
    """A delivered case's id given where a case waiting for a signature is expected, and a fresh one where a
    delivered one is: WrongState-like refusals in Polish, nothing written."""
    done_id, signed = delivered(powiat)
    fresh_id = str(submit(powiat).Sprawa.IdentyfikatorSprawy)
    pup = powiat.service(SIGNER)
    before = cases_written(powiat)
    for outcome in (
        answer_of(lambda: pup.PrzeslijPodpisany(IdentyfikatorSprawy=done_id, Tresc=signed)),
        answer_of(lambda: pup.PrzeslijPodpisany(IdentyfikatorSprawy=fresh_id, Tresc=signed)),
        answer_of(lambda: pup.PrzyjmijWniosek(IdentyfikatorSprawy=done_id)),
        answer_of(lambda: pup.OpieczetujZaswiadczenie(IdentyfikatorSprawy=done_id)),
        answer_of(lambda: pup.PobierzDoPodpisu(IdentyfikatorSprawy=fresh_id)),
        answer_of(lambda: pup.OdmowWniosku(IdentyfikatorSprawy=done_id, Powod="Brak podstawy")),
    ):
        assert isinstance(outcome, Fault), str(outcome)[:300]
        assert str(outcome.code).endswith("Client"), (outcome.code, outcome.message)
        polish(outcome.message)
    assert cases_written(powiat) == before


# == template metadata and files ====================================================================================
@pytest.mark.parametrize(
    "metadata",
    [
        '{"tytul": 5}',
        '{"tytul": null}',
        '{"tytul": ["Zaświadczenie"]}',
        '{"opis": {"a": "b"}}',
        '{"kategorie": "OKRESY_REJESTRACJI"}',
        '{"kategorie": null}',
        '{"kategorie": [1, 2]}',
        '{"przestrzen_nazw": 1}',
        '{"rodzaj": 5}',
        '{"klasa": false}',
        "null",
        "[]",
        '"tekst"',
        "5",
        '{"tytul": NaN}',
        '{"opis": Infinity}',
        '{"tytul": "Zaświadczenie", "tytul": 5}',
        '{"dodatkowe": NaN}',
        '{"dodatkowe": -Infinity}',
        '{"dodatkowe": [1e999]}',
        # Longer than the contract's Tekst (2000): stored, it made ListaSzablonow answers invalid against the WSDL.
        pytest.param('{"tytul": "' + "o" * 2001 + '"}', id="tytul-2001-characters"),
        pytest.param('{"podstawa_prawna": "' + "ą" * 2001 + '"}', id="podstawa-2001-characters"),
    ],
)
def test_metadata_of_the_wrong_json_type_are_refused_and_nothing_is_stored(powiat: Powiat, metadata: str) -> None:
    """Finding: NaN, Infinity and 1e999 (Python's decoder reads them, JSON has none) in a field that is not text
    were stored, and the version's export (PobierzSzablon, `templates export`) was then no JSON for any reader but
    Python's. The other cases held."""
    before = templates_written(powiat)
    outcome = answer_of(
        lambda: powiat.service(EDITOR).NowaWersjaSzablonu(RodzajDokumentu=CERTIFICATE, Metadane=metadata)
    )
    fault(outcome, "NIEPRAWIDLOWY_SZABLON")
    assert templates_written(powiat) == before


def _file(content: dict[str, Any]) -> bytes:
    return json.dumps(content, ensure_ascii=False).encode()


def test_a_template_file_whose_fields_disagree_is_refused_and_nothing_is_stored(powiat: Powiat) -> None:
    """The namespace in the metadata is not the schema's; the class or data set is another type's; a field of the
    metadata has the wrong type; the metadata are not an object; a non-JSON constant."""
    base = exported(powiat)
    target = 'targetNamespace="' + base["metadane"]["przestrzen_nazw"] + '"'
    variants: dict[str, bytes] = {
        "namespace": _file({**base, "metadane": {**base["metadane"], "przestrzen_nazw": "urn:inna:1"}}),
        "schema-namespace": _file({**base, "schemat": base["schemat"].replace(target, 'targetNamespace="urn:inna:2"')}),
        "class": _file({**base, "metadane": {**base["metadane"], "klasa": "WNIOSEK"}}),
        "data-set": _file({**base, "metadane": {**base["metadane"], "zbior": "OPS"}}),
        "title-number": _file({**base, "metadane": {**base["metadane"], "tytul": 7}}),
        "metadata-list": _file({**base, "metadane": [base["metadane"]]}),
        "nan": _file(base).replace(b'"tytul": "', b'"dodatkowe": NaN, "tytul": "', 1),
    }
    for name, content in variants.items():
        before = templates_written(powiat)
        outcome = answer_of(lambda content=content: powiat.service(EDITOR).ImportujSzablon(PlikSzablonu=content))
        assert isinstance(outcome, Fault), (name, str(outcome)[:300])
        fault(outcome, "NIEPRAWIDLOWY_SZABLON", "NIEPRAWIDLOWE_ZAPYTANIE")
        assert templates_written(powiat) == before, name


def test_schemas_with_pathological_content_models_answer_and_read_nothing(powiat: Powiat) -> None:
    """Nested counted repetitions, a long alternation in a pattern, an xs:import of the XML namespace without a
    location (libxml2 knows that one): the hub answers each (stored or refused in Polish), and nothing connects
    to a loopback listener while it compiles them."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.5)
    schema = exported(powiat)["schemat"]
    top = 'elementFormDefault="qualified">'
    extras = [
        '<xs:import namespace="http://www.w3.org/XML/1998/namespace"/>',
        '<xs:complexType name="Zagniezdzone"><xs:sequence minOccurs="3000" maxOccurs="3000">'
        '<xs:element name="b" minOccurs="3000" maxOccurs="3000"/></xs:sequence></xs:complexType>',
        '<xs:simpleType name="Wzorzec"><xs:restriction base="xs:string"><xs:pattern value="'
        + "(a|b" * 2000
        + ")" * 2000
        + '"/></xs:restriction></xs:simpleType>',
        '<xs:simpleType name="Licznik"><xs:restriction base="xs:string">'
        '<xs:pattern value="((a{1,1000}){1,1000}){1,1000}"/></xs:restriction></xs:simpleType>',
        f'<xs:import namespace="http://127.0.0.1:{server.getsockname()[1]}/x.xsd"/>',
    ]
    for extra in extras:
        outcome = answer_of(
            lambda extra=extra: powiat.service(EDITOR).NowaWersjaSzablonu(
                RodzajDokumentu=CERTIFICATE, Schemat=schema.replace(top, top + extra, 1)
            )
        )
        if isinstance(outcome, Fault):
            fault(outcome, "NIEPRAWIDLOWY_SZABLON")
    try:
        connection, _ = server.accept()
    except TimeoutError:
        server.close()
        return
    connection.close()
    server.close()
    pytest.fail("the hub connected to the loopback listener while compiling a schema")


# == Base64 with characters outside its alphabet ===================================================================
@pytest.mark.parametrize("junk", ["!!!!", "QUJD*REVG", "QUJDRA=", "QU JD\u00a0RA=="])
def test_base64_with_characters_outside_its_alphabet_is_refused_and_nothing_is_stored(
    powiat: Powiat, junk: str
) -> None:
    """Finding (sweep pass): libxml2's base64Binary check let `!!!!` and a `*` every four characters through and
    the decoder dropped them: the upload was "an empty document", and a template file with junk between its
    characters was imported as a new version. Now NIEZGODNOSC_ZE_SCHEMATEM in Polish, and nothing is stored.
    Line-wrapped Base64 (XML whitespace) is still Base64."""
    case_id, _certificate = accepted(powiat)
    upload = (
        f'<d:PrzeslijPodpisany xmlns:d="{DOCS}"><d:IdentyfikatorSprawy>{case_id}</d:IdentyfikatorSprawy>'
        f"<d:Tresc>{junk}</d:Tresc></d:PrzeslijPodpisany>"
    )
    status, faultcode, code, message = post(powiat, security_header(powiat, SIGNER), upload)
    assert (status, faultcode.endswith("Client"), code) == (500, True, "NIEZGODNOSC_ZE_SCHEMATEM"), message
    assert message is not None and ("Base64" in message or "Tresc" in message)
    polish(message)
    assert state(powiat, case_id) == "DO_PODPISU"
    versions = len(powiat.service(EDITOR).ListaSzablonow())
    template = base64.b64encode(json.dumps(exported(powiat)).encode()).decode()
    starred = "*".join(template[i : i + 4] for i in range(0, len(template), 4))
    imported = f'<d:ImportujSzablon xmlns:d="{DOCS}"><d:PlikSzablonu>{starred}</d:PlikSzablonu></d:ImportujSzablon>'
    status, _faultcode, code, message = post(powiat, security_header(powiat, EDITOR), imported)
    assert (status, code) == (500, "NIEZGODNOSC_ZE_SCHEMATEM"), message
    assert len(powiat.service(EDITOR).ListaSzablonow()) == versions


def test_line_wrapped_base64_is_still_base64(powiat: Powiat) -> None:
    template = base64.b64encode(json.dumps(exported(powiat)).encode()).decode()
    wrapped = "\r\n".join(template[i : i + 76] for i in range(0, len(template), 76))
    imported = f'<d:ImportujSzablon xmlns:d="{DOCS}"><d:PlikSzablonu>{wrapped}</d:PlikSzablonu></d:ImportujSzablon>'
    status, _faultcode, code, message = post(powiat, security_header(powiat, EDITOR), imported)
    assert (status, code) == (200, None), message


# == a restart: the seal loaded again (this test restarts the hub: it stays last) ====================================
def test_receipts_before_and_after_a_restart_verify_with_xmlsec1(powiat: Powiat, tmp_path: Path) -> None:
    case_id, _signed = delivered(powiat)
    ops = powiat.service("ops.pracownik")
    ops.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    receipts = [bytes(r) for r in ops.PobierzPoswiadczenia(IdentyfikatorSprawy=case_id)]
    assert len(receipts) == 3
    stop(powiat)
    (powiat.directory / "demo.json").unlink()
    powiat.running = start_demo_hub(powiat.directory, "--gminas", "1")
    powiat.clients.clear()
    ops = powiat.service("ops.pracownik")
    assert [bytes(r) for r in ops.PobierzPoswiadczenia(IdentyfikatorSprawy=case_id)] == receipts
    after_id, _ = delivered(powiat)
    ops.PobierzDokument(IdentyfikatorSprawy=after_id, Rola="ZASWIADCZENIE")
    after = [bytes(r) for r in ops.PobierzPoswiadczenia(IdentyfikatorSprawy=after_id)]
    assert len(after) == 3
    for number, receipt in enumerate([*receipts, *after]):
        path = tmp_path / f"upd-{number}.xml"
        path.write_bytes(receipt)
        checked = _xmlsec1(powiat, path)
        assert checked.returncode == 0, (number, checked.stderr[-500:])


def test_a_version_activated_after_submission_never_discloses_more_than_the_request_asked(powiat: Powiat) -> None:
    """Finding (gminas pass): the certificate was made from the categories of the version active at acceptance.
    A version activated meanwhile that adds DANE_OSOBOWE put the person's data the request never named into the
    certificate and the register. Acceptance is now refused, the case waits as submitted, nothing is disclosed."""
    from audit.sql import SqlDisclosureRegister

    pesel = powiat.person("PUP", "OPS")
    case_id = str(submit(powiat, pesel=pesel).Sprawa.IdentyfikatorSprawy)
    editor = powiat.service(EDITOR)
    active = next(t.Wersja for t in editor.ListaSzablonow() if t.RodzajDokumentu == CERTIFICATE and t.Aktywna)
    wider = editor.NowaWersjaSzablonu(
        RodzajDokumentu=CERTIFICATE,
        Metadane=json.dumps({"kategorie": ["DANE_OSOBOWE", "OKRESY_REJESTRACJI", "HISTORIA_STATUSOW"]}),
    )
    editor.AktywujSzablon(RodzajDokumentu=CERTIFICATE, Wersja=wider.Wersja)
    try:
        outcome = answer_of(lambda: powiat.service(SIGNER).PrzyjmijWniosek(IdentyfikatorSprawy=case_id))
        fault(outcome, "NIEPRAWIDLOWE_ZAPYTANIE")
        assert "DANE_OSOBOWE" in outcome.message and "Odmów wniosku" in outcome.message
    finally:
        editor.AktywujSzablon(RodzajDokumentu=CERTIFICATE, Wersja=active)
    assert stored_roles(powiat, case_id) == ["WNIOSEK"]
    assert state(powiat, case_id) == "ZLOZONY"
    register = SqlDisclosureRegister(f"sqlite:///{powiat.directory / 'audyt' / 'audit.sqlite'}")
    try:
        assert [r for r in register.records() if r.request_id == case_id and r.outcome.value == "UJAWNIONO"] == []
    finally:
        register.dispose()
    # With the version the request was made for active again, the same request is accepted.
    powiat.service(SIGNER).PrzyjmijWniosek(IdentyfikatorSprawy=case_id)
    assert stored_roles(powiat, case_id) == ["WNIOSEK", "ZASWIADCZENIE"]
