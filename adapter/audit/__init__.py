"""Audit: who did what, when, through which channel, and how it ended."""
