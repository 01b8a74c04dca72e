"""A person's sections packed into one string and one byte string: how a replica stores them (`sekcje`:
`spis`, `tresc`) and how a feeder's reader process hands them to its writer.

`spis` lists "Name:length" of each section (space-separated; element names are NCNames, so they hold no
colon and no space) and `tresc` is the bytes of all of them, in the same order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, overload


def pack_sections(sections: Iterable[tuple[str, bytes]]) -> tuple[str, bytes]:
    """(`spis`, `tresc`) of a person's sections (as they are, when already `PackedSections`)."""
    if isinstance(sections, PackedSections):
        return sections.contents, sections.content
    names: list[str] = []
    bodies: list[bytes] = []
    for name, body in sections:
        names.append(f"{name}:{len(body)}")
        bodies.append(body)
    return " ".join(names), b"".join(bodies)


def unpack_sections(contents: str, content: bytes, wanted: Collection[str] | None = None) -> dict[str, bytes]:
    """The sections (those `wanted`, or all) of a `pack_sections` pair, by element name, in order."""
    found: dict[str, bytes] = {}
    start = 0
    for entry in contents.split():
        name, _, size = entry.partition(":")
        end = start + int(size)
        if wanted is None or name in wanted:
            found[name] = content[start:end]
        start = end
    return found


def sections_size(sections: Sequence[tuple[str, bytes]]) -> int:
    """The bytes of a person's sections."""
    if isinstance(sections, PackedSections):
        return len(sections.content)
    return sum(len(body) for _name, body in sections)


class PackedSections(Sequence[tuple[str, bytes]]):
    """A person's (element name, bytes) sections held packed: a sequence like the tuple it replaces, but
    one string and one byte string to pickle (a reader process sends a million people to its writer)
    and nothing to pack again for the replica."""

    __slots__ = ("content", "contents")

    def __init__(self, contents: str, content: bytes) -> None:
        self.contents = contents
        self.content = content

    @classmethod
    def of(cls, sections: Iterable[tuple[str, bytes]]) -> PackedSections:
        """The sections packed."""
        return cls(*pack_sections(sections))

    def __reduce__(self) -> tuple[Any, tuple[str, bytes]]:
        return PackedSections, (self.contents, self.content)

    def _pairs(self) -> list[tuple[str, bytes]]:
        return list(unpack_sections(self.contents, self.content).items())

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return iter(self._pairs())

    def __len__(self) -> int:
        return len(self.contents.split())

    @overload
    def __getitem__(self, index: int) -> tuple[str, bytes]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, bytes]]: ...
    def __getitem__(self, index: int | slice) -> tuple[str, bytes] | Sequence[tuple[str, bytes]]:
        return self._pairs()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedSections):
            return (self.contents, self.content) == (other.contents, other.content)
        if isinstance(other, Sequence):
            return self._pairs() == [tuple(pair) for pair in other]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PackedSections({self.contents!r}, <{len(self.content)} B>)"
