<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:d="urn:pl:platforma-komunikacyjna:dokumenty:zaswiadczenie-sr-wyplacone-swiadczenia:1"
                xmlns:m="urn:pl:platforma-komunikacyjna:model:1"
                exclude-result-prefixes="d m">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>
  <xsl:template match="/d:Dokument">
    <html lang="pl">
      <head><meta charset="UTF-8"/><title><xsl:value-of select="d:OpisDokumentu/d:Tytul"/></title></head>
      <body>
        <h1><xsl:value-of select="d:OpisDokumentu/d:Tytul"/></h1>
        <p>Wystawca: <xsl:value-of select="d:DaneDokumentu/d:Nadawca/d:Nazwa"/></p>
        <p>Adresat: <xsl:value-of select="d:DaneDokumentu/d:Adresat/d:Nazwa"/></p>
        <p>Podstawa prawna: <xsl:value-of select="d:OpisDokumentu/d:PodstawaPrawna"/></p>
        <p>Osoba: PESEL <xsl:value-of select="d:TrescDokumentu/d:Osoba/d:Pesel"/></p>
        <p><xsl:value-of select="d:TrescDokumentu/d:Stwierdzenie"/></p>
        <h2>Wypłacone świadczenia rodzinne</h2>
        <table border="1">
          <tr><th>rodzaj świadczenia</th><th>data wypłaty</th><th>kwota</th></tr>
          <xsl:for-each select="d:TrescDokumentu/*/m:WyplaconeSwiadczenia/*">
            <tr><td><xsl:value-of select="m:Rodzaj"/></td><td><xsl:value-of select="m:DataWyplaty"/></td>
              <td><xsl:value-of select="m:Kwota"/></td></tr>
          </xsl:for-each>
        </table>
        <p>Data wytworzenia: <xsl:value-of select="d:OpisDokumentu/d:DataWytworzenia"/>;
          sprawa <xsl:value-of select="d:DaneDokumentu/d:IdentyfikatorSprawy"/></p>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
