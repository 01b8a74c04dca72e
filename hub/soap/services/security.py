"""WS-Security UsernameToken (OASIS WSS UsernameToken Profile 1.1) and Timestamp, read from the SOAP header.

Spyne does not check WS-Security headers (STACK.md); this does. Only PasswordText is accepted: a digest
would require the password in clear on the server, and the transport is TLS in production. A Nonce, a
Created and a wsu:Timestamp are optional; when present they are checked against replay (`Accounts.admit_token`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree

from contract import xmlsafe
from contract.catalog import QUERY_NS
from contract.errors import AuthenticationFailed, AuthenticationRequired, PlatformError
from hub.domain.accounts import Reservation, TokenStamps
from hub.soap.services import faults
from hub.soap.services.protocol import SOAP_ENV

if TYPE_CHECKING:
    from hub.core import HubCore
    from hub.domain.policy import Caller

END_USER = f"{{{QUERY_NS}}}UzytkownikKoncowy"
CLIENT_CN = "platforma.client_subject_cn"  # set by hub.soap.server from the TLS peer certificate
RESERVATION = "platforma.rezerwacja_logowania"  # set by hub.soap.server when the request arrives

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"  # noqa: S105
_MAX_NONCE = 1024  # characters of a Nonce (16 random bytes are 24 in Base64)

#: The header blocks `identify` processes, on every service: any other one marked soap:mustUnderstand="1" for
#: the hub is refused with a soap:MustUnderstand fault before the caller is identified (HubSoap11).
UNDERSTOOD_HEADERS = frozenset({f"{{{WSSE}}}Security", END_USER})


@dataclass(frozen=True)
class UsernameToken:
    """A UsernameToken as sent: the password's type, and the Nonce and Created texts (None when absent)."""

    login: str
    password: str
    password_type: str
    nonce: str | None
    created: str | None


def security_header(header: Iterable[etree._Element] | etree._Element | None) -> etree._Element | None:
    """The `wsse:Security` element of the SOAP header, if any."""
    elements: Iterable[etree._Element]
    if header is None:
        elements = ()
    elif isinstance(header, etree._Element):
        elements = [header] if header.tag == f"{{{WSSE}}}Security" else list(header)
    else:
        elements = header
    found = [e for e in elements if e.tag == f"{{{WSSE}}}Security" and _for_the_hub(e)]
    if len(found) > 1:
        # Two identities in one message: which one asks would be ambiguous (and a second one's wrong password
        # neither refused nor counted). WS-Security allows several headers only for different actors.
        raise AuthenticationFailed("Komunikat zawiera więcej niż jeden nagłówek WS-Security; dołącz dokładnie jeden.")
    return found[0] if found else None


#: SOAP 1.1, 4.2.2: a header block with a `soap:actor` is for that actor; "next" names whoever receives it.
_ACTOR = f"{{{SOAP_ENV}}}actor"
_ACTOR_NEXT = "http://schemas.xmlsoap.org/soap/actor/next"


def _for_the_hub(block: etree._Element) -> bool:
    """True for a header block the hub, the message's ultimate receiver, is to process: one without a
    `soap:actor`, or with "next". A Security header for another actor (a proxy's, WS-Security 1.1, 6) is not
    the caller's identity here, so it neither logs anyone in nor counts as a second identity."""
    actor = block.get(_ACTOR)
    return actor is None or actor.strip() in ("", _ACTOR_NEXT)


def username_token(security: etree._Element | None) -> UsernameToken:
    """The UsernameToken of the Security header, or a Polish authentication error."""
    tokens = security.findall(f"{{{WSSE}}}UsernameToken") if security is not None else []
    if len(tokens) > 1:
        raise AuthenticationFailed(
            "Nagłówek WS-Security zawiera więcej niż jeden UsernameToken; dołącz dokładnie jeden."
        )
    token = tokens[0] if tokens else None
    if token is not None:
        _at_most_one(token, (f"{{{WSSE}}}Username", f"{{{WSSE}}}Password", f"{{{WSSE}}}Nonce", f"{{{WSU}}}Created"))
        login = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
        password = token.find(f"{{{WSSE}}}Password")
        if login and password is not None:
            nonce = token.find(f"{{{WSSE}}}Nonce")
            created = token.find(f"{{{WSU}}}Created")
            return UsernameToken(
                login,
                password.text or "",
                password.get("Type", PASSWORD_TEXT),
                # Base64 ignores whitespace: a nonce re-wrapped with a line break is the same nonce.
                None if nonce is None else "".join((nonce.text or "").split()),
                None if created is None else created.text or "",
            )
    raise AuthenticationRequired(
        "Brak poświadczeń: dołącz nagłówek WS-Security z elementem UsernameToken (login i hasło)."
    )


