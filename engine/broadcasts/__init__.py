"""Broadcasts: an approved template to the opted-in people of a segment, sent now or at a
time, queued in chunks by a job through the outbox, and reported on."""

from engine.broadcasts.dispatch import broadcast_key, queue_broadcast
from engine.broadcasts.plans import (
    Draft,
    Preview,
    SegmentChoice,
    cancel_broadcast,
    create_broadcast,
    get_broadcast,
    list_broadcasts,
    preview,
    segment_choices,
)
from engine.broadcasts.report import Report, broadcast_report

__all__ = [
    "Draft",
    "Preview",
    "Report",
    "SegmentChoice",
    "broadcast_key",
    "broadcast_report",
    "cancel_broadcast",
    "create_broadcast",
    "get_broadcast",
    "list_broadcasts",
    "preview",
    "queue_broadcast",
    "segment_choices",
]
