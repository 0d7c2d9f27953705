"""Prometheus metrics of the projection."""

from prometheus_client import Counter, Histogram

EVENTS_APPLIED = Counter(
    "docintake_status_events_applied_total", "Events projected into batch progress records", ["event_type"]
)
DUPLICATES_SKIPPED = Counter(
    "docintake_status_duplicate_events_total", "Events skipped because their event_id was applied before"
)
MESSAGES_REJECTED = Counter(
    "docintake_status_messages_rejected_total", "Messages rejected to the dead letters", ["reason"]
)
EVENTS_OF_QUARANTINED_BATCHES = Counter(
    "docintake_status_events_of_quarantined_batches_total",
    "Events acknowledged without being applied, because their batch's record is quarantined",
)
STORE_RETRIES = Counter(
    "docintake_status_store_retries_total", "Tries to project an event again while the progress store was unreachable"
)
PROJECTION_SECONDS = Histogram(
    "docintake_status_projection_seconds", "Time to project one event (one Neo4j write transaction)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
EVENT_LAG_SECONDS = Histogram(
    "docintake_status_event_lag_seconds", "Time from an event's occurred_at to its projection",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
COMPLETIONS_PUBLISHED = Counter(
    "docintake_status_completions_published_total", "BatchCompleted events published"
)
DOCUMENTS_TIMED_OUT = Counter(
    "docintake_status_documents_timed_out_total", "Documents failed by the stall sweeper"
)
WEBHOOK_TRIES = Counter(
    "docintake_status_webhook_tries_total",
    "Tries of webhook deliveries, by what became of the delivery: delivered, pending (to be tried again), given_up",
    ["state"],
)
WEBHOOK_DELIVERIES_MADE = Counter(
    "docintake_status_webhook_deliveries_total", "Webhook deliveries stored to be made (one per event and URL)"
)
