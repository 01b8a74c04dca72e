<?xml version="1.0" encoding="UTF-8"?>
<!-- Kept from an older version whose namespace was another: matches nothing, gives an empty result; refused. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:d="urn:inna-przestrzen">
  <xsl:template match="/"><xsl:apply-templates select="d:Dokument"/></xsl:template>
  <xsl:template match="d:Dokument"><html><body><p><xsl:value-of select="d:Tytul"/></p></body></html></xsl:template>
</xsl:stylesheet>
