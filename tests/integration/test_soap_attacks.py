"""Findings of an attack pass on `/soap/zapytania`, `/soap/konta` and `/soap/audyt` of the running hub, each a
regression that failed before its fix: a caller's mistake is a `soap:Client` fault with a stable code and a
Polish sentence, never an empty HTTP 500 or `BLAD_WEWNETRZNY`; an ambiguous WS-Security header is refused, not
read as its first element says; a password change is done once or not at all.

Users are made for these tests (`add_user`), so that a password change or a lockout touches nobody else's."""

from __future__ import annotations

import datetime as dt
import http.client
import threading
from collections.abc import Callable
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest
import requests
from lxml import etree

from audit import EventKind
from tests.integration.conftest import MODEL, RunningHub
from tests.integration.worker_hub import add_user, hub_events
from tests.integration.wsse import WSSE, WSU, fresh_nonce, stamp

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
QUERY = "urn:pl:platforma-komunikacyjna:zapytania:1"
ACCOUNTS = "urn:pl:platforma-komunikacyjna:konta:1"
AUDIT = "urn:pl:platforma-komunikacyjna:audyt:1"
STRONG = "Kasztanowa-Aleja-1987!"
LISTING = f'<ListaZbiorow xmlns="{QUERY}"/>'


def token(login: str, password: str, *, inside: str = "", beside: str = "") -> str:
    """A Security header with one UsernameToken; `inside` is added to the token, `beside` before it."""
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">{beside}<wsse:UsernameToken>'
        f"<wsse:Username>{escape(login)}</wsse:Username><wsse:Password>{escape(password)}</wsse:Password>"
        f"{inside}</wsse:UsernameToken></wsse:Security>"
    )


def envelope(header: str, body: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{ENV}"><soap:Header>{header}</soap:Header>'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def call(hub: RunningHub, service: str, header: str, body: str) -> requests.Response:
    return requests.post(
        hub.endpoint.replace("/zapytania", f"/{service}"),
        data=envelope(header, body),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        timeout=60,
    )


def client_fault(response: requests.Response | http.client.HTTPResponse, content: bytes | None = None) -> str:
    """The stable code of a soap:Client fault with a Polish sentence (no library text, no repr)."""
    content = response.content if isinstance(response, requests.Response) else content
    status = response.status_code if isinstance(response, requests.Response) else response.status
    assert status == 500 and content, (status, content)
    root = etree.fromstring(content)
    faultcode = root.findtext(f".//{{{ENV}}}Fault/faultcode") or ""
    message = root.findtext(f".//{{{ENV}}}Fault/faultstring") or ""
    assert faultcode.endswith(":Client"), (faultcode, message)
    assert "Traceback" not in message and "Error" not in message and "b'" not in message, message
    return root.findtext(f".//{MODEL}Blad/{MODEL}Kod") or ""


def served(response: requests.Response) -> bool:
    return response.status_code == 200 and b"Fault" not in response.content


# -- WS-Security: one identity, one set of anti-replay stamps ---------------------------------------------------
def _now(offset: float = 0) -> str:
    return stamp(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset))


