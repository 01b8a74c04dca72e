"""The feed format (guideline 4): a batch of beneficiary records of one data set, as sent by a feeder."""

from __future__ import annotations

from spyne import Boolean, ComplexModel, DateTime, Enum, Unicode, XmlAttribute

from hub.catalog import FEED_NS
from hub.model.common import many, named, required
from hub.model.ops import DaneOPS
from hub.model.pup import DanePUP
from hub.model.sr import DaneSR

BatchKind = named(Enum("PELNA", "PRZYROSTOWA", type_name="RodzajPaczki"), FEED_NS)


SourceKey = named(Unicode(min_len=1, max_len=64, type_name="Identyfikator"), FEED_NS)
DataSetCode = named(Unicode(min_len=1, max_len=32, type_name="KodZbioru"), FEED_NS)


class FeedType(ComplexModel):
    __namespace__ = FEED_NS


class Rekord(FeedType):
    """One beneficiary as the domain system knows them: a source key and the data set's sections.

    `Usuniety` marks a person deleted or removed from the register at the source (incremental batches).
    """

    _type_info = [
        ("IdZrodlowy", required(SourceKey)),
        ("Usuniety", Boolean),
        ("DanePUP", DanePUP),
        ("DaneOPS", DaneOPS),
        ("DaneSR", DaneSR),
    ]


class Paczka(FeedType):
    """A batch of records of one data set: a full snapshot or the changes since a watermark."""

    _type_info = [
        ("Zbior", XmlAttribute(DataSetCode, use="required")),
        ("Rodzaj", XmlAttribute(BatchKind, use="required")),
        ("IdPaczki", XmlAttribute(SourceKey)),
        ("Utworzono", XmlAttribute(DateTime)),
        ("Rekord", many(Rekord)),
    ]
