"""Outbound calls to partner systems."""
