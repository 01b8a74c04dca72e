"""The WS-I Basic Profile 1.1 rules a checker can apply to one WSDL 1.1 document (document/literal, SOAP 1.1 over
HTTP). `findings(root)` names each rule broken, with the component; an empty list is a pass."""

from __future__ import annotations

from collections import Counter

from lxml import etree

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
W = "{" + WSDL_NS + "}"
SOAP = "{http://schemas.xmlsoap.org/wsdl/soap/}"
XS = "{http://www.w3.org/2001/XMLSchema}"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"


def _qname(node: etree._Element, value: str | None) -> str:
    prefix, _, local = (value or "").rpartition(":")
    return f"{{{node.nsmap.get(prefix or None, '')}}}{local}"


def findings(root: etree._Element) -> list[str]:
    """Every rule this document breaks."""
    tns = root.get("targetNamespace")
    if root.tag != W + "definitions" or not tns:
        return ["R2028: the root is wsdl:definitions of WSDL 1.1 with a targetNamespace"]
    messages = {f"{{{tns}}}{m.get('name')}": m for m in root.iter(W + "message")}
    port_types = {f"{{{tns}}}{p.get('name')}": p for p in root.iter(W + "portType")}
    bindings = {f"{{{tns}}}{b.get('name')}": b for b in root.iter(W + "binding")}
    found = _document_findings(root) + _message_findings(root, messages)
    for name, port_type in port_types.items():
        found += _port_type_findings(name, port_type, messages)
    for name, binding in bindings.items():
        found += _binding_findings(name, binding, port_types, messages)
    return found + _service_findings(root, bindings)


def _document_findings(root: etree._Element) -> list[str]:
    found = []
    tags = [c.tag for c in root if isinstance(c.tag, str) and c.tag.startswith(W)]
    before_types = tags[: tags.index(W + "types")] if W + "types" in tags else []
    if set(before_types) - {W + "documentation", W + "import"}:
        found.append("R2023: wsdl:types precedes the other WSDL elements")
    found += ["R2105: a schema without targetNamespace" for s in _schemas(root) if not s.get("targetNamespace")]
    return found


def _schemas(root: etree._Element) -> list[etree._Element]:
    return list(root.iterfind(f"{W}types/{XS}schema"))


def _message_findings(root: etree._Element, messages: dict[str, etree._Element]) -> list[str]:
    found = []
    elements = {
        f"{{{s.get('targetNamespace')}}}{e.get('name')}" for s in _schemas(root) for e in s.findall(XS + "element")
    }
    for name, message in messages.items():
        parts = message.findall(W + "part")
        if len(parts) > 1:
            found.append(f"R2210: message {name} has more than one part")
        for part in parts:
            if part.get("type") is not None or part.get("element") is None:
                found.append(f"R2204: part {part.get('name')} of {name} refers to a type, not an element")
            elif _qname(part, part.get("element")) not in elements:
                found.append(f"R2101: part {part.get('name')} of {name} names an undeclared element")
    return found


def _port_type_findings(name: str, port_type: etree._Element, messages: dict[str, etree._Element]) -> list[str]:
    operations = port_type.findall(W + "operation")
    counts = Counter(o.get("name") for o in operations)
    found = [f"R2304: operation {o} is overloaded in {name}" for o, n in counts.items() if n > 1]
    for operation in operations:
        label = operation.get("name")
        for item in [
            *operation.findall(W + "input"),
            *operation.findall(W + "output"),
            *operation.findall(W + "fault"),
        ]:
            if _qname(item, item.get("message")) not in messages:
                found.append(f"R2101: {etree.QName(item).localname} of {label} names an undeclared message")
        faults = operation.findall(W + "fault")
        if not faults:
            found.append(f"fault: operation {label} declares no wsdl:fault")
        found += [f"R2721: a fault of {label} has no name" for f in faults if not f.get("name")]
    return found


