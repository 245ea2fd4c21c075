<?xml version="1.0" encoding="UTF-8"?>
<!--
  SAP, ZPONTE_ACC_DOCUMENT_POST: a provision change (CPC 25) becomes a G/L
  posting with two lines per ledger movement: constitution and increase
  debit the provision expense and credit the provision; a reversal debits
  the provision and credits the reversal account. A disclosure has no
  ledger entry and writes no line.

  A change whose movements are all disclosures has nothing to post: the
  mapping answers <pm:nothing-to-send> (adapter/mappings/stylesheet.py).

  Input:  the canonical event urn:ponte:events:v1 (wsdl/events-v1.xsd).
  Output: the SOAP Body element of contract/zws_ponte_acc_document.wsdl.
  Posting date: the reporting date of the new figure; for a withdrawal (no
  new figure) the day the change was recorded. Each account role maps to a
  G/L account through the parameters below; set them per company.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:ev="urn:ponte:events:v1"
                xmlns:rfc="urn:sap-com:document:sap:rfc:functions"
                xmlns:pm="urn:ponte:mappings:v1"
                exclude-result-prefixes="ev pm">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:param name="comp_code" select="'1000'"/>
  <xsl:param name="doc_type" select="'SA'"/>
  <xsl:param name="username" select="'PONTE'"/>
  <xsl:param name="account_provision_expense" select="'0000475100'"/>
  <xsl:param name="account_provision" select="'0000219100'"/>
  <xsl:param name="account_provision_reversal" select="'0000475900'"/>
  <xsl:param name="expense_cost_center" select="''"/>

  <xsl:template match="/ev:event">
    <xsl:variable name="change" select="ev:provisionChanged"/>
    <xsl:variable name="ledger" select="$change/ev:movements/ev:movement[ev:debit and ev:credit]"/>
    <xsl:choose>
      <xsl:when test="not($ledger)">
        <pm:nothing-to-send reason="{concat('provision ', $change/ev:externalId, ' changed with no ledger movement (disclosure only)')}"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:call-template name="document">
          <xsl:with-param name="change" select="$change"/>
          <xsl:with-param name="ledger" select="$ledger"/>
        </xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="document">
    <xsl:param name="change"/>
    <xsl:param name="ledger"/>
    <xsl:variable name="posting">
      <xsl:choose>
        <xsl:when test="$change/ev:cause != 'withdrawal' and $change/ev:after">
          <xsl:value-of select="$change/ev:after/ev:reportingDate"/>
        </xsl:when>
        <xsl:otherwise>
          <xsl:value-of select="substring(ev:occurredAt, 1, 10)"/>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <rfc:ZPONTE_ACC_DOCUMENT_POST>
      <ACCOUNTGL>
        <xsl:for-each select="$ledger">
          <xsl:variable name="n" select="position()"/>
          <xsl:call-template name="gl-line">
            <xsl:with-param name="number" select="2 * $n - 1"/>
            <xsl:with-param name="role" select="ev:debit"/>
            <xsl:with-param name="change" select="$change"/>
          </xsl:call-template>
          <xsl:call-template name="gl-line">
            <xsl:with-param name="number" select="2 * $n"/>
            <xsl:with-param name="role" select="ev:credit"/>
            <xsl:with-param name="change" select="$change"/>
          </xsl:call-template>
        </xsl:for-each>
      </ACCOUNTGL>
      <CURRENCYAMOUNT>
        <xsl:for-each select="$ledger">
          <xsl:variable name="n" select="position()"/>
          <item>
            <ITEMNO_ACC><xsl:value-of select="format-number(2 * $n - 1, '0000000000')"/></ITEMNO_ACC>
            <CURRENCY><xsl:value-of select="$change/ev:currency"/></CURRENCY>
            <AMT_DOCCUR><xsl:value-of select="ev:amount"/></AMT_DOCCUR>
          </item>
          <item>
            <ITEMNO_ACC><xsl:value-of select="format-number(2 * $n, '0000000000')"/></ITEMNO_ACC>
            <CURRENCY><xsl:value-of select="$change/ev:currency"/></CURRENCY>
            <AMT_DOCCUR><xsl:value-of select="concat('-', ev:amount)"/></AMT_DOCCUR>
          </item>
        </xsl:for-each>
      </CURRENCYAMOUNT>
      <DOCUMENTHEADER>
        <PONTE_EVENT_ID><xsl:value-of select="ev:id"/></PONTE_EVENT_ID>
        <BUS_ACT>RFBU</BUS_ACT>
        <USERNAME><xsl:value-of select="$username"/></USERNAME>
        <HEADER_TXT><xsl:value-of select="substring(concat('Ponte provisao ', $change/ev:externalId), 1, 25)"/></HEADER_TXT>
        <COMP_CODE><xsl:value-of select="$comp_code"/></COMP_CODE>
        <DOC_DATE><xsl:value-of select="substring(ev:occurredAt, 1, 10)"/></DOC_DATE>
        <PSTNG_DATE><xsl:value-of select="$posting"/></PSTNG_DATE>
        <DOC_TYPE><xsl:value-of select="$doc_type"/></DOC_TYPE>
        <REF_DOC_NO><xsl:value-of select="substring($change/ev:externalId, 1, 16)"/></REF_DOC_NO>
      </DOCUMENTHEADER>
    </rfc:ZPONTE_ACC_DOCUMENT_POST>
  </xsl:template>

  <xsl:template name="gl-line">
    <xsl:param name="number"/>
    <xsl:param name="role"/>
    <xsl:param name="change"/>
    <item>
      <ITEMNO_ACC><xsl:value-of select="format-number($number, '0000000000')"/></ITEMNO_ACC>
      <GL_ACCOUNT>
        <xsl:choose>
          <xsl:when test="$role = 'provision_expense'"><xsl:value-of select="$account_provision_expense"/></xsl:when>
          <xsl:when test="$role = 'provision'"><xsl:value-of select="$account_provision"/></xsl:when>
          <xsl:when test="$role = 'provision_reversal'"><xsl:value-of select="$account_provision_reversal"/></xsl:when>
          <xsl:otherwise>
            <xsl:message terminate="yes">unknown account role <xsl:value-of select="$role"/></xsl:message>
          </xsl:otherwise>
        </xsl:choose>
      </GL_ACCOUNT>
      <COMP_CODE><xsl:value-of select="$comp_code"/></COMP_CODE>
      <COSTCENTER>
        <xsl:if test="$role = 'provision_expense'"><xsl:value-of select="$expense_cost_center"/></xsl:if>
      </COSTCENTER>
      <ALLOC_NMBR><xsl:value-of select="substring($change/ev:externalId, 1, 18)"/></ALLOC_NMBR>
      <ITEM_TEXT>
        <xsl:value-of select="substring(concat(ev:kind, ' processo ', $change/ev:lawsuitNumber), 1, 50)"/>
      </ITEM_TEXT>
    </item>
  </xsl:template>
</xsl:stylesheet>
