"""The UsernameToken read from a request as it arrives (`hub.soap.services.security.arrival_token`): the token
the service will read, from the header only, and nothing for a message the service will refuse."""

from __future__ import annotations

import time

import pytest

from hub.soap.server import Arrivals
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


# -- Arrivals, in the I/O thread --------------------------------------------------------------------------------
class NoReactor:
    """What `Arrivals` asks of a reactor when it is made; these tests never reach its thread."""

    def callWhenRunning(self, *arguments: object) -> None:
        pass

    def addSystemEventTrigger(self, *arguments: object) -> None:
        pass


class RememberingAccounts:
    """Accounts that remember every credential (or fail when asked), counting the questions."""

    def __init__(self, error: Exception | None = None) -> None:
        self.asked = 0
        self.error = error

    def remembered_until(self, login: str, password: str) -> float:
        self.asked += 1
        if self.error is not None:
            raise self.error
        return time.monotonic() + 60


def admitted(arrivals: Arrivals, body: bytes) -> dict[str, object]:
    environ: dict[str, object] = {}
    went_on: list[bool] = []
    arrivals.admit(body, environ, lambda: went_on.append(True))
    assert went_on == [True]  # the request goes on, at once, with nothing reserved
    return environ


def test_a_remembered_token_is_read_once_then_known_by_its_text() -> None:
    accounts = RememberingAccounts()
    arrivals = Arrivals(accounts, NoReactor())  # type: ignore[arg-type]
    for _ in range(3):
        assert admitted(arrivals, envelope(token())) == {}
    assert accounts.asked == 1
    admitted(arrivals, envelope(token(password="Inne-Haslo-Testowe-2!")))
    assert accounts.asked == 2  # another password is another text


def test_a_failure_while_reading_the_token_lets_the_request_go_on() -> None:
    accounts = RememberingAccounts(error=RuntimeError("baza niedostępna"))
    assert admitted(Arrivals(accounts, NoReactor()), envelope(token())) == {}  # type: ignore[arg-type]
    assert accounts.asked == 1
