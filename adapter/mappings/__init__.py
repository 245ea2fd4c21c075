"""Mappings from canonical events to partner formats (XSLT 1.0 run by lxml)."""
