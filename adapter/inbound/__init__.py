"""Inbound SOAP: the WSGI application factory, the spyne service and its types."""
