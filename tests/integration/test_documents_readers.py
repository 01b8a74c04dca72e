"""Who reads a case's documents (docs/documents.md): the controller office's signers, and the requesting group.

A request and its certificate hold the person's PESEL and what the controller's replica disclosed about them. An
attack pass found that any account of the controller office (its feeding system, auditor, administrator, template
editor, a group with no rule for the data set) read every request and certificate addressed to it, and that in a
request an office addressed to itself another group's member collected the certificate, with the delivery
receipt (UPD) in their name. Each test below failed before the rule.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree
from zeep import Client
from zeep.wsse.username import UsernameToken

from tests.integration.test_documents_attacks import (
    Powiat,
    client_fault,
    delivered,
    fault_of,
    form,
    now,
    refusal_recorded,
    served_powiat,
    signed_by,
    state,
    transitions,
)
from tests.integration.worker_hub import admin_cli

RECEIPTS = "{urn:pl:platforma-komunikacyjna:dokumenty:poswiadczenia:1}"
#: Accounts of the controller office (PUP) and of the requesting office (OPS) with no part in a case of
#: ops.pracownik's group: PUP's feeding system, administrator, auditor, template editor, a group with no rule
#: for PUP's data; OPS's feeding system and another group.
OUTSIDERS = ["pup.system", "pup.admin", "audytor", "redaktor", "pup.posrednik", "ops.system", "ops.asystent"]


@pytest.fixture(scope="module")
def powiat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Powiat]:
    yield from served_powiat(tmp_path_factory.mktemp("czytelnicy"), "--pup", "40", "--ops", "30", "--sr", "30")


@pytest.mark.parametrize("login", OUTSIDERS)
def test_an_account_with_no_part_in_a_case_reads_none_of_its_documents_and_is_recorded(
    powiat: Powiat, login: str
) -> None:
    case_id, _signed = delivered(powiat, powiat.person("PUP", "OPS"))
    service = powiat.service(login)
    since = now()
    for role in ("WNIOSEK", "ZASWIADCZENIE", "ZASWIADCZENIE_PODPISANE"):
        client_fault(
            fault_of(lambda role=role: service.PobierzDokument(IdentyfikatorSprawy=case_id, Rola=role)),
            "BRAK_UPRAWNIEN",
        )
        client_fault(
            fault_of(lambda role=role: service.PobierzPDF(IdentyfikatorSprawy=case_id, Rola=role)), "BRAK_UPRAWNIEN"
        )
    assert refusal_recorded(powiat, login, since, case_id)
    assert state(powiat, case_id) == "DOSTARCZONY"  # nobody collected it


def test_the_signers_and_the_requesting_group_read_what_they_should(powiat: Powiat) -> None:
    case_id, signed = delivered(powiat, powiat.person("PUP", "OPS"))
    signer = powiat.service("pup.podpisujacy")
    for role in ("WNIOSEK", "ZASWIADCZENIE", "ZASWIADCZENIE_PODPISANE"):
        assert signer.PobierzDokument(IdentyfikatorSprawy=case_id, Rola=role).Tresc
    assert state(powiat, case_id) == "DOSTARCZONY"  # the controller's reading collects nothing
    requester = powiat.service("ops.pracownik")
    assert requester.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="WNIOSEK").Tresc
    assert requester.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE").Tresc == signed
    assert state(powiat, case_id) == "ODEBRANY"


def test_a_certificate_an_office_asked_of_itself_is_collected_by_the_requesting_group_only(powiat: Powiat) -> None:
    """pup.kierownik (KIEROWNICTWO) asks PUP itself; pup.podpisujacy (KIEROWNICTWO too) accepts and signs.
    pup.posrednik (POSREDNICY) reads nothing; the signer's own reading back does not collect it; the
    requester's download does, and the UPD names the requester."""
    pesel = powiat.person("PUP")
    submitted = powiat.service("pup.kierownik").ZlozWniosek(Wniosek=form(pesel, PodstawaPrawna="URPSZ-2025"))
    case_id = str(submitted.Sprawa.IdentyfikatorSprawy)
    signer = powiat.service("pup.podpisujacy")
    signer.PrzyjmijWniosek(IdentyfikatorSprawy=case_id)
    certificate = bytes(signer.PobierzDoPodpisu(IdentyfikatorSprawy=case_id).Tresc)
    intermediary = powiat.service("pup.posrednik")
    client_fault(
        fault_of(lambda: intermediary.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")),
        "BRAK_UPRAWNIEN",
    )
    signer.PrzeslijPodpisany(IdentyfikatorSprawy=case_id, Tresc=signed_by(powiat, "pup.podpisujacy", certificate))
    for role in ("ZASWIADCZENIE", "ZASWIADCZENIE_PODPISANE"):
        client_fault(
            fault_of(lambda role=role: intermediary.PobierzDokument(IdentyfikatorSprawy=case_id, Rola=role)),
            "BRAK_UPRAWNIEN",
        )
    assert signer.PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE_PODPISANE").Tresc
    assert state(powiat, case_id, "pup.kierownik") == "DOSTARCZONY"
    powiat.service("pup.kierownik").PobierzDokument(IdentyfikatorSprawy=case_id, Rola="ZASWIADCZENIE")
    assert state(powiat, case_id, "pup.kierownik") == "ODEBRANY"
    assert transitions(powiat, case_id)[-1][1:3] == ("ODEBRANY", "pup.kierownik")
    receipts = powiat.service("pup.kierownik").PobierzPoswiadczenia(IdentyfikatorSprawy=case_id)
    delivery = etree.fromstring(receipts[-1])
    assert etree.QName(delivery[0]).localname == "UPD", etree.QName(delivery[0]).localname
    assert "pup.kierownik" in [e.text for e in delivery.iter(f"{RECEIPTS}IdentyfikatorPodmiotu")]
    assert "pup.posrednik" not in etree.tostring(delivery).decode()


@pytest.mark.parametrize("login", ["ops.system", "ops.admin"])
def test_an_account_moved_into_the_requesting_group_gains_no_personal_data_without_the_user_role(
    powiat: Powiat, login: str
) -> None:
    """Attack pass: the group's rules were checked, never the role UZYTKOWNIK. ops.admin moved himself (or the
    feeding system) into PRACOWNICY_SOCJALNI with one `users set-group` and then queried people and read the
    group's requests, PESEL included. The move is still an office administrator's to make; it gives nothing."""
    case_id, _signed = delivered(powiat, powiat.person("PUP", "OPS"))
    own_group = next(u["group"] for u in powiat.demo["users"] if u["login"] == login)
    moved = admin_cli(powiat.running, "ops.admin", "users", "set-group", login, "PRACOWNICY_SOCJALNI")
    assert moved.returncode == 0, moved.stderr
    try:
        service = powiat.service(login, fresh=True)
        since = now()
        for role in ("WNIOSEK", "ZASWIADCZENIE"):
            client_fault(
                fault_of(lambda role=role: service.PobierzDokument(IdentyfikatorSprawy=case_id, Rola=role)),
                "BRAK_UPRAWNIEN",
            )
        assert refusal_recorded(powiat, login, since, case_id)
        client_fault(fault_of(lambda: service.ZlozWniosek(Wniosek=form(powiat.person("PUP")))), "BRAK_UPRAWNIEN")
        queries = Client(
            str(powiat.demo["wsdl"]["zapytania"]), wsse=UsernameToken(login, powiat.user(login)["password"])
        ).service
        assert not queries.ListaZbiorow()
        refused = fault_of(
            lambda: queries.ZapytanieOBeneficjenta(
                Zapytanie={
                    "IdentyfikatorBeneficjenta": {"Pesel": powiat.person("PUP")},
                    "PodstawaPrawna": "UPS-2004",
                    "Cel": "Próba konta bez roli użytkownika",
                    "Zbiory": {"Zbior": [{"Kod": "PUP", "Zakres": {"Kategoria": ["DANE_OSOBOWE"]}}]},
                }
            )
        )
        assert client_fault(refused, "BRAK_UPRAWNIEN") and "UZYTKOWNIK" in refused.message
        assert state(powiat, case_id) == "DOSTARCZONY"
    finally:
        admin_cli(powiat.running, "ops.admin", "users", "set-group", login, own_group)
