<?xml version="1.0" encoding="UTF-8"?>
<!--
  Generic: every event type goes out as the canonical event, unchanged.

  Input:  the canonical event urn:ponte:events:v1 (wsdl/events-v1.xsd).
  Output: the same ev:event, the Body of ReceiveEvent in
          contract/ponte-receiver-v1.wsdl.
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <xsl:copy-of select="*"/>
  </xsl:template>
</xsl:stylesheet>
