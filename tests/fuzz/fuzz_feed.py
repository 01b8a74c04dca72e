"""Fuzz target `feed`: the feed batch parser, both ways a batch arrives (replica/writer.py, replica/feed.py,
contract/xmlsafe.py).

* A feed file (`platforma load`, `Loader.load`): streamed by `_iter_feed`, validated against
  xsd/zasilanie-1.xsd while parsed, the header from the `Paczka` attributes, each `Rekord` reduced by
  `parse_record` and checked by `record_problem`.
* A batch sent to the feed service (`Zasil`): the hardened parser `parse_bytes`, the schema (Spyne
  validates the body), then the same header and records.

Property: only the project's errors for the sender's mistakes (`PlatformError` with `client_error`)
escape; anything else would reach the sender as soap:Server, or end `platforma load` with a traceback.

    .venv/bin/python tests/fuzz/fuzz_feed.py -max_total_time=30 corpus_dir
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

if __name__ == "__main__":  # run as a program: the repository root is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lxml import etree

from tests.fuzz import harness

with harness.instrumented(__name__ == "__main__", "replica", "contract"):
    from contract import catalog
    from contract.errors import PlatformError
    from contract.xmlsafe import parse_bytes
    from hub.soap.contracts import feed_schema
    from replica.feed import BatchHeader
    from replica.writer import F, _iter_feed, checked_header, checked_record, parse_record, record_problem


def check(data: bytes) -> None:
    """Parse `data` as a feed file and as a received batch; only the sender's errors may escape."""
    for parse in (_as_file, _as_received):
        try:
            parse(data)
        except PlatformError as error:
            if not error.client_error:
                raise harness.Finding(f"{error.code} is not the sender's mistake: {error.message}", error) from error


def _as_file(data: bytes) -> None:
    """As `Loader.load` reads a feed file: the header as the `Paczka` opens, then record by record."""
    header: BatchHeader | None = None
    for attributes, element in _iter_feed(io.BytesIO(data), feed_schema()):
        if element is None:
            header = checked_header(attributes)
        elif header is not None:
            kind = catalog.kind(header.data_set) or catalog.PUP
            record_problem(checked_record(element, kind.data_element))


def _as_received(data: bytes) -> None:
    """As the feed service reads a `Paczka` body: hardened parse, schema, then header and records."""
    root = parse_bytes(data)
    if root.tag != F + "Paczka" or not feed_schema().validate(root):
        return  # Spyne answers these with soap:Client before the service runs
    header = checked_header(dict(root.attrib))  # as hub/soap/services/zasilanie.py reads it
    for element in root.iterchildren(F + "Rekord"):
        _read(element, header)


def _read(element: etree._Element, header: BatchHeader) -> None:
    # The replica's kind decides the data element in production; here the batch's own data set does.
    kind = catalog.kind(header.data_set) or catalog.PUP
    record_problem(parse_record(element, kind.data_element))


if __name__ == "__main__":
    harness.main("feed", check)
