"""Builds what the entrypoints hand to the use cases: settings, the store, the broker, the clock,
the publisher, and the projection's per-batch grouping; and runs them while the service runs."""

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from faststream.rabbit import RabbitBroker

from docintake.contracts.events import BatchCompleted, Event, utcnow
from docintake.platform import messaging, webhook_targets
from docintake.platform.errors import ReceiverFailed
from docintake.platform.tenants import KeyRing
from docintake.status.adapters.coalesced_reads import CoalescedReads
from docintake.status.adapters.event_broker import publishers
from docintake.status.adapters.http_receiver import HttpReceivers
from docintake.status.adapters.in_memory_webhook_deliveries import InMemoryDeliveryStore
from docintake.status.adapters.neo4j_progress_repository import Neo4jProgressRepository
from docintake.status.adapters.neo4j_webhook_deliveries import Neo4jDeliveryStore
from docintake.status.adapters.per_batch_grouping import PerBatchGrouping
from docintake.status.domain.webhooks import RetryPolicy, Target
from docintake.status.entrypoints.metrics import COMPLETIONS_PUBLISHED
from docintake.status.entrypoints.projection_subscriber import PROJECTION, broker
from docintake.status.entrypoints.webhook_deliveries import WEBHOOKS, Webhooks
from docintake.status.service_layer.batch_locks import BatchLocks
from docintake.status.service_layer.ports import Clock, ProgressRepository, Publish
from docintake.status.service_layer.process_manager import apply_and_announce
from docintake.status.service_layer.projection import Outcome
from docintake.status.service_layer.webhooks import DeliveryStore, HooksOf, Send, TenantHooks
from docintake.status.settings import StatusSettings


@dataclass(frozen=True)
class Dependencies:
    settings: StatusSettings
    repo: ProgressRepository
    broker: RabbitBroker
    clock: Clock
    publish: Publish
    # Status reads the routes share with whoever asked the same a moment before.
    status_reads: CoalescedReads
    projection: PerBatchGrouping[Outcome]
    # Commands of one batch, one at a time.
    batch_locks: BatchLocks
    webhooks: Webhooks


def publisher() -> Publish:
    """Publish with the broker's confirm; counts the completions that went out."""
    async def publish(event: Event) -> None:
        await publishers.publish(event)
        if isinstance(event, BatchCompleted):
            COMPLETIONS_PUBLISHED.inc()

    return publish


def tenant_hooks(keys: KeyRing) -> HooksOf:
    """The webhooks of a tenant as the tenants file now says."""
    def hooks_of(name: str) -> TenantHooks | None:
        tenant = keys.tenant(name)
        if tenant is None:
            return None
        return TenantHooks(tenant.webhook_secret, tuple(Target(hook.url, hook.documents) for hook in tenant.webhooks))

    return hooks_of


async def _no_receivers(url: str, body: bytes, headers: dict[str, str]) -> None:
    raise ReceiverFailed("this status service sends no webhooks")


def webhooks(settings: StatusSettings, store: DeliveryStore, send: Send = _no_receivers,
             clock: Clock = utcnow) -> Webhooks:
    allowed = webhook_targets.AllowList.parse(settings.webhook_allowed_hosts)

    async def check_target(url: str) -> None:
        await webhook_targets.check(url, allowed)

    return Webhooks(
        store=store, hooks_of=tenant_hooks(KeyRing.from_settings(settings.tenants_file, settings.api_key_list)),
        send=send, check_target=check_target, clock=clock,
        policy=RetryPolicy(settings.webhook_retry_for_seconds, settings.webhook_initial_backoff_seconds,
                           settings.webhook_max_backoff_seconds),
        concurrency=settings.webhook_concurrency, poll_seconds=settings.webhook_poll_seconds,
        timeout_seconds=settings.webhook_timeout_seconds,
    )


def build(settings: StatusSettings, repo: ProgressRepository, rabbit: RabbitBroker = broker,
          clock: Clock = utcnow, hooks: Webhooks | None = None) -> Dependencies:
    """`hooks`: webhooks kept in memory and never sent, unless given."""
    publish = publisher()
    hooks = hooks or webhooks(settings, InMemoryDeliveryStore(), clock=clock)

    async def apply_group(events: Sequence[Event]) -> list[Outcome]:
        return await apply_and_announce(events, repo, publish)

    dependencies = Dependencies(
        settings=settings, repo=repo, broker=rabbit, clock=clock, publish=publish,
        status_reads=CoalescedReads(settings.status_read_max_age_seconds),
        projection=PerBatchGrouping(apply_group), batch_locks=BatchLocks(), webhooks=hooks,
    )
    rabbit.context.set_global(PROJECTION, dependencies.projection)
    rabbit.context.set_global(WEBHOOKS, hooks)
    return dependencies


@asynccontextmanager
async def running(settings: StatusSettings) -> AsyncIterator[Dependencies]:
    """The store connected, the topology declared and the projection consuming; torn down in reverse."""
    async with AsyncExitStack() as stack:
        repo = Neo4jProgressRepository.connect(settings)
        stack.push_async_callback(repo.close)
        await repo.create_schema()
        deliveries = Neo4jDeliveryStore.connect(settings)
        stack.push_async_callback(deliveries.close)
        await deliveries.create_schema()
        receivers = HttpReceivers(settings.webhook_timeout_seconds)
        stack.push_async_callback(receivers.close)
        dependencies = build(settings, repo, hooks=webhooks(settings, deliveries, receivers.send))
        stack.push_async_callback(broker.stop)
        await broker.connect()
        await messaging.declare_topology(broker)
        await broker.start()
        yield dependencies