AMBIGUOUS: dict[str, Callable[[str, str], str]] = {
    # The hub read the first of each and served as its login said; another reader may read the last.
    "two-usernames": lambda login, password: token(login, password).replace(
        "</wsse:Username>", "</wsse:Username><wsse:Username>audytor</wsse:Username>"
    ),
    "two-passwords": lambda login, password: token(login, password, inside="<wsse:Password>zle</wsse:Password>"),
    "two-nonces": lambda login, password: token(
        login, password, inside=f"<wsse:Nonce>{fresh_nonce()}</wsse:Nonce><wsse:Nonce>{fresh_nonce()}</wsse:Nonce>"
    ),
    "two-created": lambda login, password: token(
        login, password, inside=f"<wsu:Created>{_now()}</wsu:Created><wsu:Created>2000-01-01T00:00:00Z</wsu:Created>"
    ),
    "two-timestamps": lambda login, password: token(
        login,
        password,
        beside=f"<wsu:Timestamp><wsu:Created>{_now()}</wsu:Created></wsu:Timestamp>"
        "<wsu:Timestamp><wsu:Created>2000-01-01T00:00:00Z</wsu:Created></wsu:Timestamp>",
    ),
    "timestamp-expires-before-created": lambda login, password: token(
        login,
        password,
        beside=f"<wsu:Timestamp><wsu:Created>{_now(100)}</wsu:Created><wsu:Expires>{_now(50)}</wsu:Expires>"
        "</wsu:Timestamp>",
    ),
    # Not xsd:dateTime: Python's ISO 8601 reader took them.
    "created-with-a-space": lambda login, password: token(
        login, password, inside=f"<wsu:Created>{_now().replace('T', ' ')}</wsu:Created>"
    ),
    # The fault says a Nonce is Base64; it was never checked.
    "nonce-not-base64": lambda login, password: token(
        login, password, inside="<wsse:Nonce>!!nie*base64!!</wsse:Nonce>"
    ),
}


@pytest.mark.parametrize("variant", list(AMBIGUOUS), ids=list(AMBIGUOUS))
def test_an_ambiguous_or_malformed_ws_security_header_is_refused(hub: RunningHub, variant: str) -> None:
    login = "pup.kierownik"
    answer = call(hub, "zapytania", AMBIGUOUS[variant](login, hub.user(login)["password"]), LISTING)
    assert client_fault(answer) == "BLEDNE_UWIERZYTELNIENIE"
    message = etree.fromstring(answer.content).findtext(f".//{{{ENV}}}Fault/faultstring") or ""
    assert "WS-Security" in message, message


def test_a_well_formed_header_with_every_stamp_is_still_served(hub: RunningHub) -> None:
    login = "pup.kierownik"
    header = token(
        login,
        hub.user(login)["password"],
        inside=f"<wsse:Nonce>{fresh_nonce()}</wsse:Nonce><wsu:Created>{_now()}</wsu:Created>",
        beside=f"<wsu:Timestamp><wsu:Created>{_now()}</wsu:Created><wsu:Expires>{_now(300)}</wsu:Expires>"
        "</wsu:Timestamp>",
    )
    assert served(call(hub, "zapytania", header, LISTING))


def test_a_security_header_for_another_actor_is_not_the_callers_identity(hub: RunningHub) -> None:
    # SOAP 1.1, 4.2.2: a header block with soap:actor is for that actor. A Security header for a proxy logged
    # its user in at the hub, and beside the caller's own one made the message "two identities".
    login = "pup.kierownik"
    own = token(login, hub.user(login)["password"])
    for_a_proxy = own.replace(
        "<wsse:Security ", f'<wsse:Security soap:actor="http://posrednik.example/" xmlns:soap="{ENV}" '
    )
    assert client_fault(call(hub, "zapytania", for_a_proxy, LISTING)) == "BRAK_UWIERZYTELNIENIA"
    assert served(call(hub, "zapytania", for_a_proxy + own, LISTING))
    for_next = own.replace(
        "<wsse:Security ", f'<wsse:Security soap:actor="http://schemas.xmlsoap.org/soap/actor/next" xmlns:soap="{ENV}" '
    )
    assert served(call(hub, "zapytania", for_next, LISTING))


# -- the envelope ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("service", ["zapytania", "konta", "audyt"])
def test_a_fault_sent_as_a_request_is_a_client_fault_not_an_empty_500(hub: RunningHub, service: str) -> None:
    login = "audytor"
    fault = (
        f'<soap:Fault xmlns:soap="{ENV}"><faultcode>soap:Client</faultcode>'
        "<faultstring>to nie jest żądanie</faultstring></soap:Fault>"
    )
    answer = call(hub, service, token(login, hub.user(login)["password"]), fault)
    assert client_fault(answer) == "NIEPRAWIDLOWE_ZAPYTANIE"  # was HTTP 500 with an empty body


