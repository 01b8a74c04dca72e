"""The published contracts, exported from hub.soap.model: `wsdl/*.wsdl` and `xsd/*.xsd` (checked in).

`platforma contracts export` writes them; a test fails when the checked-in files drift from the code, and
the server serves exactly these bytes (`wsdl(service, base_url)` differs from the file only in the
`soap:address` of the service). What Spyne does not emit is added here, deterministically:

- every operation's `wsdl:fault` (portType and binding), whose part is the model's `Blad` element;
- Polish `xs:documentation` on every type, element and attribute (`hub.soap.model.documentation`), and
  `wsdl:documentation` on the portType and the service;
- a WS-SecurityPolicy 1.2 assertion bound to every binding (`POLICY_ID`), as .NET WCF and Apache CXF read
  it: a WS-Security UsernameToken (PasswordText) over TLS, or a TLS client certificate (DESIGN.md,
  Security and accountability);
- the global declarations of each schema in a fixed order (Spyne emits them in hash order).
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable
from pathlib import Path

from lxml import etree
from spyne import Application
from spyne.interface.wsdl import Wsdl11
from spyne.interface.xml_schema import XmlSchema

import audit as audit_package
from contract import catalog
from contract.errors import PlatformError
from hub.domain.templates import SHIPPED as _SHIPPED_DOCUMENTS
from hub.soap.model import documentation
from hub.soap.services import SERVICES as _published_services

PLACEHOLDER_URL = "http://localhost:8080/soap/"

# File name of each namespace's schema; imports between schemas are rewritten to these names.
SCHEMA_FILES = {
    catalog.MODEL_NS: "model-1.xsd",
    "urn:pl:platforma-komunikacyjna:konta:1": "konta-1.xsd",
    "urn:pl:platforma-komunikacyjna:audyt:1": "audyt-1.xsd",
    "urn:pl:platforma-komunikacyjna:audyt:2": "audyt-2.xsd",
    catalog.QUERY_NS: "zapytania-1.xsd",
    catalog.FEED_NS: "zasilanie-1.xsd",
}
SERVICES: dict[str, Callable[[object], Application]] = {
    s.path: importlib.import_module(s.module).build_application for s in _published_services
}
_TITLES = {s.path: s.title for s in _published_services}

_XS = "{http://www.w3.org/2001/XMLSchema}"
_WSDL = "{http://schemas.xmlsoap.org/wsdl/}"
_SOAP = "{http://schemas.xmlsoap.org/wsdl/soap/}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_OURS = "urn:pl:platforma-komunikacyjna:"
_RANK = {_XS + "import": 0, _XS + "simpleType": 1, _XS + "complexType": 2, _XS + "element": 3}
# The conventional order of a WSDL 1.1 document (WS-I BP 1.1 R2022/R2023 want import and types first).
_WSDL_ORDER = {_WSDL + n: i for i, n in enumerate(("documentation", "import", "types", "message", "portType"))}
_WSDL_ORDER.update({_WSDL + "binding": 6, _WSDL + "service": 7})
_WSP = "http://www.w3.org/ns/ws-policy"
_SP = "http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
POLICY_ID = "UwierzytelnianieTLS"
"""The `wsu:Id` of the security policy every binding refers to (`wsp:PolicyReference URI="#..."`)."""
FAULT = "Blad"
"""The name of every operation's fault, of its message, and of the model element the message carries."""


def _sort_schemas(root: etree._Element) -> None:
    """Order global declarations by kind and name: Spyne emits them in hash order, which varies per run."""
    schemas = [root] if root.tag == _XS + "schema" else list(root.iter(_XS + "schema"))
    for schema in schemas:
        children = list(schema)
        children.sort(key=lambda c: (_RANK.get(str(c.tag), 9), c.get("namespace") or c.get("name") or ""))
        schema[:] = children


def _pretty(element: etree._Element) -> bytes:
    _sort_schemas(element)
    etree.indent(element, space="  ")
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _prefix_of(root: etree._Element, namespace: str) -> str:
    for prefix, uri in root.nsmap.items():
        if uri == namespace and prefix:
            return prefix
    raise ValueError(f"no prefix for {namespace}")


