"""What a template's XSL may call (docs/documents.md: a template is one file and reaches nothing outside it).

Every XPath expression of the stylesheet is read as XPath reads it (XPath 1.0, 3.7: tokens, string literals,
the disambiguation of operator names) instead of being searched with a pattern: a pattern stopped at a "}"
inside a string literal of an attribute value template and knew only ASCII prefixes, and both detours
reached `document()`. A call is allowed only of the functions of XPath 1.0 (4) and those of XSLT 1.0 (12)
that read nothing but the document being rendered; `document()` reads any URI, and a prefixed name is an
extension function (EXSLT's `dyn:evaluate` builds any expression, `document()` too, at run time). An
extension element needs its prefix declared in `extension-element-prefixes` (XSLT 1.0, 14.1), which a
template may not declare at all. lxml's sandbox stays the second line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

_XSLT = "http://www.w3.org/1999/XSL/Transform"
#: XPath 1.0, 4 (core library) and XSLT 1.0, 12 (additional functions) without document().
ALLOWED_FUNCTIONS = frozenset(
    {
        "last", "position", "count", "id", "local-name", "namespace-uri", "name",
        "string", "concat", "starts-with", "contains", "substring-before", "substring-after", "substring",
        "string-length", "normalize-space", "translate",
        "boolean", "not", "true", "false", "lang",
        "number", "sum", "floor", "ceiling", "round",
        "key", "format-number", "current", "unparsed-entity-uri", "generate-id", "system-property",
        "element-available", "function-available",
    }
)  # fmt: skip
#: XSLT 1.0's elements (its appendix B, less xsl:include and xsl:import, refused apart): any other element in
#: the XSLT namespace is another version's (`xsl:document` of 1.1 writes a file, `xsl:result-document` of 2.0
#: too), which libxslt either runs or fails on at every rendering.
XSLT_ELEMENTS = frozenset(
    {
        "stylesheet", "transform", "include", "import", "strip-space", "preserve-space", "output", "key",
        "decimal-format", "namespace-alias", "attribute-set", "variable", "param", "template", "apply-templates",
        "call-template", "apply-imports", "with-param", "sort", "for-each", "if", "choose", "when", "otherwise",
        "value-of", "copy-of", "copy", "element", "attribute", "text", "comment", "processing-instruction",
        "number", "message", "fallback",
    }
)  # fmt: skip
#: XPath 1.0, 3.7: NodeType names, which a "(" follows in a node test, not in a call.
_NODE_TYPES = frozenset({"comment", "text", "processing-instruction", "node"})
# XML 1.0 (5th ed.), 2.3: a name starts with a letter or "_" in any script and goes on with letters, digits,
# ".", "-", "·" and combining marks; XPath's names are such names without ":" (Namespaces in XML, 3).
_NCNAME = r"[^\W\d][\w.\-\u00b7\u0300-\u036f\u203f\u2040]*"
_TOKEN = re.compile(
    rf"""
    (?P<space>\s+)
    | (?P<literal>"[^"]*"|'[^']*')
    | (?P<number>\d+(?:\.\d*)?|\.\d+)
    | (?P<variable>\${_NCNAME}(?::{_NCNAME})?)
    | (?P<name>{_NCNAME}(?::(?:{_NCNAME}|\*))?)
    | (?P<punctuation>\.\.|::|//|!=|<=|>=|[.()\[\]@,/|+\-=<>*])
    """,
    re.VERBOSE,
)
#: XSLT 1.0: the attributes of its instructions that hold an expression (select, test, use, value) or a
#: pattern (match, count, from), which may call id() and key().
_EXPRESSION_ATTRIBUTES = frozenset({"select", "test", "match", "use", "value", "count", "from"})
#: XSLT 1.0: the attributes of its instructions that are attribute value templates (7.1.2, 7.1.3, 7.3, 7.7,
#: 10); every attribute of a literal result element outside the XSLT namespace is one too (7.1.1).
_TEMPLATE_ATTRIBUTES = {
    "element": frozenset({"name", "namespace"}),
    "attribute": frozenset({"name", "namespace"}),
    "processing-instruction": frozenset({"name"}),
    "number": frozenset({"format", "lang", "letter-value", "grouping-separator", "grouping-size"}),
    "sort": frozenset({"lang", "data-type", "order", "case-order"}),
}


class _Unreadable(ValueError):
    """An expression or attribute value template XPath cannot read."""


def _calls(expression: str) -> Iterator[str]:
    """The names of the functions an XPath 1.0 expression calls, as written (with a prefix if any)."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(expression):
        found = _TOKEN.match(expression, position)
        if found is None or found.lastgroup is None:
            raise _Unreadable(expression)
        position = found.end()
        if found.lastgroup != "space":
            tokens.append((found.lastgroup, found.group()))
    operand_before = False
    for index, (kind, text) in enumerate(tokens):
        # XPath 1.0, 3.7: right after an operand, "*" multiplies and a name is an operator ("a and (b)").
        operator = operand_before and (text == "*" or kind == "name")
        if kind == "name" and not operator and tokens[index + 1 : index + 2] == [("punctuation", "(")]:
            if text not in _NODE_TYPES:
                yield text
        operand_before = not operator and (kind != "punctuation" or text in (")", "]", ".", "..", "*"))


def _template_parts(value: str) -> Iterator[str]:
    """The expressions in the braces of an attribute value template (XSLT 1.0, 7.6.2): "{{" and "}}" are
    braces themselves, and a "}" inside a string literal does not end an expression."""
    position = 0
    while position < len(value):
        character = value[position]
        if value.startswith(("{{", "}}"), position):
            position += 2
        elif character == "}":
            raise _Unreadable(value)
        elif character == "{":
            end, quote = position + 1, ""
            while end < len(value) and (quote or value[end] != "}"):
                if quote and value[end] == quote:
                    quote = ""
                elif not quote and value[end] in "\"'":
                    quote = value[end]
                end += 1
            if end == len(value):
                raise _Unreadable(value)
            yield value[position + 1 : end]
            position = end + 1
        else:
            position += 1


def _expressions(root: etree._Element) -> Iterator[tuple[int | None, str]]:
    """Every XPath expression of a stylesheet with the line of its element."""
    for element in root.iter(etree.Element):
        name = etree.QName(element)
        for attribute, value in element.attrib.items():
            attribute_name = etree.QName(attribute)
            if name.namespace == _XSLT:
                if attribute_name.namespace is not None:
                    continue
                if attribute_name.localname in _EXPRESSION_ATTRIBUTES:
                    yield element.sourceline, value
                elif attribute_name.localname in _TEMPLATE_ATTRIBUTES.get(name.localname, ()):
                    yield from ((element.sourceline, part) for part in _template_parts(value))
            elif attribute_name.namespace != _XSLT:
                yield from ((element.sourceline, part) for part in _template_parts(value))


def _where(line: int | None) -> str:
    return f" (wiersz {line})" if line else ""


def reaching_out(root: etree._Element) -> str | None:
    """Why a stylesheet reaches outside the document it renders (a Polish sentence), or None if it does not."""
    for element in root.iter(etree.Element):
        name = etree.QName(element)
        if name.namespace == _XSLT and name.localname not in XSLT_ELEMENTS:
            return (
                f"Arkusz XSL szablonu używa instrukcji xsl:{name.localname}{_where(element.sourceline)}, której nie ma "
                "w XSLT 1.0 (np. xsl:document zapisuje plik); szablon może używać tylko instrukcji XSLT 1.0."
            )
        if "extension-element-prefixes" in element.attrib or f"{{{_XSLT}}}extension-element-prefixes" in element.attrib:
            return (
                "Arkusz XSL szablonu nie może używać funkcji ani elementów rozszerzeń (np. EXSLT): deklaruje "
                f"extension-element-prefixes{_where(element.sourceline)}."
            )
    try:
        for line, expression in _expressions(root):
            for function in _calls(expression):
                if function == "document":
                    return (
                        "Arkusz XSL szablonu nie może wczytywać innych dokumentów, plików ani zasobów sieci "
                        f"(funkcja document(){_where(line)})."
                    )
                if ":" in function:
                    return (
                        "Arkusz XSL szablonu nie może używać funkcji ani elementów rozszerzeń (np. EXSLT): "
                        f"wywołuje „{function}”{_where(line)}."
                    )
                if function not in ALLOWED_FUNCTIONS:
                    return (
                        f"Arkusz XSL szablonu wywołuje funkcję „{function}”{_where(line)}, której nie ma wśród "
                        "funkcji XPath 1.0 i XSLT 1.0 dozwolonych w szablonie."
                    )
    except _Unreadable as unreadable:
        return f"Arkusz XSL szablonu zawiera wyrażenie XPath, którego nie da się odczytać: „{unreadable}”."
    return None
