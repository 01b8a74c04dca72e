<?xml version="1.0" encoding="UTF-8"?>
<!-- EXSLT's dyn:evaluate building a document() call at run time: denied by the sandbox; refused in Polish. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:ż="http://exslt.org/dynamic">
  <xsl:template match="/">
    <html><body><p><xsl:value-of select="ż:evaluate(concat('docu', 'ment(&quot;file:///etc/hostname&quot;)'))"/></p></body></html>
  </xsl:template>
</xsl:stylesheet>
