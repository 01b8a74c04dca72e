"""The published contracts are complete and checkable: every operation declares its fault, the fault
detail is one documented, structured `Blad`, and WS-I Basic Profile 1.1 rules hold (tests/unit/wsdl_rules.py)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from lxml import etree

from contract import catalog
from contract.errors import Detail, DetailKind, NotAllowed
from hub.soap import contracts
from hub.soap.services import faults
from tests.conftest import ROOT
from tests.unit import wsdl_rules

WSDL = "{http://schemas.xmlsoap.org/wsdl/}"
SOAP = "{http://schemas.xmlsoap.org/wsdl/soap/}"
XS = "{http://www.w3.org/2001/XMLSchema}"
M = "{" + catalog.MODEL_NS + "}"
WSDL_FILES = sorted((ROOT / "wsdl").glob("*.wsdl"))


def qname(element: etree._Element, value: str) -> str:
    """A prefixed QName attribute value as `{namespace}local`, resolved in the element's scope."""
    prefix, _, local = value.rpartition(":")
    return f"{{{element.nsmap[prefix or None]}}}{local}"


def global_elements(root: etree._Element) -> set[str]:
    return {
        f"{{{schema.get('targetNamespace')}}}{element.get('name')}"
        for schema in root.iter(XS + "schema")
        for element in schema.findall(XS + "element")
    }


@pytest.mark.parametrize("path", WSDL_FILES, ids=lambda p: p.name)
def test_every_operation_declares_the_blad_fault_in_port_type_and_binding(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    tns = root.get("targetNamespace")
    messages = {f"{{{tns}}}{m.get('name')}": m for m in root.iter(WSDL + "message")}
    for operation in root.iterfind(f"{WSDL}portType/{WSDL}operation"):
        (fault,) = operation.findall(WSDL + "fault")
        message = messages[qname(fault, str(fault.get("message")))]
        (part,) = message.findall(WSDL + "part")
        assert qname(part, str(part.get("element"))) == M + "Blad"
    for operation in root.iterfind(f"{WSDL}binding/{WSDL}operation"):
        (fault,) = operation.findall(WSDL + "fault")
        soap_fault = fault.find(SOAP + "fault")
        assert soap_fault is not None
        assert (soap_fault.get("name"), soap_fault.get("use")) == (fault.get("name"), "literal")
    assert M + "Blad" in global_elements(root), "the fault's element is declared in the WSDL's own types"


def model_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(ROOT / "xsd" / "model-1.xsd")))


def test_a_refusal_detail_is_structured_and_valid_against_the_published_model() -> None:
    error = NotAllowed(
        "Brak uprawnień.",
        details=(Detail.data_set_code("PUP"), Detail.category("OPS", "SWIADCZENIA"), Detail.legal_basis("X", "SR")),
    )
    blad = faults.to_fault(error, "req-1").detail
    model_schema().assertValid(blad)
    found = [(d.get("Rodzaj"), d.get("Wartosc"), d.get("Zbior"), d.text) for d in blad.iter(M + "Szczegol")]
    assert found == [
        ("ZBIOR", "PUP", None, "ZBIOR:PUP"),
        ("KATEGORIA", "SWIADCZENIA", "OPS", "OPS:SWIADCZENIA"),
        ("PODSTAWA_PRAWNA", "X", "SR", "PODSTAWA_PRAWNA:X@SR"),
    ]
    assert blad.findtext(M + "IdentyfikatorZapytania") == "req-1"


def test_details_read_as_their_1_0_text_and_carry_their_parts() -> None:
    detail = Detail.category("PUP", "WIZYTY")
    assert detail == "PUP:WIZYTY"
    assert (detail.kind, detail.value, detail.data_set) == (DetailKind.CATEGORY, "WIZYTY", "PUP")
    plain = NotAllowed("x", details=("zarządzanie użytkownikami",)).details[0]
    assert (plain.kind, plain.value) == (DetailKind.DESCRIPTION, "zarządzanie użytkownikami")
    copied = copy.deepcopy(detail)  # errors cross process boundaries pickled
    assert (copied.kind, copied.data_set, str(copied)) == (DetailKind.CATEGORY, "PUP", "PUP:WIZYTY")


