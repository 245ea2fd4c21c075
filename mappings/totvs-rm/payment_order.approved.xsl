<?xml version="1.0" encoding="UTF-8"?>
<!--
  TOTVS RM, DataServer FinLanDataBR: an approved payment order becomes a
  payable posting (FLAN) with its cost-centre split (FLANRATCCU).

  Input:  the canonical event urn:ponte:events:v1 (wsdl/events-v1.xsd).
  Output: the DataSet XML that SaveRecord receives as its XML parameter.
  IDLAN -1 asks RM to number the posting; RM answers CODCOLIGADA;IDLAN.
  Company (CODCOLIGADA) and document type (CODTDO) are parameters so that
  each deployment sets its own without editing the template.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:ev="urn:ponte:events:v1"
                exclude-result-prefixes="ev">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:param name="codcoligada" select="'1'"/>
  <xsl:param name="codtdo" select="'PROC'"/>

  <xsl:template match="/ev:event">
    <xsl:variable name="po" select="ev:paymentOrder"/>
    <FinLAN>
      <FLAN>
        <CODCOLIGADA><xsl:value-of select="$codcoligada"/></CODCOLIGADA>
        <IDLAN>-1</IDLAN>
        <NUMERODOCUMENTO><xsl:value-of select="$po/ev:externalId"/></NUMERODOCUMENTO>
        <PAGREC>2</PAGREC>
        <STATUSLAN>0</STATUSLAN>
        <CODTDO><xsl:value-of select="$codtdo"/></CODTDO>
        <CGCCFO><xsl:value-of select="$po/ev:beneficiary/ev:taxId"/></CGCCFO>
        <DATAEMISSAO><xsl:value-of select="substring($po/ev:approvedAt, 1, 10)"/>T00:00:00</DATAEMISSAO>
        <DATAVENCIMENTO><xsl:value-of select="$po/ev:dueDate"/>T00:00:00</DATAVENCIMENTO>
        <VALORORIGINAL><xsl:value-of select="$po/ev:amount"/></VALORORIGINAL>
        <CODCCUSTO><xsl:value-of select="$po/ev:costCenter"/></CODCCUSTO>
        <HISTORICO>
          <xsl:value-of select="concat('Ponte ', $po/ev:id, ' processo ', $po/ev:lawsuitNumber, ' ', $po/ev:type, ': ', $po/ev:description)"/>
        </HISTORICO>
      </FLAN>
      <FLANRATCCU>
        <CODCOLIGADA><xsl:value-of select="$codcoligada"/></CODCOLIGADA>
        <IDLAN>-1</IDLAN>
        <IDRATCCU>-1</IDRATCCU>
        <CODCCUSTO><xsl:value-of select="$po/ev:costCenter"/></CODCCUSTO>
        <VALOR><xsl:value-of select="$po/ev:amount"/></VALOR>
        <PERCENTUAL>100</PERCENTUAL>
      </FLANRATCCU>
    </FinLAN>
  </xsl:template>
</xsl:stylesheet>