def _declare_faults(root: etree._Element) -> None:
    """Every operation declares the one fault `Blad` in its portType and binding (WS-I BP 1.1 R2205, R2754)."""
    tns = _prefix_of(root, str(root.get("targetNamespace")))
    model = _prefix_of(root, catalog.MODEL_NS)
    messages = root.findall(_WSDL + "message")
    message = etree.Element(_WSDL + "message", name=FAULT)
    etree.SubElement(message, _WSDL + "part", name=FAULT, element=f"{model}:{FAULT}")
    messages[-1].addnext(message)
    for operation in root.iterfind(f"{_WSDL}portType/{_WSDL}operation"):
        etree.SubElement(operation, _WSDL + "fault", name=FAULT, message=f"{tns}:{FAULT}")
    for operation in root.iterfind(f"{_WSDL}binding/{_WSDL}operation"):
        fault = etree.SubElement(operation, _WSDL + "fault", name=FAULT)
        etree.SubElement(fault, _SOAP + "fault", name=FAULT, use="literal")


def namespace_key(namespace: str) -> str:
    """The documentation tables' key of one of our namespaces: `model`, `zapytania`, `audyt2` (version 2)."""
    *_, part, version = namespace.split(":")
    return part if version == "1" else f"{part}{version}"


def _annotate(node: etree._Element, text: str) -> None:
    annotation = etree.Element(_XS + "annotation")
    etree.SubElement(annotation, _XS + "documentation", {_XML_LANG: "pl"}).text = text
    node.insert(0, annotation)


def _type_text(node: etree._Element, qualified: str | None) -> str | None:
    """The text of the type an element or attribute refers to (`prefix:Name`), if it is one of ours."""
    if not qualified or ":" not in qualified:
        return None
    prefix, name = qualified.split(":", 1)
    namespace = node.nsmap.get(prefix, "")
    return documentation.type_text(namespace_key(namespace), name) if namespace.startswith(_OURS) else None


def _document_schema(schema: etree._Element) -> None:
    """Annotate every global type and element, and every element and attribute of each complex type."""
    key = namespace_key(str(schema.get("targetNamespace")))
    for node in schema:
        if node.tag in (_XS + "simpleType", _XS + "complexType"):
            text = documentation.type_text(key, str(node.get("name")))
        elif node.tag == _XS + "element":
            text = _type_text(node, node.get("type"))
        else:
            continue
        if text:
            _annotate(node, text)
        if node.tag != _XS + "complexType":
            continue
        for member in node.iter(_XS + "element", _XS + "attribute"):
            text = documentation.element_text(str(node.get("name")), str(member.get("name")))
            text = text or _type_text(member, member.get("type"))
            if text:
                _annotate(member, text)


def undocumented(document: bytes) -> list[str]:
    """The types, elements and attributes of a WSDL or XSD that have no `xs:documentation` (for the tests)."""
    root = etree.fromstring(document)
    missing = []
    for node in root.iter(_XS + "simpleType", _XS + "complexType", _XS + "element", _XS + "attribute"):
        if node.get("name") is None:
            continue
        if node.find(f"{_XS}annotation/{_XS}documentation") is None:
            parent = next((a.get("name") for a in node.iterancestors(_XS + "complexType")), None)
            missing.append(f"{parent}/{node.get('name')}" if parent else str(node.get("name")))
    return missing


def _document_wsdl(root: etree._Element, service: str) -> None:
    for schema in root.iter(_XS + "schema"):
        _document_schema(schema)
    for node in root.findall(_WSDL + "portType") + root.findall(_WSDL + "service"):
        documentation_element = etree.Element(_WSDL + "documentation")
        documentation_element.text = _TITLES[service]
        node.insert(0, documentation_element)


