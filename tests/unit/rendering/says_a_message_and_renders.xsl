<?xml version="1.0" encoding="UTF-8"?>
<!-- A plain xsl:message does not change the result (XSLT 1.0, 13): the page renders, text around it kept. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:d="urn:x">
  <xsl:template match="/">
    <html><body><p>Przed <xsl:message>Tytuł: <xsl:value-of select="//d:Tytul"/></xsl:message>po: <xsl:value-of select="//d:Tytul"/></p></body></html>
  </xsl:template>
</xsl:stylesheet>
