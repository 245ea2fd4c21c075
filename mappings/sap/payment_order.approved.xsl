<?xml version="1.0" encoding="UTF-8"?>
<!--
  SAP, ZPONTE_ACC_DOCUMENT_POST: an approved payment order becomes a vendor
  invoice posting (BAPI_ACC_DOCUMENT_POST's shape): the vendor line credits
  the beneficiary, the G/L line debits the legal-expense account on the
  order's cost centre.

  Input:  the canonical event urn:ponte:events:v1 (wsdl/events-v1.xsd).
  Output: the SOAP Body element of contract/zws_ponte_acc_document.wsdl.
          Parameters in SOAMANAGER's order (alphabetical), structure fields
          in DDIC order; local elements unqualified; every field present
          (the WSDL has no minOccurs="0" inside structures).

  The vendor is found by SAP from TAX_NUMBER (CPF/CNPJ, LFA1-STCD1/STCD2):
  Ponte does not know SAP's vendor numbers, so VENDOR_NO stays empty.
  Amounts: debit positive, credit negative (CURRENCYAMOUNT, document
  currency). Texts are cut to their DDIC length (char25, char50...).
  PONTE_EVENT_ID, the event's id, is what ZPONTE_ACC_DOCUMENT_FIND looks the
  document up by after a timeout.

  The parameters below are each company's: copy this folder and set them.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:ev="urn:ponte:events:v1"
                xmlns:rfc="urn:sap-com:document:sap:rfc:functions"
                exclude-result-prefixes="ev">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:param name="comp_code" select="'1000'"/>
  <xsl:param name="doc_type" select="'KR'"/>
  <xsl:param name="expense_account" select="'0000441000'"/>
  <xsl:param name="username" select="'PONTE'"/>
  <xsl:param name="payment_method" select="''"/>
  <xsl:param name="payment_terms" select="''"/>

  <xsl:template match="/ev:event">
    <xsl:variable name="po" select="ev:paymentOrder"/>
    <xsl:variable name="approved" select="substring($po/ev:approvedAt, 1, 10)"/>
    <rfc:ZPONTE_ACC_DOCUMENT_POST>
      <ACCOUNTGL>
        <item>
          <ITEMNO_ACC>0000000002</ITEMNO_ACC>
          <GL_ACCOUNT><xsl:value-of select="$expense_account"/></GL_ACCOUNT>
          <COMP_CODE><xsl:value-of select="$comp_code"/></COMP_CODE>
          <COSTCENTER><xsl:value-of select="substring($po/ev:costCenter, 1, 10)"/></COSTCENTER>
          <ALLOC_NMBR><xsl:value-of select="substring($po/ev:externalId, 1, 18)"/></ALLOC_NMBR>
          <ITEM_TEXT><xsl:value-of select="substring($po/ev:description, 1, 50)"/></ITEM_TEXT>
        </item>
      </ACCOUNTGL>
      <ACCOUNTPAYABLE>
        <item>
          <ITEMNO_ACC>0000000001</ITEMNO_ACC>
          <VENDOR_NO/>
          <TAX_NUMBER><xsl:value-of select="$po/ev:beneficiary/ev:taxId"/></TAX_NUMBER>
          <COMP_CODE><xsl:value-of select="$comp_code"/></COMP_CODE>
          <BLINE_DATE><xsl:value-of select="$po/ev:dueDate"/></BLINE_DATE>
          <PMNTTRMS><xsl:value-of select="$payment_terms"/></PMNTTRMS>
          <PYMT_METH><xsl:value-of select="$payment_method"/></PYMT_METH>
          <ALLOC_NMBR><xsl:value-of select="substring($po/ev:externalId, 1, 18)"/></ALLOC_NMBR>
          <ITEM_TEXT>
            <xsl:value-of select="substring(concat('Processo ', $po/ev:lawsuitNumber, ' ', $po/ev:type), 1, 50)"/>
          </ITEM_TEXT>
        </item>
      </ACCOUNTPAYABLE>
      <CURRENCYAMOUNT>
        <item>
          <ITEMNO_ACC>0000000001</ITEMNO_ACC>
          <CURRENCY><xsl:value-of select="$po/ev:currency"/></CURRENCY>
          <AMT_DOCCUR><xsl:value-of select="concat('-', $po/ev:amount)"/></AMT_DOCCUR>
        </item>
        <item>
          <ITEMNO_ACC>0000000002</ITEMNO_ACC>
          <CURRENCY><xsl:value-of select="$po/ev:currency"/></CURRENCY>
          <AMT_DOCCUR><xsl:value-of select="$po/ev:amount"/></AMT_DOCCUR>
        </item>
      </CURRENCYAMOUNT>
      <DOCUMENTHEADER>
        <PONTE_EVENT_ID><xsl:value-of select="ev:id"/></PONTE_EVENT_ID>
        <BUS_ACT>RFBU</BUS_ACT>
        <USERNAME><xsl:value-of select="$username"/></USERNAME>
        <HEADER_TXT><xsl:value-of select="substring(concat('Ponte ', $po/ev:externalId), 1, 25)"/></HEADER_TXT>
        <COMP_CODE><xsl:value-of select="$comp_code"/></COMP_CODE>
        <DOC_DATE><xsl:value-of select="$approved"/></DOC_DATE>
        <PSTNG_DATE><xsl:value-of select="$approved"/></PSTNG_DATE>
        <DOC_TYPE><xsl:value-of select="$doc_type"/></DOC_TYPE>
        <REF_DOC_NO><xsl:value-of select="substring($po/ev:externalId, 1, 16)"/></REF_DOC_NO>
      </DOCUMENTHEADER>
    </rfc:ZPONTE_ACC_DOCUMENT_POST>
  </xsl:template>
</xsl:stylesheet>