def _policy_element(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    """`<tag><wsp:Policy/></tag>` (WS-SecurityPolicy 1.2 nests a policy in each assertion); the inner policy."""
    assertion = etree.SubElement(parent, tag, attributes)
    return etree.SubElement(assertion, f"{{{_WSP}}}Policy")


def _transport_binding(alternative: etree._Element, *, client_certificate: bool) -> None:
    binding = _policy_element(alternative, f"{{{_SP}}}TransportBinding")
    https = _policy_element(_policy_element(binding, f"{{{_SP}}}TransportToken"), f"{{{_SP}}}HttpsToken")
    if client_certificate:
        etree.SubElement(https, f"{{{_SP}}}RequireClientCertificate")
    etree.SubElement(_policy_element(binding, f"{{{_SP}}}AlgorithmSuite"), f"{{{_SP}}}Basic256")
    etree.SubElement(_policy_element(binding, f"{{{_SP}}}Layout"), f"{{{_SP}}}Lax")


def security_policy() -> etree._Element:
    """The WS-Policy 1.5 / WS-SecurityPolicy 1.2 of every service: two alternatives, both over TLS — a
    UsernameToken 1.0 (PasswordText) in the WS-Security header, or a TLS client certificate of an office
    system (which names the end user in the `UzytkownikKoncowy` header where the operation has one)."""
    policy = etree.Element(
        f"{{{_WSP}}}Policy", {f"{{{_WSU}}}Id": POLICY_ID}, nsmap={"wsp": _WSP, "sp": _SP, "wsu": _WSU}
    )
    choice = etree.SubElement(policy, f"{{{_WSP}}}ExactlyOne")
    username = etree.SubElement(choice, f"{{{_WSP}}}All")
    _transport_binding(username, client_certificate=False)
    include = f"{_SP}/IncludeToken/AlwaysToRecipient"
    token = _policy_element(
        _policy_element(username, f"{{{_SP}}}SignedSupportingTokens"),
        f"{{{_SP}}}UsernameToken",
        **{f"{{{_SP}}}IncludeToken": include},
    )
    etree.SubElement(token, f"{{{_SP}}}WssUsernameToken10")
    _transport_binding(etree.SubElement(choice, f"{{{_WSP}}}All"), client_certificate=True)
    return policy


def _attach_policy(root: etree._Element) -> None:
    """The policy at the top of the document (after any wsdl:documentation, as WSDL 1.1's schema orders
    extension elements), referred to from every binding (WS-PolicyAttachment, 4.1)."""
    root.insert(0, security_policy())
    for binding in root.iter(_WSDL + "binding"):
        binding.insert(0, etree.Element(f"{{{_WSP}}}PolicyReference", URI=f"#{POLICY_ID}", nsmap={"wsp": _WSP}))


def _order_definitions(root: etree._Element) -> None:
    """types, messages, portType, binding, service: the order readers of WSDL 1.1 expect; in types, the
    model's schema first (the others import it; single-pass readers need it declared before)."""
    for types in root.iter(_WSDL + "types"):
        types[:] = sorted(types, key=lambda s: (s.get("targetNamespace") != catalog.MODEL_NS, s.get("targetNamespace")))
    children = list(root)
    children.sort(key=lambda c: _WSDL_ORDER.get(str(c.tag), 5))  # stable: messages keep their order
    root[:] = children


def _address(url: str) -> bytes:
    """The `soap:address` attribute as lxml writes it."""
    escaped = url.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return f'location="{escaped}"'.encode()


@functools.cache
def _exported_wsdl(service: str) -> bytes:
    application = SERVICES[service](None)
    # Set by the HTTP server at run time; the exported file must say SOAP over HTTP as the live one does.
    application.transport = "http://schemas.xmlsoap.org/soap/http"
    document = Wsdl11(application.interface)
    document.build_interface_document(PLACEHOLDER_URL + service)
    root = etree.fromstring(document.get_interface_document())
    _declare_faults(root)
    _document_wsdl(root, service)
    _order_definitions(root)
    _attach_policy(root)
    return _pretty(root)


def wsdl(service: str, base_url: str = PLACEHOLDER_URL) -> bytes:
    """The WSDL of one service, with its address at `base_url + service`: the exported bytes, in which only
    the address differs."""
    exported = _exported_wsdl(service)
    if base_url == PLACEHOLDER_URL:
        return exported
    return exported.replace(_address(PLACEHOLDER_URL + service), _address(base_url + service), 1)


def _schemas_of(application: Application) -> dict[str, etree._Element]:
    schema = XmlSchema(application.interface)
    schema.build_interface_document()
    documents = {}
    for element in schema.get_interface_document().values():
        namespace = str(element.get("targetNamespace"))
        if namespace in SCHEMA_FILES:
            documents[namespace] = element
    return documents


def _merge(into: etree._Element, other: etree._Element) -> None:
    """Add to a namespace's schema the global declarations another application's copy has and it lacks
    (each application's copy holds only what that service uses)."""
    present = {(c.tag, c.get("name"), c.get("namespace")) for c in into}
    for child in other:
        if (child.tag, child.get("name"), child.get("namespace")) not in present:
            into.append(child)


@functools.cache
def _schema_files() -> dict[str, bytes]:
    documents: dict[str, etree._Element] = {}
    for application in [build(None) for build in SERVICES.values()]:
        for namespace, element in _schemas_of(application).items():
            if namespace in documents:
                _merge(documents[namespace], element)
            else:
                documents[namespace] = element
    files = {}
    for namespace, element in documents.items():
        _document_schema(element)
        for imported in element.findall(_XS + "import"):
            target = imported.get("namespace")
            if target in SCHEMA_FILES:
                imported.set("schemaLocation", SCHEMA_FILES[target])
        files[SCHEMA_FILES[namespace]] = _pretty(element)
    return dict(sorted(files.items()))


def schemas() -> dict[str, bytes]:
    """Every published XSD by file name: model, query messages, feed batch, accounts, audit."""
    return dict(_schema_files())


def document_schemas(folder: Path = _SHIPPED_DOCUMENTS) -> dict[str, bytes]:
    """The XSD of every shipped document type (`hub/documents/<type>/schemat.xsd`), by published file name:
    `dokumenty-<type folder>-<namespace version>.xsd` (issue 15: published under xsd/ and checked for drift).

    The bytes are the shipped file's: a document type's schema is written by hand, in its own namespace."""
    files = {}
    for metadata_file in sorted(folder.glob("*/metadane.json")):
        namespace = str(json.loads(metadata_file.read_text(encoding="utf-8"))["przestrzen_nazw"])
        version = namespace.rsplit(":", 1)[-1]
        name = f"dokumenty-{metadata_file.parent.name}-{version}.xsd"
        files[name] = (metadata_file.parent / "schemat.xsd").read_bytes()
    return files


@functools.cache
def _published_schemas() -> dict[str, bytes]:
    return dict(sorted({**schemas(), **document_schemas(), **report_schemas()}.items()))


def report_schemas() -> dict[str, bytes]:
    """The disclosure report's schema, written by hand beside the code that writes the report
    (`audit/raport-1.xsd`): published, served and checked for drift like the others."""
    return {"raport-1.xsd": (Path(audit_package.__file__).parent / "raport-1.xsd").read_bytes()}


def published_schemas() -> dict[str, bytes]:
    """Every XSD under xsd/, by file name: the contracts' (`schemas`) and the document types'
    (`document_schemas`); the hub serves exactly these at `/xsd/<file>`."""
    return dict(_published_schemas())


def export(root: Path) -> list[Path]:
    """Write wsdl/ and xsd/ under `root`; return the files written."""
    written = []
    (root / "wsdl").mkdir(parents=True, exist_ok=True)
    (root / "xsd").mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        path = root / "wsdl" / f"{service}.wsdl"
        path.write_bytes(wsdl(service))
        written.append(path)
    for name, content in published_schemas().items():
        path = root / "xsd" / name
        path.write_bytes(content)
        written.append(path)
    return written


@functools.cache
def feed_schema() -> etree.XMLSchema:
    """The feed schema (zasilanie-1.xsd with the model it imports), compiled, for the loader."""
    files = schemas()
    resolver_files = dict(files)

    class _Resolver(etree.Resolver):
        def resolve(self, url, pubid, context):
            name = url.rsplit("/", 1)[-1]
            if name in resolver_files:
                return self.resolve_string(resolver_files[name], context)
            return None

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    parser.resolvers.add(_Resolver())
    root = etree.fromstring(files[SCHEMA_FILES[catalog.FEED_NS]], parser, base_url="zasilanie-1.xsd")
    return etree.XMLSchema(root)


def check(root: Path) -> list[str]:
    """Names of checked-in contract files that differ from (or are missing against) the exported ones."""
    expected = {f"wsdl/{s}.wsdl": wsdl(s) for s in SERVICES}
    expected.update({f"xsd/{name}": content for name, content in published_schemas().items()})
    drift = []
    for name, content in expected.items():
        path = root / name
        if not path.exists() or path.read_bytes() != content:
            drift.append(name)
    for folder, pattern in (("wsdl", "*.wsdl"), ("xsd", "*.xsd")):
        # A stale file left beside the exported ones would be published as if it were a contract.
        drift.extend(
            f"{folder}/{path.name} (nie pochodzi z kodu)"
            for path in sorted((root / folder).glob(pattern))
            if f"{folder}/{path.name}" not in expected
        )
    return drift


def error_classes() -> list[type[PlatformError]]:
    """Every domain error a SOAP caller can receive, one class per code (the first declared), by code.

    Every service module is imported above, and with it every domain module whose errors reach a fault."""
    found: dict[str, type[PlatformError]] = {}
    pending = list(PlatformError.__subclasses__())
    while pending:
        cls = pending.pop(0)
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return [found[code] for code in sorted(found)]


def fault_table() -> str:
    """The fault table of docs/integration.md (Markdown): each code, its faultcode and when it is raised."""
    rows = ["| `Kod` | faultcode | when |", "|---|---|---|"]
    for cls in error_classes():
        when = " ".join((cls.__doc__ or "").split("\n\n")[0].split())
        rows.append(f"| `{cls.code}` | `soap:{'Client' if cls.client_error else 'Server'}` | {when} |")
    return "\n".join(rows) + "\n"
