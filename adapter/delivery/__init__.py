"""Delivery: the outbox worker, the retry schedule and outcome classification."""