def test_a_schema_fault_and_an_internal_fault_are_valid_blad_elements() -> None:
    from spyne import Fault

    schema = model_schema()
    translated = faults.translate(Fault("Client.SchemaValidationError", "Element 'Cel': This element is not expected."))
    schema.assertValid(translated.detail)
    assert next(translated.detail.iter(M + "Szczegol")).get("Rodzaj") == "OPIS"
    schema.assertValid(faults.internal_fault("req-2").detail)


def test_the_served_wsdl_differs_from_the_file_only_in_its_address() -> None:
    for service in contracts.SERVICES:
        exported = (ROOT / "wsdl" / f"{service}.wsdl").read_bytes()
        served = contracts.wsdl(service, "https://hub.powiat.example/soap/")
        assert served == exported.replace(
            f'location="{contracts.PLACEHOLDER_URL}{service}"'.encode(),
            f'location="https://hub.powiat.example/soap/{service}"'.encode(),
        )
        assert served != exported


CONTRACT_FILES = [*WSDL_FILES, *(ROOT / "xsd" / name for name in contracts.schemas())]


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=lambda p: p.name)
def test_every_type_element_and_attribute_has_polish_documentation(path: Path) -> None:
    content = path.read_bytes()
    assert contracts.undocumented(content) == []
    root = etree.fromstring(content)
    texts = list(root.iter(XS + "documentation"))
    assert texts and all(t.get("{http://www.w3.org/XML/1998/namespace}lang") == "pl" and t.text for t in texts)


@pytest.mark.parametrize("path", WSDL_FILES, ids=lambda p: p.name)
def test_the_port_type_and_the_service_say_what_the_service_does(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    for node in [*root.iter(WSDL + "portType"), *root.iter(WSDL + "service"), *root.iter(WSDL + "operation")]:
        if node.getparent().tag == WSDL + "binding":
            continue
        first = node[0]
        assert first.tag == WSDL + "documentation" and first.text, node.get("name")


def audit_2_schema() -> etree.XMLSchema:
    class Files(etree.Resolver):
        def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def]
            return self.resolve_filename(str(ROOT / "xsd" / url.rsplit("/", 1)[-1]), context)

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(Files())
    return etree.XMLSchema(etree.parse(str(ROOT / "xsd" / "audyt-2.xsd"), parser))


def order(**fields: str) -> etree._Element:
    a = "{urn:pl:platforma-komunikacyjna:audyt:2}"
    element = etree.Element(a + "ZamowienieRaportu")
    for name, value in fields.items():
        etree.SubElement(element, a + name).text = value
    return element


@pytest.mark.parametrize(
    ("fields", "valid"),
    [
        ({"Rodzaj": "OSOBA", "Pesel": "44051401359", "Format": "PDF"}, True),
        ({"Rodzaj": "OKRES", "Od": "2026-01-01T00:00:00Z", "Format": "CSV"}, True),
        ({"Rodzaj": "OSOBA", "Pesel": "44051401359", "Format": "pdf"}, False),
        ({"Rodzaj": "OSOBA", "Pesel": "4405140135", "Format": "XML"}, False),
        ({"Rodzaj": "OSOBA", "Pesel": "4405140135X", "Format": "XML"}, False),
        ({"Rodzaj": "URZAD", "Urzad": "PUP TESTOWO; DROP", "Format": "XML"}, False),
    ],
    ids=["pesel-pdf", "period-csv", "lowercase-format", "short-pesel", "letter-in-pesel", "office-code"],
)
def test_audit_version_2_constrains_the_order(fields: dict[str, str], valid: bool) -> None:
    schema = audit_2_schema()
    root = etree.parse(str(ROOT / "xsd" / "audyt-2.xsd")).getroot()
    assert root.get("targetNamespace") == "urn:pl:platforma-komunikacyjna:audyt:2"
    document = order(**fields)
    wrapper = etree.Element("{urn:pl:platforma-komunikacyjna:audyt:2}RaportUjawnien")
    etree.SubElement(wrapper, "{urn:pl:platforma-komunikacyjna:audyt:2}Zamowienie").extend(list(document))
    assert schema.validate(wrapper) is valid, schema.error_log


