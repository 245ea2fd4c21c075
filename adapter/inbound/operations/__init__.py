"""The SOAP operations, one module per record family."""
