"""Hand-built WS-Security headers (UsernameToken Profile 1.1 with Nonce and Created, wsu:Timestamp) and raw SOAP
posts, for the tests that must choose every byte of the token or send one envelope twice."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import os
from dataclasses import dataclass

import requests
from lxml import etree
from zeep import Client

from tests.integration.conftest import MODEL

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"


def stamp(moment: dt.datetime) -> str:
    """An xsd:dateTime in UTC with Z, as WSS 1.1 writes wsu times."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def fresh_nonce() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def security(
    login: str,
    password: str,
    *,
    nonce: str | None = None,
    created: dt.datetime | None = None,
    timestamp: tuple[dt.datetime, dt.datetime | None] | None = None,
    digest: bool = False,
) -> etree._Element:
    """A `wsse:Security` header with a UsernameToken and, when asked, a Nonce, a Created and a wsu:Timestamp."""
    header = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    if timestamp is not None:
        element = etree.SubElement(header, f"{{{WSU}}}Timestamp")
        etree.SubElement(element, f"{{{WSU}}}Created").text = stamp(timestamp[0])
        if timestamp[1] is not None:
            etree.SubElement(element, f"{{{WSU}}}Expires").text = stamp(timestamp[1])
    token = etree.SubElement(header, f"{{{WSSE}}}UsernameToken")
    etree.SubElement(token, f"{{{WSSE}}}Username").text = login
    kind = "PasswordDigest" if digest else "PasswordText"
    etree.SubElement(token, f"{{{WSSE}}}Password", Type=f"{PROFILE}#{kind}").text = password
    if nonce is not None:
        etree.SubElement(token, f"{{{WSSE}}}Nonce", EncodingType=BASE64).text = nonce
    if created is not None:
        etree.SubElement(token, f"{{{WSU}}}Created").text = stamp(created)
    return header


@dataclass
class Envelope:
    """The body of one operation, built once by zeep; headers are added per request."""

    body: etree._Element

    @classmethod
    def of(cls, wsdl: str, operation: str, **arguments: object) -> Envelope:
        client = Client(wsdl)
        message = client.create_message(client.service, operation, **arguments)
        body = message.find(f"{{{SOAP}}}Body")
        assert body is not None
        return cls(body)

    def with_header(self, header: etree._Element) -> bytes:
        envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap-env": SOAP})
        etree.SubElement(envelope, f"{{{SOAP}}}Header").append(copy.deepcopy(header))
        envelope.append(copy.deepcopy(self.body))
        return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


@dataclass
class Answer:
    """An HTTP status and, for a fault, its faultcode, its code and its sentence."""

    status: int
    faultcode: str
    code: str | None
    message: str | None
    body: bytes


def post(endpoint: str, envelope: bytes, session: requests.Session | None = None) -> Answer:
    """POST one SOAP envelope and read the fault code, if any."""
    sender = session or requests
    response = sender.post(
        endpoint, data=envelope, headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}, timeout=60
    )
    faultcode, code, message = "", None, None
    if response.status_code != 200:
        document = etree.fromstring(response.content)
        faultcode = document.findtext(".//faultcode") or ""
        code = document.findtext(f".//{MODEL}Blad/{MODEL}Kod")
        message = document.findtext(".//faultstring")
    return Answer(response.status_code, faultcode, code, message, response.content)
