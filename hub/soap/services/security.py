"""WS-Security UsernameToken (OASIS WSS UsernameToken Profile 1.0), read from the SOAP header.

Spyne does not check WS-Security headers (STACK.md); this does. Only PasswordText is accepted: a digest
would require the password in clear on the server, and the transport is TLS in production.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lxml import etree

from contract.catalog import QUERY_NS
from contract.errors import AuthenticationFailed, AuthenticationRequired, PlatformError
from hub.soap.services import faults

if TYPE_CHECKING:
    from hub.core import HubCore
    from hub.domain.policy import Caller

END_USER = f"{{{QUERY_NS}}}UzytkownikKoncowy"
CLIENT_CN = "platforma.client_subject_cn"  # set by hub.soap.server from the TLS peer certificate

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"  # noqa: S105


def username_token(header: Iterable[etree._Element] | etree._Element | None) -> tuple[str, str]:
    """The (login, password) of the UsernameToken in the header, or a Polish authentication error."""
    elements: Iterable[etree._Element]
    if header is None:
        elements = ()
    elif isinstance(header, etree._Element):
        elements = [header] if header.tag == f"{{{WSSE}}}Security" else list(header)
    else:
        elements = header
    for security in elements:
        if security.tag != f"{{{WSSE}}}Security":
            continue
        token = security.find(f"{{{WSSE}}}UsernameToken")
        if token is None:
            break
        login = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
        password = token.find(f"{{{WSSE}}}Password")
        if not login or password is None:
            break
        kind = password.get("Type", PASSWORD_TEXT)
        if kind != PASSWORD_TEXT:
            raise AuthenticationFailed(
                "Platforma przyjmuje hasło tylko w postaci PasswordText (w kanale TLS), nie PasswordDigest."
            )
        return login, password.text or ""
    raise AuthenticationRequired(
        "Brak poświadczeń: dołącz nagłówek WS-Security z elementem UsernameToken (login i hasło)."
    )


def end_user_login(header: Iterable[etree._Element] | etree._Element | None) -> str | None:
    """The login named in the `UzytkownikKoncowy` header (a system acting for an end user), if any."""
    if header is None:
        return None
    elements = [header] if isinstance(header, etree._Element) else list(header)
    for element in elements:
        if element.tag == END_USER:
            return (element.findtext(f"{{{QUERY_NS}}}Login") or "").strip() or None
    return None


def identify(core: HubCore, header: Any, environ: dict[str, Any], operation: str) -> Caller:
    """Who calls: an office system (TLS client certificate) acting for a named end user, or a UsernameToken."""
    source = str(environ.get("REMOTE_ADDR", ""))
    subject = environ.get(CLIENT_CN)
    acting_for = end_user_login(header)
    if subject and acting_for:
        system = core.config.system(str(subject))
        if system is None:
            raise AuthenticationFailed("Certyfikat klienta nie należy do żadnego zarejestrowanego systemu urzędu.")
        caller = core.accounts.act_for(system.office, acting_for, system.name, source)
    else:
        login, password = username_token(header)
        caller = core.accounts.authenticate(login, password, channel="SOAP", source=source)
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