_CHUNK = 8192


def arrival_token(body: bytes) -> UsernameToken | None:
    """The PasswordText UsernameToken of a request body as it arrives, before the service reads it, so that its
    login attempt is counted in arrival order (`Accounts.reserve_on_arrival`); None for anything else,
    including a message the service will refuse (the service answers it).

    Only the envelope's start and header are parsed (the body may be a large document), with the hardened
    parser's options; a DTD or an entity declaration anywhere is left to the service to refuse.
    """
    if b"UsernameToken" not in body or b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return None
    parser = etree.XMLPullParser(events=("start",), **xmlsafe.OPTIONS)
    try:
        for offset in range(0, len(body), _CHUNK):
            parser.feed(body[offset : offset + _CHUNK])
            for _, element in parser.read_events():
                if element.tag == f"{{{SOAP_ENV}}}Body":
                    envelope = element.getparent()
                    header = None if envelope is None else envelope.find(f"{{{SOAP_ENV}}}Header")
                    token = username_token(security_header(header))
                    return token if token.password_type == PASSWORD_TEXT else None
    except Exception:  # noqa: S110 - not a token to count here; the service refuses the message itself
        pass
    return None


def _at_most_one(parent: etree._Element, tags: Iterable[str]) -> None:
    """Each of `tags` at most once in `parent` (UsernameToken Profile 1.1, 4; SOAP Message Security 1.1, 10): a
    second Username, Password, Nonce, Created or Timestamp would leave which one counts to the reader (the hub
    read the first, another reader may read the last), as two Security headers would."""
    for tag in tags:
        if len(parent.findall(tag)) > 1:
            name = etree.QName(tag).localname
            raise AuthenticationFailed(
                f"Nagłówek WS-Security zawiera więcej niż jeden element {name}; dołącz dokładnie jeden."
            )


# xsd:dateTime (XML Schema 1.0, 3.2.7) as WSS writes it: `T` between date and time, seconds, an optional
# fraction and zone. `datetime.fromisoformat` alone also took ISO 8601's other forms (`2025-03-01 08:00:00`,
# a date alone, week dates), which no WS-Security stack writes.
_XSD_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _moment(text: str) -> dt.datetime:
    """An xsd:dateTime of a wsu element; WSS 1.1 writes them in UTC, so one without a zone is UTC."""
    text = text.strip()
    if not _XSD_DATE_TIME.fullmatch(text):
        raise ValueError(text)
    moment = dt.datetime.fromisoformat(text)  # a fraction past microseconds is cut
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def token_stamps(security: etree._Element | None, token: UsernameToken | None) -> TokenStamps:
    """The Nonce, Created and Timestamp of the header; `ValueError` naming the element that is malformed."""
    created = expires = None
    timestamp = security.find(f"{{{WSU}}}Timestamp") if security is not None else None
    if security is not None:
        _at_most_one(security, (f"{{{WSU}}}Timestamp",))
    if timestamp is not None:
        _at_most_one(timestamp, (f"{{{WSU}}}Created", f"{{{WSU}}}Expires"))
        created, expires = timestamp.findtext(f"{{{WSU}}}Created"), timestamp.findtext(f"{{{WSU}}}Expires")
    stamps: dict[str, Any] = {}
    for name, text, what in (
        ("created", token.created if token else None, "wsu:Created tokenu"),
        ("timestamp_created", created, "wsu:Timestamp/wsu:Created"),
        ("timestamp_expires", expires, "wsu:Timestamp/wsu:Expires"),
    ):
        if text is not None:
            try:
                stamps[name] = _moment(text)
            except ValueError:
                raise ValueError(what) from None
    if token is not None and token.nonce is not None:
        if not token.nonce or len(token.nonce) > _MAX_NONCE or not _BASE64.fullmatch(token.nonce):
            raise ValueError("wsse:Nonce")
        stamps["nonce"] = token.nonce
    made, until = stamps.get("timestamp_created"), stamps.get("timestamp_expires")
    if made is not None and until is not None and until <= made:
        raise ValueError("wsu:Timestamp/wsu:Expires (wcześniejszy niż wsu:Created albo równy mu)")
    return TokenStamps(**stamps)


