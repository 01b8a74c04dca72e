"""Receipts (issue 15, the role of ePUAP's UPO): a small XML document naming a document's SHA-256, the time,
the sender and the recipient, signed with the hub's seal (enveloped XAdES), verifiable offline with
`platforma verify` or `xmlsec1`.

The facts are those of ePUAP's `UPP` (poświadczenie przedłożenia, on submission) and `UPD` (poświadczenie
doręczenia, on delivery) (DESIGN.md "Documents"), in our own namespace, plus the document's SHA-256.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree

from contract.errors import ConfigurationError
from signing import InvalidKey, SigningKey, XadesSigner

RECEIPT_NS = "urn:pl:platforma-komunikacyjna:dokumenty:poswiadczenia:1"
_P = "{" + RECEIPT_NS + "}"
SUBMISSION = "UPP"
DELIVERY = "UPD"


@dataclass(frozen=True)
class Party:
    """A sender or recipient: the office's code and name, and the user acting for it when there is one."""

    office: str
    name: str
    user: str = ""


@dataclass(frozen=True)
class ReceiptFacts:
    """What one receipt attests."""

    kind: str  # SUBMISSION or DELIVERY
    receipt_id: str
    case_id: str
    document_id: str
    sha256: str
    sender: Party
    recipient: Party
    time: dt.datetime
    issuer: str
    note: str = ""


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    element = etree.SubElement(parent, _P + tag)
    etree.SubElement(element, _P + "Nazwa").text = party.name
    etree.SubElement(element, _P + "IdentyfikatorPodmiotu", TypIdentyfikatora="KOD_URZEDU").text = party.office
    if party.user:
        etree.SubElement(element, _P + "IdentyfikatorPodmiotu", TypIdentyfikatora="LOGIN").text = party.user


def receipt_xml(facts: ReceiptFacts) -> bytes:
    """The receipt before signing, in the shape of ePUAP's UPP / UPD."""
    root = etree.Element(_P + "Dokument", nsmap={"p": RECEIPT_NS})
    body = etree.SubElement(root, _P + facts.kind)
    etree.SubElement(body, _P + "IdentyfikatorPoswiadczenia").text = facts.receipt_id
    etree.SubElement(body, _P + "PodmiotWystawiajacyPoswiadczenie").text = facts.issuer
    _party(body, "Nadawca", facts.sender)
    _party(body, "Adresat", facts.recipient)
    moment = facts.time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    etree.SubElement(body, _P + ("DataDoreczenia" if facts.kind == SUBMISSION else "DataOdbioru")).text = moment
    etree.SubElement(body, _P + "DataWytworzeniaPoswiadczenia").text = moment
    etree.SubElement(body, _P + "IdentyfikatorSprawy").text = facts.case_id
    etree.SubElement(body, _P + "IdentyfikatorDokumentu").text = facts.document_id
    etree.SubElement(body, _P + "SkrotDokumentu", Algorytm="SHA-256").text = facts.sha256
    if facts.note:
        etree.SubElement(body, _P + "InformacjaUzupelniajaca", TypInformacjiUzupelniajacej="UWAGI").text = facts.note
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class ReceiptSigner:
    """Signs receipts with the hub's seal key (PKCS#12, PEM or a PKCS#11 token via `signing.load_key`); the
    offices' certificates are sealed with the offices' own seals (`hub.domain.seals`)."""

    def __init__(self, seal: SigningKey) -> None:
        self._signer = XadesSigner(seal)

    def issue(self, facts: ReceiptFacts) -> bytes:
        """The signed receipt; a seal that cannot sign (a token gone since the start) is a `ConfigurationError`
        in Polish, and the caller's transaction writes nothing."""
        try:
            return self._signer.sign_enveloped(receipt_xml(facts))
        except InvalidKey as error:
            raise ConfigurationError(
                f"Pieczęć huba (seal_key) nie daje się użyć do poświadczenia: {error.message.rstrip('.')} "
                f"[{error.code}]"
            ) from None
