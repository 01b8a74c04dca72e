"""The signer's byte templates give exactly the bytes of the tree path, for documents of every shape.

The default core fills in byte templates made once per signer and document context (``signing._templates``)
instead of building, canonicalizing and serializing a tree per signature. RSA PKCS#1 v1.5 is
deterministic, so with the ids and the time pinned the two paths must produce identical files.
"""

from __future__ import annotations

import datetime as dt
import string

import pytest
from lxml import etree

from signing import SignerConfig, SoftwareKey, XadesSigner, XadesVerifier
from signing import constants as c
from signing._templates import VERBATIM, ByteTemplate, TemplateError

from .conftest import NOW
from .documents import META, NS, wniosek
from .pki import Issued, TestPKI

SIGNED_AT = NOW - dt.timedelta(hours=3)

DOCUMENTS = {
    "wniosek": wniosek(),
    # Same root context as "wniosek": the second one is signed from the template the first one made.
    "wniosek-inny": wniosek(records=9, pesel="02270803628", identifier="Dokument-2"),
    # Contexts that differ from it only in what an inclusive apex inherits, or in declaration order.
    "wniosek-xml-lang": wniosek().replace(b'Id="Dokument-1"', b'Id="Dokument-1" xml:lang="pl"'),
    "wniosek-namespaces-reversed": wniosek().replace(
        f'xmlns:wn="{NS}" xmlns:meta="{META}"'.encode(), f'xmlns:meta="{META}" xmlns:wn="{NS}"'.encode()
    ),
    "namespaces-and-xml-lang": (
        b'<a:Root xmlns:a="urn:a" xmlns="urn:d" xmlns:unused="urn:u" xml:lang="pl" xml:space="preserve">'
        b"<b>x</b>\n</a:Root>\n"
    ),
    "iso-8859-2": '<?xml version="1.0" encoding="ISO-8859-2"?>\n<wniosek><imię>Zażółć</imię></wniosek>'.encode(
        "iso-8859-2"
    ),
    "windows-1250": '<?xml version="1.0" encoding="windows-1250"?><w a="ą"><b>gęś</b></w>'.encode("cp1250"),
    "ds-declared-on-root": b'<r xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:x/></r>',
    "ds-and-xades-prefixes-taken": b'<r xmlns:ds="urn:inny" xmlns:xades="urn:jeszcze-inny"><ds:x/>\r\n</r>',
    "namespace-uri-to-escape": b'<q:r xmlns:q="urn:a?b=1&amp;c=%20d" xmlns:z="urn:z%C5%82"><q:x/></q:r>',
    "crlf-and-references": b"<r>\r\n<a  b='1'   c=\"&#x41;&amp;\">&#x142;&lt;</a>\r\n</r >\r\n",
}

CONFIGS = {
    "c14n-1.0": SignerConfig(),
    "exc-c14n": SignerConfig(c14n_method=c.EXC_C14N),
    "chain-and-description": SignerConfig(include_chain=True, description='Zażółć & <gęślą> 100% "jaźń" %(x)s'),
}


def _pair(jan: Issued, config: SignerConfig, chain: tuple[Issued, ...] = ()) -> tuple[XadesSigner, XadesSigner]:
    key = SoftwareKey(jan.key, jan.cert, tuple(issued.cert for issued in chain))
    templated = XadesSigner(key, config)
    by_tree = XadesSigner(key, config)
    by_tree._templated = False
    return templated, by_tree


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_enveloped_templates_equal_the_tree_path(
    config: SignerConfig, pki: TestPKI, jan: Issued, live_verifier: XadesVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    templated, by_tree = _pair(jan, config, (pki.qualified_ca, pki.root))
    monkeypatch.setattr("signing.signer.secrets.token_hex", lambda _n: "0123456789abcdef")
    # Twice over, so that the second round comes wholly from cached templates.
    for _round in range(2):
        for name, document in DOCUMENTS.items():
            signed = templated.sign_enveloped(document, signing_time=SIGNED_AT)
            assert signed == by_tree.sign_enveloped(document, signing_time=SIGNED_AT), name
            assert live_verifier.verify(signed).valid, name


def test_a_signature_outside_the_templates_comes_from_the_tree(jan: Issued, live_verifier: XadesVerifier) -> None:
    """UTF-16, a self-closing root or a comment after it cannot be spliced: the tree is serialized."""
    templated, _ = _pair(jan, SignerConfig())
    for document in (
        '<?xml version="1.0" encoding="UTF-16"?><w><p>Łódź</p></w>'.encode("utf-16"),
        b"<pusty/>",
        b"<d>t</d><!-- po dokumencie -->",
    ):
        assert live_verifier.verify(templated.sign_enveloped(document, signing_time=SIGNED_AT)).valid
    assert len(templated._templates._data) == 0


@pytest.mark.parametrize(
    ("uri", "mime_type"),
    [
        ("wniosek.pdf", None),
        ("wniosek o zasiłek.pdf", None),
        ("katalog/umowa&aneks.xml", None),  # '&' is escaped in XML: the tree path
        ("dane.txt", "text/plain; charset=utf-8"),  # a space: the tree path
        ("dane.bin", "application/x-własny"),
    ],
)
def test_detached_templates_equal_the_tree_path(
    uri: str, mime_type: str | None, jan: Issued, live_verifier: XadesVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    templated, by_tree = _pair(jan, SignerConfig(description="Załącznik"))
    monkeypatch.setattr("signing.signer.secrets.token_hex", lambda _n: "0123456789abcdef")
    payload = b"%PDF-1.7 zawartosc"
    for _round in range(2):
        signed = templated.sign_detached(payload, uri, mime_type=mime_type, signing_time=SIGNED_AT)
        assert signed == by_tree.sign_detached(payload, uri, mime_type=mime_type, signing_time=SIGNED_AT)
    assert live_verifier.verify(signed, detached={uri: payload}).valid


def test_field_values_are_written_verbatim_by_c14n_and_the_serializer() -> None:
    """What VERBATIM admits comes out of libxml2 unchanged, in attributes and in text."""
    value = "".join(ch for ch in string.printable if VERBATIM.fullmatch(ch))
    assert set(string.ascii_letters + string.digits + "+/=-:") <= set(value)
    element = etree.Element("e", a=value)
    element.text = value
    for output in (
        etree.tostring(element),
        etree.tostring(element, method="c14n"),
        etree.tostring(element, method="c14n", exclusive=True),
    ):
        assert output.count(value.encode("ascii")) == 2, output


def test_a_transformed_marker_is_refused() -> None:
    with pytest.raises(TemplateError):
        ByteTemplate(b"<e a='M&amp;1x'/>", {"M&1x": "pole"}, b"M&")
    template = ByteTemplate(b"<e a='100%'>Mx</e>", {"Mx": "pole"}, b"Mx")
    assert template.render({b"pole": b"%s"}) == b"<e a='100%'>%s</e>"
