<?xml version="1.0" encoding="UTF-8"?>
<!-- Images, a stylesheet link, CSS @import and url() outside the document: the PDF is made without them. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:d="urn:x">
  <xsl:template match="/">
    <html><head><link rel="stylesheet" href="http://127.0.0.1:9/styl.css"/>
      <style>@import url("http://127.0.0.1:9/import.css"); p { background: url("http://127.0.0.1:9/tlo.png") }</style>
    </head><body><img src="http://127.0.0.1:9/obraz.png"/><img src="file:///etc/hostname"/>
      <p><xsl:value-of select="//d:Tytul"/></p></body></html>
  </xsl:template>
</xsl:stylesheet>
