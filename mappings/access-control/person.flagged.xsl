<?xml version="1.0" encoding="UTF-8"?>
<!--
  Access control, person.flagged: whom to stop, what to do, until when.

  Input:  the canonical event urn:ponte:events:v1 (wsdl/events-v1.xsd).
  Output: acc:flag of contract/access-flags-v1.xsd.

  Data minimisation (LGPD art. 6 III): the purpose becomes an action, so the
  gate never learns whether there is a court order, a threat or a pending
  contract; the justification (lawsuit or contract and its id), the party
  id and the business key are not sent at all.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:ev="urn:ponte:events:v1"
                xmlns:acc="urn:ponte:access:v1"
                exclude-result-prefixes="ev">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/ev:event">
    <xsl:variable name="flag" select="ev:personFlagged"/>
    <acc:flag>
      <acc:flagId><xsl:value-of select="$flag/ev:flagId"/></acc:flagId>
      <acc:cpf><xsl:value-of select="$flag/ev:cpf"/></acc:cpf>
      <acc:name><xsl:value-of select="$flag/ev:name"/></acc:name>
      <acc:action>
        <xsl:choose>
          <xsl:when test="$flag/ev:purpose = 'contract_pending'">refer_to_reception</xsl:when>
          <xsl:when test="$flag/ev:purpose = 'court_order' or $flag/ev:purpose = 'security_threat'">deny_entry</xsl:when>
          <xsl:otherwise>
            <xsl:message terminate="yes">person.flagged: no gate action for purpose <xsl:value-of select="$flag/ev:purpose"/></xsl:message>
          </xsl:otherwise>
        </xsl:choose>
      </acc:action>
      <acc:validUntil><xsl:value-of select="$flag/ev:validUntil"/></acc:validUntil>
    </acc:flag>
  </xsl:template>
</xsl:stylesheet>
