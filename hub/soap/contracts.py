"""The published contracts, exported from hub.soap.model: `wsdl/*.wsdl` and `xsd/*.xsd` (checked in).

`platforma contracts export` writes them; a test fails when the checked-in files drift from the code.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

from lxml import etree
from spyne import Application
from spyne.interface.wsdl import Wsdl11

from contract import catalog
from hub.soap.services import SERVICES as _published_services

PLACEHOLDER_URL = "http://localhost:8080/soap/"

# File name of each namespace's schema; imports between schemas are rewritten to these names.
SCHEMA_FILES = {
    catalog.MODEL_NS: "model-1.xsd",
    "urn:pl:platforma-komunikacyjna:konta:1": "konta-1.xsd",
    "urn:pl:platforma-komunikacyjna:audyt:1": "audyt-1.xsd",
    catalog.QUERY_NS: "zapytania-1.xsd",
    catalog.FEED_NS: "zasilanie-1.xsd",
}
SERVICES = {s.path: importlib.import_module(s.module).build_application for s in _published_services}


_XS = "{http://www.w3.org/2001/XMLSchema}"
_RANK = {_XS + "import": 0, _XS + "simpleType": 1, _XS + "complexType": 2, _XS + "element": 3}


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


def wsdl(service: str, base_url: str = PLACEHOLDER_URL) -> bytes:
    """The WSDL of one service, with its address at `base_url + service`."""
    application = SERVICES[service](None)
    # Set by the HTTP server at run time; the exported file must say SOAP over HTTP as the live one does.
    application.transport = "http://schemas.xmlsoap.org/soap/http"
    document = Wsdl11(application.interface)
    document.build_interface_document(base_url + service)
    root = etree.fromstring(document.get_interface_document())
    return _pretty(root)


def _schemas_of(application: Application) -> dict[str, etree._Element]:
    from spyne.interface.xml_schema import XmlSchema

    schema = XmlSchema(application.interface)
    schema.build_interface_document()
    documents = {}
    for prefix, element in schema.get_interface_document().items():
        namespace = str(element.get("targetNamespace"))
        if namespace in SCHEMA_FILES:
            documents[namespace] = element
        del prefix
    return documents


def schemas() -> dict[str, bytes]:
    """Every published XSD by file name: model, query messages, feed batch."""
    documents: dict[str, etree._Element] = {}
    # Each namespace's schema is taken from the first application that declares it; a namespace shared by
    # several services (the model) comes out the same from each.
    for application in [build(None) for build in SERVICES.values()]:
        for namespace, element in _schemas_of(application).items():
            documents.setdefault(namespace, element)
    files = {}
    for namespace, element in documents.items():
        for imported in element.findall("{http://www.w3.org/2001/XMLSchema}import"):
            target = imported.get("namespace")
            if target in SCHEMA_FILES:
                imported.set("schemaLocation", SCHEMA_FILES[target])
        files[SCHEMA_FILES[namespace]] = _pretty(element)
    return files


def export(root: Path) -> list[Path]:
    """Write wsdl/ and xsd/ under `root`; return the files written."""
    written = []
    (root / "wsdl").mkdir(parents=True, exist_ok=True)
    (root / "xsd").mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        path = root / "wsdl" / f"{service}.wsdl"
        path.write_bytes(wsdl(service))
        written.append(path)
    for name, content in schemas().items():
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
    expected.update({f"xsd/{name}": content for name, content in schemas().items()})
    drift = []
    for name, content in expected.items():
        path = root / name
        if not path.exists() or path.read_bytes() != content:
            drift.append(name)
    return drift
