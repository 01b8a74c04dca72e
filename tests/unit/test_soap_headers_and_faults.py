"""Header blocks and fault details. The `UzytkownikKoncowy` header block (a system acting for an end user) is
read as SOAP 1.1 says header blocks are: one for another `soap:actor` is not the hub's, and two for the hub are
ambiguous, as two Security headers are (attack pass: either was served, the first of two winning)."""

from __future__ import annotations

import pytest
from lxml import etree

from contract.errors import AuthenticationFailed
from hub.soap.services.security import end_user_login

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
Q = "urn:pl:platforma-komunikacyjna:zapytania:1"


def header(*blocks: str) -> etree._Element:
    return etree.fromstring(f'<s:Header xmlns:s="{SOAP}" xmlns:q="{Q}">{"".join(blocks)}</s:Header>')


def block(login: str, actor: str | None = None) -> str:
    attribute = f' s:actor="{actor}"' if actor is not None else ""
    return f"<q:UzytkownikKoncowy{attribute}><q:Login>{login}</q:Login></q:UzytkownikKoncowy>"


def test_one_block_for_the_hub_names_the_end_user() -> None:
    assert end_user_login(list(header(block("ops.pracownik")))) == "ops.pracownik"
    assert end_user_login(list(header(block("ops.pracownik", "http://schemas.xmlsoap.org/soap/actor/next")))) == (
        "ops.pracownik"
    )


def test_a_block_for_another_actor_is_not_the_hubs() -> None:
    assert end_user_login(list(header(block("ops.pracownik", "urn:inny-wezel")))) is None
    assert end_user_login(list(header(block("ops.asystent", "urn:inny-wezel"), block("ops.pracownik")))) == (
        "ops.pracownik"
    )


def test_two_blocks_for_the_hub_are_refused_whatever_their_order() -> None:
    for blocks in ((block("ops.pracownik"), block("ops.asystent")), (block("ops.asystent"), block("ops.pracownik"))):
        with pytest.raises(AuthenticationFailed, match="więcej niż jeden nagłówek UzytkownikKoncowy"):
            end_user_login(list(header(*blocks)))


def test_a_faults_message_is_bounded_as_the_model_publishes_it() -> None:
    """Contracts pass: a message naming 64 unknown categories made `Blad/Komunikat` 1,818 characters long, over
    xsd/model-1.xsd's 1,000: the fault's detail was invalid against every WSDL."""
    from hub.soap.services.faults import error_detail

    schema = etree.XMLSchema(etree.parse("xsd/model-1.xsd"))
    message = "Nieznane kategorie zbioru PUP: " + ", ".join(f"K{i:02d}_NIEZNANA_KATEGORIA" for i in range(64)) + "."
    blad = error_detail("NIEZNANA_KATEGORIA", message)
    schema.assertValid(blad)
    assert blad.findtext("{*}Komunikat").endswith("…") and len(blad.findtext("{*}Komunikat")) == 1000
    short = error_detail("NIEZNANA_KATEGORIA", "Nieznana kategoria K01.")
    assert short.findtext("{*}Komunikat") == "Nieznana kategoria K01."
