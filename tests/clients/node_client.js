#!/usr/bin/env node
// Calls Ponte's SOAP contract with node-soap, as a Node.js ERP would.
//
//   node node_client.js WSDL_URL USER PASSWORD SCENARIO_JSON_FILE
//
// SCENARIO_JSON_FILE holds a JSON list of calls, each
//   {"op": "UpsertParty", "args": {...}, "raw": false}
// and each call prints one JSON line on stdout:
//   {"op": ..., "ok": true, "result": <the result>}
//   {"op": ..., "ok": false, "fault": {"code": ..., "message": ..., "detail": ...}}
// With "raw": true the line also carries "request" and "response", the XML that
// went over the wire. Every call gets a fresh UsernameToken (PasswordDigest,
// Nonce, Created). The exit code is 0 unless the script itself fails.
'use strict';

const fs = require('fs');
const soap = require('soap');

function faultOf(err) {
  const fault = err && err.root && err.root.Envelope && err.root.Envelope.Body
    ? err.root.Envelope.Body.Fault
    : undefined;
  if (!fault) {
    const status = err && err.response ? err.response.status : undefined;
    return { code: null, message: String(err && err.message ? err.message : err), status };
  }
  const text = (value) => (value && typeof value === 'object' && '$value' in value ? value.$value : value);
  return {
    code: text(fault.faultcode) ?? null,
    message: text(fault.faultstring) ?? null,
    detail: fault.detail ?? null,
  };
}

async function main() {
  const [wsdlUrl, user, password, scenarioFile] = process.argv.slice(2);
  if (!scenarioFile) {
    process.stderr.write('usage: node node_client.js WSDL_URL USER PASSWORD SCENARIO_JSON_FILE\n');
    return 2;
  }
  const calls = JSON.parse(fs.readFileSync(scenarioFile, 'utf8'));
  const client = await soap.createClientAsync(wsdlUrl);
  for (const call of calls) {
    // A new WSSecurity per call: each toXML() draws a new nonce and Created.
    client.setSecurity(new soap.WSSecurity(user, password, {
      passwordType: 'PasswordDigest',
      hasNonce: true,
      hasTimeStamp: false,
    }));
    const method = client[`${call.op}Async`];
    let line;
    if (typeof method !== 'function') {
      line = { op: call.op, ok: false, fault: { code: null, message: `no operation ${call.op} in the WSDL` } };
    } else {
      try {
        const [result] = await method.call(client, call.args || {});
        line = { op: call.op, ok: true, result: result ?? null };
      } catch (err) {
        line = { op: call.op, ok: false, fault: faultOf(err) };
      }
    }
    if (call.raw) {
      line.request = client.lastRequest ?? null;
      line.response = typeof client.lastResponse === 'string' ? client.lastResponse : null;
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  return 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