def test_a_chunked_request_is_read_whole(hub: RunningHub) -> None:
    """HTTP/1.1 chunked bodies (no Content-Length; JAX-WS and CXF send larger requests so) were read as empty."""
    login = "pup.kierownik"
    body = envelope(token(login, hub.user(login)["password"]), LISTING)
    address = urlsplit(hub.endpoint)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
    try:
        connection.putrequest("POST", address.path)
        connection.putheader("Content-Type", "text/xml; charset=utf-8")
        connection.putheader("SOAPAction", '""')
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for start in range(0, len(body), 64):
            part = body[start : start + 64]
            connection.send(b"%x\r\n%s\r\n" % (len(part), part))
        connection.send(b"0\r\n\r\n")
        answer = connection.getresponse()
        content = answer.read()
    finally:
        connection.close()
    assert answer.status == 200, content[:500]
    assert b"ListaZbiorowOdpowiedz" in content


# -- password changes ------------------------------------------------------------------------------------------
def change(old: str, new: str) -> str:
    return (
        f'<ZmianaHasla xmlns="{ACCOUNTS}"><StareHaslo>{escape(old)}</StareHaslo>'
        f"<NoweHaslo>{escape(new)}</NoweHaslo></ZmianaHasla>"
    )


def test_a_passphrase_longer_than_72_characters_is_accepted(hub: RunningHub) -> None:
    """The contract allows 200 characters; zxcvbn refuses more than 72 with a ValueError: BLAD_WEWNETRZNY."""
    add_user(hub, "sr.dlugie.haslo", STRONG)
    passphrase = "Wierzby nad Wartą szumią, gdy w Poznaniu pada deszcz o siódmej rano we wtorek 1987"
    assert len(passphrase) > 72
    answer = call(hub, "konta", token("sr.dlugie.haslo", STRONG), change(STRONG, passphrase))
    assert answer.status_code == 200, answer.content[:500]
    assert served(call(hub, "zapytania", token("sr.dlugie.haslo", passphrase), LISTING))


def test_a_long_weak_passphrase_is_weak_not_an_internal_error(hub: RunningHub) -> None:
    add_user(hub, "sr.slabe.dlugie", STRONG)
    answer = call(hub, "konta", token("sr.slabe.dlugie", STRONG), change(STRONG, "a" * 150))
    assert client_fault(answer) == "SLABE_HASLO"


def test_password_changes_racing_with_the_same_old_password_change_it_once(hub: RunningHub) -> None:
    """Each racing change read the old password valid and overwrote the one before: several callers were told
    "Hasło zostało zmienione." and only the last one's password held."""
    login = "sr.wyscig.hasel"
    add_user(hub, login, STRONG)
    assert served(call(hub, "zapytania", token(login, STRONG), LISTING))  # the credential is cached, as in use
    new = [f"Nowe-Haslo-Wisniowy-Sad-{i}-Lipiec!" for i in range(4)]
    answers: list[requests.Response | None] = [None] * len(new)
    barrier = threading.Barrier(len(new))

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = call(hub, "konta", token(login, STRONG), change(STRONG, new[index]))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(new))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done = [i for i, answer in enumerate(answers) if answer is not None and answer.status_code == 200]
    assert len(done) == 1, [a.content[:300] if a is not None else None for a in answers]
    for index, answer in enumerate(answers):
        if index not in done:
            assert answer is not None and client_fault(answer) == "BLEDNE_UWIERZYTELNIENIE"
    assert served(call(hub, "zapytania", token(login, new[done[0]]), LISTING))
    changes = [e for e in hub_events(hub, login) if e.kind == EventKind.PASSWORD_CHANGE and e.success]
    assert len(changes) == 1
