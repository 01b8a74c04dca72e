<?xml version="1.0" encoding="UTF-8"?>
<!-- document() behind a "}" in an attribute value template: denied by the sandbox; refused in Polish, no path. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/">
    <html><body><p title="{concat('}', document('file:///etc/hostname'))}">x</p></body></html>
  </xsl:template>
</xsl:stylesheet>
