"""What a template's XSL may call (hub.domain.stylesheet_check): every XPath expression read as XPath reads it,
so that neither a quoted "}" in an attribute value template nor a prefix in another script hides document()
or an extension function (the templates attack pass, finding 1)."""

from __future__ import annotations

import pytest
from lxml import etree

from hub.domain.stylesheet_check import reaching_out

XSLT = "http://www.w3.org/1999/XSL/Transform"


def stylesheet(body: str, namespaces: str = "") -> etree._Element:
    return etree.fromstring(
        f'<xsl:stylesheet version="1.0" xmlns:xsl="{XSLT}" {namespaces}><xsl:key name="k" match="x" use="@id"/>'
        f'<xsl:template match="/"><html><body>{body}</body></html></xsl:template></xsl:stylesheet>'.encode()
    )


@pytest.mark.parametrize(
    ("body", "namespaces", "words"),
    [
        ("<p title=\"{concat('}', document('file:///etc/passwd'))}\">x</p>", "", "document()"),
        ('<p title="{concat(&quot;}&quot;, document(&quot;/etc/passwd&quot;))}">x</p>', "", "document()"),
        ("<p title=\"{{x}} {string(document('/etc/passwd'))}\">x</p>", "", "document()"),
        ("<p><xsl:value-of select=\"document ('/etc/passwd')\"/></p>", "", "document()"),
        (
            "<p><xsl:value-of select=\"ż:evaluate(concat('docu', 'ment(1)'))\"/></p>",
            'xmlns:ż="http://exslt.org/dynamic"',
            "„ż:evaluate”",
        ),
        ("<xsl:for-each select=\"str:tokenize('a b')\"/>", 'xmlns:str="http://exslt.org/strings"', "rozszerzeń"),
        ("<xsl:if test=\"function-available('x') and e:f()\"/>", 'xmlns:e="urn:e"', "„e:f”"),
        ('<xsl:apply-templates select="x[e:f(.)]"/>', 'xmlns:e="urn:e"', "„e:f”"),
        ('<xsl:element name="{e:f()}"/>', 'xmlns:e="urn:e"', "„e:f”"),
        ("<p><xsl:value-of select=\"unparsed-text('/etc/passwd')\"/></p>", "", "„unparsed-text”"),
        ('<xsl:number value="e:f()"/>', 'xmlns:e="urn:e"', "„e:f”"),
        ('<xsl:sort select="x" order="{e:f()}"/>', 'xmlns:e="urn:e"', "„e:f”"),
        ('<p title="{concat(\'a)}">x</p>', "", "nie da się odczytać"),
        ('<p title="{1 + 1">x</p>', "", "nie da się odczytać"),
        ('<p title="a } b">x</p>', "", "nie da się odczytać"),
        (
            '<e:document xmlns:e="http://exslt.org/common" xsl:extension-element-prefixes="e" href="/tmp/x"/>',
            "",
            "rozszerzeń",
        ),
    ],
    ids=[
        "quoted-brace-in-an-attribute-value-template",
        "double-quoted-brace",
        "escaped-braces-before-the-call",
        "space-before-the-parenthesis",
        "non-ascii-prefix",
        "exslt-function",
        "extension-after-and",
        "extension-in-a-predicate",
        "extension-in-an-xsl-attribute-value-template",
        "xslt-2-function",
        "extension-in-a-number-value",
        "extension-in-a-sort-order",
        "unterminated-literal",
        "unterminated-expression",
        "lone-closing-brace",
        "extension-element",
    ],
)
def test_a_call_reaching_outside_the_document_is_found_however_it_is_written(
    body: str, namespaces: str, words: str
) -> None:
    reason = reaching_out(stylesheet(body, namespaces))
    assert reason is not None and words in reason, reason


@pytest.mark.parametrize(
    "body",
    [
        "<p title=\"{concat('}', 'a:b(')} {{document('x')}}\">Godz.: {{x}}</p>",
        '<xsl:value-of select="count(child::node()) + string-length(normalize-space(.)) div (2) mod(3)"/>',
        '<xsl:if test="* and (position() &gt; 1) or (last())"><xsl:value-of select="-(1)"/></xsl:if>',
        '<xsl:value-of select="format-number(sum(//x), \'#,##0.00\') "/><xsl:value-of select="generate-id()"/>',
        "<xsl:value-of select=\"key('k', 'a')/text()\"/>"
        "<xsl:copy-of select=\"processing-instruction('x') | comment()\"/>",
        '<xsl:value-of select="system-property(\'xsl:vendor\')"/><xsl:value-of select="current()/@and"/>',
        '<xsl:value-of xmlns:d="urn:x" select="d:and/d:div | d:Tytul[@d:Kod = \'x\']/ancestor-or-self::d:*"/>',
        '<xsl:value-of select="my-document-count"/><xsl:value-of select="$ż:zmienna"/>',
        "<xsl:value-of select=\"translate(substring-before('a:b', ':'), 'a', 'b')\"/>",
    ],
    ids=[
        "literal-and-escaped-braces",
        "operator-names-before-parentheses",
        "star-and-operators",
        "xslt-functions",
        "key-and-node-types",
        "system-property-and-attribute-named-and",
        "prefixed-names-are-no-calls",
        "names-and-variables",
        "colons-in-literals",
    ],
)
def test_xpath_and_xslt_functions_that_stay_in_the_document_are_allowed(body: str) -> None:
    assert reaching_out(stylesheet(body, 'xmlns:ż="urn:z"')) is None
