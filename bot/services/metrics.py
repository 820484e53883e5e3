"""Prometheus metrics of one running instance (`/metrics`): what it handled, sent and saw."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from bot.db.health_repo import ReminderCounts

SENT_KINDS = ("reply", "reminder", "alert")
STATUSES = ("pending", "sending", "sent", "skipped", "failed", "cancelled")
# Reply latency buckets (seconds): a reply is usually well under a second; a 429 pause is longer.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class Metrics:
    """The instance's metrics, in a registry of its own (several instances can share a test process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.updates = Counter(
            "vertebrobot_updates_handled",
            "Telegram updates handled, by kind (command, button, text, other, member).",
            ["kind"],
            registry=self.registry,
        )
        self.reply_latency = Histogram(
            "vertebrobot_reply_latency_seconds",
            "From the start of handling an update to its last reply sent.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.sent = Counter(
            "vertebrobot_messages_sent",
            "Messages sent to Telegram, by kind (reply, reminder, alert).",
            ["kind"],
            registry=self.registry,
        )
        self.too_many_requests = Counter(
            "vertebrobot_telegram_429", "Answers 429 (flood control) from Telegram.", registry=self.registry
        )
        self.warning_signs = Counter(
            "vertebrobot_warning_signs_reported", "Warning signs patients reported.", registry=self.registry
        )
        self.reminders = Gauge(
            "vertebrobot_reminders",
            "Reminders in the database by status (all instances).",
            ["status"],
            registry=self.registry,
        )
        self.overdue = Gauge(
            "vertebrobot_reminders_overdue",
            "Reminders still waiting more than five minutes after they were due.",
            registry=self.registry,
        )
        for kind in SENT_KINDS:  # shown as 0 from the start, so rates work from the first scrape
            self.sent.labels(kind)

    def set_reminders(self, counts: ReminderCounts) -> None:
        """Take the database's reminder counts."""
        for status in sorted(set(STATUSES) | set(counts.by_status)):
            self.reminders.labels(status).set(counts.by_status.get(status, 0))
        self.overdue.set(counts.overdue)

    def exposition(self) -> bytes:
        """The metrics in Prometheus's text format."""
        return generate_latest(self.registry)
