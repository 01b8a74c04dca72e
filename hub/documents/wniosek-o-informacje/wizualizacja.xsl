<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:d="urn:pl:platforma-komunikacyjna:dokumenty:wniosek-o-informacje:1"
                exclude-result-prefixes="d">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>
  <xsl:template match="/d:Dokument">
    <html lang="pl">
      <head><meta charset="UTF-8"/><title><xsl:value-of select="d:OpisDokumentu/d:Tytul"/></title></head>
      <body>
        <h1><xsl:value-of select="d:OpisDokumentu/d:Tytul"/></h1>
        <p>Nadawca: <xsl:value-of select="d:DaneDokumentu/d:Nadawca/d:Nazwa"/>
          (<xsl:value-of select="d:DaneDokumentu/d:Nadawca/d:Uzytkownik"/>)</p>
        <p>Adresat: <xsl:value-of select="d:DaneDokumentu/d:Adresat/d:Nazwa"/></p>
        <p>Podstawa prawna: <xsl:value-of select="d:OpisDokumentu/d:PodstawaPrawna"/></p>
        <p>Osoba (PESEL): <xsl:value-of select="d:TrescDokumentu/d:Osoba/d:Pesel"/></p>
        <p>Cel: <xsl:value-of select="d:TrescDokumentu/d:Cel"/></p>
        <h2>Zakres wniosku</h2>
        <ul>
          <xsl:for-each select="d:TrescDokumentu/d:Zbiory/d:Zbior">
            <li><xsl:value-of select="@Kod"/>:
              <xsl:for-each select="d:Kategoria"><xsl:value-of select="."/><xsl:if test="position() != last()">, </xsl:if></xsl:for-each>
            </li>
          </xsl:for-each>
        </ul>
        <p>Data: <xsl:value-of select="d:OpisDokumentu/d:DataWytworzenia"/>;
          sprawa <xsl:value-of select="d:DaneDokumentu/d:IdentyfikatorSprawy"/></p>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
