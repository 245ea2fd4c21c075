<?xml version="1.0" encoding="UTF-8"?>
<!--
  Access control, person.unflagged: the flag no longer applies.

  Input:  the canonical event urn:ponte:events:v1 (wsdl/events-v1.xsd).
  Output: acc:unflag of contract/access-flags-v1.xsd.

  The reason (lawsuit_closed, contract_no_longer_pending...) is not sent: it
  would tell the gate why the person had been flagged.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:ev="urn:ponte:events:v1"
                xmlns:acc="urn:ponte:access:v1"
                exclude-result-prefixes="ev">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/ev:event">
    <acc:unflag>
      <acc:flagId><xsl:value-of select="ev:personUnflagged/ev:flagId"/></acc:flagId>
      <acc:cpf><xsl:value-of select="ev:personUnflagged/ev:cpf"/></acc:cpf>
    </acc:unflag>
  </xsl:template>
</xsl:stylesheet>
