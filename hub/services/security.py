"""WS-Security UsernameToken (OASIS WSS UsernameToken Profile 1.0), read from the SOAP header.

Spyne does not check WS-Security headers (STACK.md); this does. Only PasswordText is accepted: a digest
would require the password in clear on the server, and the transport is TLS in production.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from hub.errors import AuthenticationFailed, AuthenticationRequired

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