def _service_findings(root: etree._Element, bindings: dict[str, etree._Element]) -> list[str]:
    addresses = Counter(a.get("location") for a in root.iterfind(f"{W}service/{W}port/{SOAP}address"))
    found = [f"R2711: two ports share the address {a}" for a, n in addresses.items() if n > 1]
    for port in root.iterfind(f"{W}service/{W}port"):
        if _qname(port, port.get("binding")) not in bindings:
            found.append(f"R2101: port {port.get('name')} names an undeclared binding")
        if port.find(SOAP + "address") is None:
            found.append(f"R2711: port {port.get('name')} has no soapbind:address")
    return found


def _binding_findings(
    name: str, binding: etree._Element, port_types: dict[str, etree._Element], messages: dict[str, etree._Element]
) -> list[str]:
    found: list[str] = []
    soap_binding = binding.find(SOAP + "binding")
    if soap_binding is None or soap_binding.get("transport") != HTTP_TRANSPORT:
        found.append(f"R2401: binding {name} is not SOAP 1.1 over HTTP")
    elif soap_binding.get("style", "document") != "document":
        found.append(f"R2705: binding {name} is not document style")
    port_type = port_types.get(_qname(binding, binding.get("type")))
    if port_type is None:
        return [*found, f"R2101: binding {name} names an undeclared portType"]
    declared = sorted(str(o.get("name")) for o in port_type.findall(W + "operation"))
    bound = sorted(str(o.get("name")) for o in binding.findall(W + "operation"))
    if declared != bound:
        found.append(f"R2718: binding {name} binds {bound}, the portType declares {declared}")
    signatures: list[str] = []
    for operation in binding.findall(W + "operation"):
        abstract = port_type.find(f"{W}operation[@name='{operation.get('name')}']")
        found += _operation_findings(f"{name}/{operation.get('name')}", operation, abstract, messages)
        signatures.append(_body_element(abstract, messages))
    found += [f"R2710: two operations of {name} have the body {s}" for s, n in Counter(signatures).items() if n > 1]
    return found


def _body_element(abstract: etree._Element | None, messages: dict[str, etree._Element]) -> str:
    """The operation's wire signature: the element of its input message's part."""
    source = abstract.find(W + "input") if abstract is not None else None
    message = messages.get(_qname(source, source.get("message"))) if source is not None else None
    part = message.find(W + "part") if message is not None else None
    return _qname(part, part.get("element")) if part is not None else ""


def _operation_findings(
    label: str, operation: etree._Element, abstract: etree._Element | None, messages: dict[str, etree._Element]
) -> list[str]:
    found: list[str] = []
    soap_operation = operation.find(SOAP + "operation")
    if soap_operation is None or soap_operation.get("soapAction") is None:
        found.append(f"R2745: {label} has no soap:operation/@soapAction")
    elif soap_operation.get("style", "document") != "document":
        found.append(f"R2705: {label} is not document style")
    for io in ("input", "output"):
        body = operation.find(f"{W}{io}/{SOAP}body")
        if body is None or body.get("use") != "literal":
            found.append(f"R2706: {io} of {label} is not literal")
        elif body.get("namespace") is not None or body.get("encodingStyle") is not None:
            found.append(f"R2716: {io} of {label} has a namespace or encodingStyle on soapbind:body")
    for header in operation.iterfind(f"{W}input/{SOAP}header"):
        message = messages.get(_qname(header, header.get("message")))
        parts = {p.get("name") for p in message.findall(W + "part")} if message is not None else set()
        if header.get("use") != "literal" or header.get("part") not in parts:
            found.append(f"R2720: a header of {label} is not a literal element part")
    faults = operation.findall(W + "fault")
    for fault in faults:
        soap_fault = fault.find(SOAP + "fault")
        if soap_fault is None or soap_fault.get("name") != fault.get("name") or soap_fault.get("use") != "literal":
            found.append(f"R2754: fault {fault.get('name')} of {label} has no matching literal soapbind:fault")
    if abstract is not None:
        names = sorted(str(f.get("name")) for f in abstract.findall(W + "fault"))
        if names != sorted(str(f.get("name")) for f in faults):
            found.append(f"R2740: {label} binds faults {names} differently from its portType")
    return found
