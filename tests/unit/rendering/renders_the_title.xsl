<?xml version="1.0" encoding="UTF-8"?>
<!-- A plain page with the document's title: renders. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:d="urn:x">
  <xsl:output method="html" encoding="UTF-8"/>
  <xsl:template match="/"><html><head><title>Dokument</title></head><body><h1><xsl:value-of select="//d:Tytul"/></h1></body></html></xsl:template>
</xsl:stylesheet>