def _admit(
    core: HubCore, login: str, security: etree._Element | None, token: UsernameToken | None, source: str
) -> None:
    try:
        stamps = token_stamps(security, token)
    except ValueError as error:
        raise core.accounts.refuse_token(
            login,
            f"nieprawidłowy {error}",
            AuthenticationFailed(
                f"Nieprawidłowy element {error} w nagłówku WS-Security: czas podaje się jako xsd:dateTime w UTC "
                "(np. 2025-03-01T08:00:00Z), a Nonce jako niepusty tekst Base64."
            ),
            source,
        ) from None
    if stamps != TokenStamps():  # a token without them has nothing to check
        window = dt.timedelta(seconds=core.config.hub.replay_window_seconds)
        core.accounts.admit_token(login, stamps, window, source)


def end_user_login(header: Iterable[etree._Element] | etree._Element | None) -> str | None:
    """The login named in the `UzytkownikKoncowy` header (a system acting for an end user), if any."""
    if header is None:
        return None
    elements = [header] if isinstance(header, etree._Element) else list(header)
    found = [e for e in elements if e.tag == END_USER and _for_the_hub(e)]
    if len(found) > 1:
        # As for two Security headers: which end user asks would depend on the order of the blocks.
        raise AuthenticationFailed(
            "Komunikat zawiera więcej niż jeden nagłówek UzytkownikKoncowy; dołącz dokładnie jeden."
        )
    if not found:
        return None
    return (found[0].findtext(f"{{{QUERY_NS}}}Login") or "").strip() or None


def identify(core: HubCore, header: Any, environ: dict[str, Any], operation: str) -> Caller:
    """Who calls: an office system (TLS client certificate) acting for a named end user, or a UsernameToken."""
    source = str(environ.get("REMOTE_ADDR", ""))
    subject = environ.get(CLIENT_CN)
    acting_for = end_user_login(header)
    security = security_header(header)
    if subject and acting_for:
        system = core.config.system(str(subject))
        if system is None:
            raise AuthenticationFailed("Certyfikat klienta nie należy do żadnego zarejestrowanego systemu urzędu.")
        _admit(core, acting_for, security, None, source)  # a Timestamp, if the system sends one
        caller = core.accounts.act_for(system.office, acting_for, system.name, source)
    else:
        token = username_token(security)
        if token.password_type != PASSWORD_TEXT:
            raise core.accounts.refuse_token(
                token.login,
                "hasło inne niż PasswordText",
                AuthenticationFailed(
                    "Platforma przyjmuje hasło tylko w postaci PasswordText (w kanale TLS), nie PasswordDigest."
                ),
                source,
            )
        _admit(core, token.login, security, token, source)
        reservation = environ.get(RESERVATION)
        caller = core.accounts.authenticate(
            token.login,
            token.password,
            channel="SOAP",
            source=source,
            reservation=reservation if isinstance(reservation, Reservation) else None,
        )
    core.accounts.check_usable(caller, operation)
    return caller


def authenticate_listener(ctx: Any) -> None:
    """Spyne `method_call` listener for every hub service: sets `ctx.udc` = {"caller", "request_id"}."""
    request_id = str(uuid.uuid4())
    core: HubCore | None = getattr(ctx.app, "hub", None)
    if core is None:
        raise faults.internal_fault(request_id)
    environ = getattr(ctx.transport, "req_env", None) or {}
    operation = str(ctx.method_request_string or "").rsplit("}", 1)[-1]
    try:
        caller = identify(core, ctx.in_header_doc, environ, operation)
    except PlatformError as error:
        raise faults.to_fault(error, request_id) from None
    ctx.udc = {"caller": caller, "request_id": request_id}
