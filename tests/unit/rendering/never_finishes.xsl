<?xml version="1.0" encoding="UTF-8"?>
<!-- Two calls of itself per level, 40 levels (2^40 calls, never deeper than libxslt's recursion limit): runs for
     days at 100 % CPU; must be stopped by the time bound. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/">
    <html><body><p><xsl:call-template name="r"><xsl:with-param name="n" select="40"/></xsl:call-template></p></body></html>
  </xsl:template>
  <xsl:template name="r">
    <xsl:param name="n"/>
    <xsl:if test="$n &gt; 0">
      <xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>
      <xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>
    </xsl:if>
  </xsl:template>
</xsl:stylesheet>
