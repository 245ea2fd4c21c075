"""Use cases: each runs in one transaction with its audit entry and its events."""