def test_audit_version_1_is_still_published_beside_version_2() -> None:
    assert {"audyt", "audyt-2"} <= set(contracts.SERVICES)
    version_1 = etree.parse(str(ROOT / "xsd" / "audyt-1.xsd")).getroot()
    formats = version_1.xpath(
        "//xs:simpleType[@name='FormatRaportu']//xs:enumeration/@value", namespaces={"xs": XS[1:-1]}
    )
    assert formats == ["xml", "csv", "pdf"]


@pytest.mark.parametrize("path", WSDL_FILES, ids=lambda p: p.name)
def test_each_wsdl_is_valid_against_the_wsdl_1_1_and_soap_binding_schemas(path: Path) -> None:
    from xmlschema.extras.wsdl import Wsdl11Document

    document = Wsdl11Document(str(path), validation="strict")  # WSDL 1.1 + SOAP 1.1 binding schemas, and the types
    assert document.bindings and document.services


def test_the_wsdl_schema_check_refuses_a_broken_wsdl(tmp_path: Path) -> None:
    from xmlschema import XMLSchemaValidationError
    from xmlschema.extras.wsdl import Wsdl11Document

    broken = tmp_path / "broken.wsdl"
    broken.write_bytes(
        (ROOT / "wsdl" / "konta.wsdl")
        .read_bytes()
        .replace(b"<wsdl:input ", b"<wsdl:wejscie ", 1)
        .replace(b"</wsdl:operation>", b"<wsdl:nieznany/></wsdl:operation>", 1)
    )
    with pytest.raises(XMLSchemaValidationError):
        Wsdl11Document(str(broken), validation="strict")


@pytest.mark.parametrize("path", WSDL_FILES, ids=lambda p: p.name)
def test_each_wsdl_keeps_the_ws_i_basic_profile_rules_a_checker_can_apply(path: Path) -> None:
    assert wsdl_rules.findings(etree.parse(str(path)).getroot()) == []


MUTATIONS = {
    "R2304": lambda r: r.find(f"{WSDL}portType").append(copy.deepcopy(r.find(f"{WSDL}portType/{WSDL}operation"))),
    "R2204": lambda r: r.find(f"{WSDL}message/{WSDL}part").set("type", "xs:string"),
    "R2101": lambda r: r.find(f"{WSDL}message/{WSDL}part").set("element", "tns:Nieznany"),
    "R2706": lambda r: r.find(f".//{WSDL}binding//{SOAP}body").set("use", "encoded"),
    "R2745": lambda r: r.find(f".//{SOAP}operation").attrib.pop("soapAction"),
    "R2754": lambda r: r.find(f".//{WSDL}binding//{SOAP}fault").set("name", "Inny"),
    "fault": lambda r: r.find(f"{WSDL}portType/{WSDL}operation").remove(
        r.find(f"{WSDL}portType/{WSDL}operation/{WSDL}fault")
    ),
    "R2401": lambda r: r.find(f".//{SOAP}binding").set("transport", "http://example.invalid/smtp"),
    "R2711": lambda r: r.find(f"{WSDL}service").append(copy.deepcopy(r.find(f"{WSDL}service/{WSDL}port"))),
}


@pytest.mark.parametrize("rule", MUTATIONS)
def test_the_ws_i_checker_names_each_broken_rule(rule: str) -> None:
    root = etree.parse(str(ROOT / "wsdl" / "zapytania.wsdl")).getroot()
    MUTATIONS[rule](root)
    assert any(finding.startswith(rule) for finding in wsdl_rules.findings(root)), wsdl_rules.findings(root)


SP = "{http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702}"
WSP = "{http://www.w3.org/ns/ws-policy}"


