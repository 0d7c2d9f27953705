"""The status service's settings: the shared ones plus its own, all read from DOCINTAKE_* variables."""

from docintake.platform.settings import Settings


class StatusSettings(Settings):
    status_host: str = "127.0.0.1"
    status_port: int = 8002
    # A document with no progress for this long is failed, so that its batch can finish.
    stall_timeout_seconds: float = 900.0
    # How often stalled documents are swept and unpublished completions re-published.
    sweep_interval_seconds: float = 10.0
    # How long the ids of applied events are kept to tell a redelivery apart; after that a redelivery
    # is applied again, which changes nothing.
    applied_event_retention_hours: float = 24.0
    # How long a finished batch's record is kept after it finished; 0: for good. An event of it that
    # arrives after that starts a record of its own.
    batch_record_retention_days: float = 0.0
    # Messages the projection (and the webhook queue's subscriber) works on at once: the events of one batch
    # that wait while its change is under way go together in its next one, so this bounds that change's size.
    status_prefetch: int = 512
    # How often a live progress stream looks for changes.
    stream_poll_seconds: float = 0.5
    # How old a batch's status may be when many clients poll it: one store read serves them all.
    status_read_max_age_seconds: float = 0.25
    # How long a webhook delivery is tried, from when its event came; a try that fails with no time left for
    # the next one gives it up, its last error kept in the batch's status.
    webhook_retry_for_seconds: float = 86400.0
    # The pause after a webhook delivery's first failed try; it doubles after each further one.
    webhook_initial_backoff_seconds: float = 10.0
    # The longest pause between two tries of a webhook delivery.
    webhook_max_backoff_seconds: float = 3600.0
    # How long one try of a webhook delivery may take, connecting and answering, before it counts as failed.
    webhook_timeout_seconds: float = 10.0
    # Webhook deliveries tried at once, by this status service; a slow receiver holds only these.
    webhook_concurrency: int = 16
    # How often deliveries due for another try are looked for (a new one is tried at once).
    webhook_poll_seconds: float = 1.0
