"""The outbox: an event and one delivery per subscribed target, in the caller's
transaction, so that no change is committed without the messages it causes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from adapter.domain.events import Event
from adapter.storage.models import Delivery, OutboxEvent

Subscriptions = Callable[[str], Sequence[str]]


class Outbox:
    """Writes events; ``subscriptions(event_type)`` names the targets that want one."""

    def __init__(self, subscriptions: Subscriptions) -> None:
        self._subscriptions = subscriptions

    def enqueue(self, session: Session, event: Event) -> Sequence[str]:
        """Store ``event`` and its deliveries; returns the targets it goes to."""
        session.add(
            OutboxEvent(
                id=event.id,
                type=event.type,
                version=event.version,
                business_key=event.business_key,
                body=event.body,
                occurred_at=event.occurred_at,
            )
        )
        targets = self._subscriptions(event.type)
        for target in targets:
            delivery_id = str(uuid.uuid4())
            session.add(
                Delivery(
                    id=delivery_id,
                    event_id=event.id,
                    target=target,
                    message_id=f"urn:uuid:{delivery_id}",
                    status="pending",
                    attempt_count=0,
                    next_attempt_at=event.occurred_at,
                    created_at=event.occurred_at,
                    updated_at=event.occurred_at,
                    business_key=event.business_key,
                )
            )
        return targets
