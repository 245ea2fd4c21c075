<?xml version="1.0" encoding="UTF-8"?>
<!--
  TOTVS Protheus, WSPONTEFIN.INCLUITITULO: an approved payment order becomes
  a payable (SE2, through FINA050 in the web service).

  Input:  the canonical event urn:ponte:events:v1 (wsdl/events-v1.xsd).
  Output: the SOAP Body element of contract/WSPONTEFIN.wsdl (qualified
          elements, in the struct's order).

  The WSDL types every field as s:string (ADVPL strings carry no length),
  so the SX3 sizes are kept here: E2_PREFIXO 3, E2_NUM 9, E2_TIPO 3,
  E2_NATUREZ 10, E2_HIST 25, E2_CCD 9. E2_NUM is the last 9 characters of
  the order's external id (PO-2026-0042 -> 2026-0042); two orders whose ids
  end alike collide, and Protheus refuses the second ("titulo ja existe"),
  which parks it for an operator. The supplier is found by CGCFORNECE
  (SA2 A2_CGC): Ponte does not know A2_COD/A2_LOJA, so E2_FORNECE and
  E2_LOJA are left out. E2_VALOR is written as the event's decimal text;
  Protheus publishes ADVPL numbers as s:float, but the text is not rounded
  on the way. IDPONTE, the event's id, is what CONSULTATITULO finds the
  payable by after a timeout.

  The parameters below are each company's: copy this folder and set them.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:ev="urn:ponte:events:v1"
                xmlns="http://ponte.example.com/wspontefin/"
                exclude-result-prefixes="ev">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:param name="prefixo" select="'JUR'"/>
  <xsl:param name="tipo" select="'DP'"/>
  <xsl:param name="natureza" select="'2201'"/>

  <xsl:template match="/ev:event">
    <xsl:variable name="po" select="ev:paymentOrder"/>
    <xsl:variable name="number" select="$po/ev:externalId"/>
    <INCLUITITULO>
      <TITULO>
        <E2_PREFIXO><xsl:value-of select="substring($prefixo, 1, 3)"/></E2_PREFIXO>
        <E2_NUM>
          <xsl:value-of select="substring($number, string-length($number) - 8)"/>
        </E2_NUM>
        <E2_TIPO><xsl:value-of select="substring($tipo, 1, 3)"/></E2_TIPO>
        <E2_NATUREZ><xsl:value-of select="substring($natureza, 1, 10)"/></E2_NATUREZ>
        <CGCFORNECE><xsl:value-of select="$po/ev:beneficiary/ev:taxId"/></CGCFORNECE>
        <E2_EMISSAO><xsl:value-of select="substring($po/ev:approvedAt, 1, 10)"/></E2_EMISSAO>
        <E2_VENCTO><xsl:value-of select="$po/ev:dueDate"/></E2_VENCTO>
        <E2_VALOR><xsl:value-of select="$po/ev:amount"/></E2_VALOR>
        <E2_HIST>
          <xsl:value-of select="substring(concat('PROC ', $po/ev:lawsuitNumber), 1, 25)"/>
        </E2_HIST>
        <E2_CCD><xsl:value-of select="substring($po/ev:costCenter, 1, 9)"/></E2_CCD>
        <IDPONTE><xsl:value-of select="ev:id"/></IDPONTE>
      </TITULO>
    </INCLUITITULO>
  </xsl:template>
</xsl:stylesheet>
