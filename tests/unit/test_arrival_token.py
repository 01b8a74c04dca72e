"""The UsernameToken read from a request as it arrives (`hub.soap.services.security.arrival_token`): the token
the service will read, from the header only, and nothing for a message the service will refuse."""

from __future__ import annotations

import pytest

from hub.soap.services.security import arrival_token

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"


def envelope(header: str, body: str = "<ListaZbiorow/>", prolog: str = "") -> bytes:
    return (
        f'{prolog}<s:Envelope xmlns:s="{SOAP}" xmlns:w="{WSSE}"><s:Header>{header}</s:Header>'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


PASSWORD = "Haslo-Testowe-1!"


def token(login: str = "sr.referent", password: str = PASSWORD, password_attributes: str = "") -> str:
    return (
        f"<w:Security><w:UsernameToken><w:Username>{login}</w:Username>"
        f"<w:Password{password_attributes}>{password}</w:Password></w:UsernameToken></w:Security>"
    )


def test_the_token_of_the_header_is_read() -> None:
    found = arrival_token(envelope(token()))
    assert found is not None and (found.login, found.password) == ("sr.referent", PASSWORD)


def test_a_large_body_is_not_parsed_past_the_header() -> None:
    # A body that is not even well-formed after the header: only the header was read.
    found = arrival_token(envelope(token(), body="<Dokument>" + "x" * 2_000_000 + "<niedomkniety>"))
    assert found is not None and found.login == "sr.referent"


@pytest.mark.parametrize(
    "message",
    [
        envelope(token(password_attributes=f' Type="{DIGEST}"')),  # never checked: refused by the service
        envelope(token() + token("ops.jan")),  # two identities: the service refuses the message
        envelope(token(), prolog='<!DOCTYPE s:Envelope [<!ENTITY e "x">]>'),
        envelope("<w:Security><w:UsernameToken><w:Username>x</w:Username></w:UsernameToken></w:Security>"),
        envelope(token()).replace(b"</s:Header>", b""),  # not well-formed before the body
        b"UsernameToken",
        b"\xff\xfe" + envelope(token()).decode().encode("utf-16-le"),
        envelope("", body=f"<Dane>{token()}</Dane>"),  # a token in the body is no one's credential
    ],
    ids=["digest", "two-tokens", "doctype", "no-password", "malformed", "not-xml", "utf-16", "in-the-body"],
)
def test_no_token_for_a_message_the_service_refuses_or_reads_otherwise(message: bytes) -> None:
    assert arrival_token(message) is None
