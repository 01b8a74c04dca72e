<?xml version="1.0" encoding="UTF-8"?>
<!-- unparsed-text() is XSLT 2.0: libxslt fails "XPath evaluation returned no result."; refused in Polish. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/">
    <html><body><p><xsl:value-of select="unparsed-text('/etc/passwd')"/></p></body></html>
  </xsl:template>
</xsl:stylesheet>