@pytest.mark.parametrize("path", WSDL_FILES, ids=lambda p: p.name)
def test_each_wsdl_states_its_security_policy_and_every_binding_refers_to_it(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    (policy,) = root.findall(WSP + "Policy")
    policy_id = policy.get("{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id")
    alternatives = policy.findall(f"{WSP}ExactlyOne/{WSP}All")
    assert len(alternatives) == 2
    username, certificate = alternatives
    assert username.find(f".//{SP}HttpsToken") is not None and username.find(f".//{SP}WssUsernameToken10") is not None
    assert certificate.find(f".//{SP}HttpsToken/{WSP}Policy/{SP}RequireClientCertificate") is not None
    for binding in root.iter(WSDL + "binding"):
        assert binding.find(WSP + "PolicyReference").get("URI") == f"#{policy_id}"


def test_zeep_reads_the_wsdls_with_their_policy() -> None:
    from zeep import Client

    for path in WSDL_FILES:
        client = Client(str(path))
        assert client.service._operations, path.name


PUBLISHED_V1_SERVICE_NAMES = {"QueryService", "AccountService", "AuditService", "FeedService"}


@pytest.mark.parametrize("path", WSDL_FILES, ids=lambda p: p.name)
def test_names_are_polish_and_the_english_service_names_of_version_1_stay_as_published(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    version = str(root.get("targetNamespace")).rsplit(":", 1)[-1]
    (service,) = root.iter(WSDL + "service")
    if version == "1" and path.stem in ("zapytania", "konta", "audyt", "zasilanie"):  # published before Polish names
        assert service.get("name") in PUBLISHED_V1_SERVICE_NAMES
    else:
        assert str(service.get("name")).startswith("Usluga")
    for node in [
        *root.iter(WSDL + "portType"),
        *root.iter(WSDL + "binding"),
        *root.iterfind(f"{WSDL}service/{WSDL}port"),
    ]:
        assert str(node.get("name")).startswith("Usluga"), node.get("name")
    for node in root.iter(WSDL + "operation", WSDL + "message"):
        name = str(node.get("name"))
        assert name.isascii() and name[0].isupper() and "Service" not in name and "Response" not in name, name


def test_the_integration_guide_lists_every_fault_code_with_its_faultcode() -> None:
    guide = (ROOT / "docs" / "integration.md").read_text(encoding="utf-8")
    table = guide.split("<!-- tabela kodów błędów: platforma contracts faults -->", 1)[1].split(
        "<!-- koniec tabeli -->"
    )[0]
    listed = {row.split("|")[1].strip(" `"): row.split("|")[2].strip(" `") for row in table.splitlines()[2:] if row}
    for cls in contracts.error_classes():
        faultcode = "soap:Client" if cls.client_error else "soap:Server"
        assert listed.get(cls.code) == faultcode, (
            f"{cls.code} missing from docs/integration.md: platforma contracts faults"
        )
    spyne_codes = {code for _, code, _ in faults._SPYNE_FAULTS}
    assert spyne_codes <= set(listed)


@pytest.mark.parametrize(
    ("english", "clause"),
    [
        (
            "Element '{urn:x}Paczka', attribute 'Rodzaj': [facet 'enumeration'] The value 'x' is not an element of "
            "the set {'PELNA', 'PRZYROSTOWA'}.",
            "wartość atrybutu Rodzaj elementu Paczka jest niezgodna ze schematem",
        ),
        (
            "Element '{urn:x}Paczka', attribute 'Koniec': 'tak' is not a valid value of the atomic type 'xs:boolean'.",
            "wartość atrybutu Koniec elementu Paczka jest niezgodna ze schematem",
        ),
        (
            "Element '{urn:x}Paczka', attribute 'Inny': The attribute 'Inny' is not allowed.",
            "element Paczka ma niedozwolony atrybut Inny",
        ),
        (
            "Element '{urn:x}Paczka': The attribute 'Zbior' is required but missing.",
            "w elemencie Paczka brakuje wymaganego atrybutu Zbior",
        ),
    ],
    ids=["wrong-value", "wrong-type", "not-allowed", "missing"],
)
def test_a_schema_fault_tells_a_wrong_attribute_value_from_a_forbidden_attribute(english: str, clause: str) -> None:
    """A wrong value of an allowed attribute was told as 'element Paczka ma niedozwolony atrybut'."""
    assert faults.schema_problem(english)[0] == clause
