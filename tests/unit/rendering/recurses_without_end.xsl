<?xml version="1.0" encoding="UTF-8"?>
<!-- A template calling itself for ever: libxslt stops it at its depth limit; refused in Polish. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/"><html><body><xsl:call-template name="r"/></body></html></xsl:template>
  <xsl:template name="r"><xsl:call-template name="r"/></xsl:template>
</xsl:stylesheet>
