<?xml version="1.0" encoding="UTF-8"?>
<!-- xsl:message terminate="yes" (XSLT 1.0, 13): refused, saying so, without the message's own text. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:d="urn:x">
  <xsl:template match="/">
    <html><body><xsl:message terminate="yes">Brak tytułu: <xsl:value-of select="//d:Tytul"/></xsl:message></body></html>
  </xsl:template>
</xsl:stylesheet>
