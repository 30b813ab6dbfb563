"""The one composition root: settings in, a wired runtime out.

Servers, workers and the CLI all build their parts here, so a process never
grows its own idea of how the database, the queue and the handlers fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from huey import Huey
from sqlalchemy import Engine, text

from connectors.whatsapp.events import PROVIDER as WHATSAPP
from engine.ai.inbound import CLASSIFY_KIND, classifying_automations, make_classify_executor
from engine.automation.scheduled import run_scheduled_action
from engine.automation.tasks import report_task_due
from engine.broadcasts import queue_broadcast
from engine.broadcasts.replies import with_broadcast_replies
from engine.contacts.keywords import with_consent_keywords
from engine.core.clock import Clock, SystemClock
from engine.core.queue import JobQueue, JsonScalar
from engine.db import make_engine
from engine.inbound.processing import InboundHandler, process_inbound_batch, process_inbound_event
from engine.integrations.calls import CALL_KIND, make_call_executor
from engine.integrations.inbound import PROVIDER as INTEGRATION
from engine.integrations.inbound import apply_integration_event
from engine.jobs.huey_queue import HueyJobQueue, JobHandler, make_huey
from engine.jobs.names import (
    CHECK_SLA_CLOCK,
    DISPATCH_OUTBOX_ROW,
    PROCESS_INBOUND_BATCH,
    PROCESS_INBOUND_EVENT,
    QUEUE_BROADCAST,
    REPORT_TASK_DUE,
    RUN_SCHEDULED_ACTION,
)
from engine.outbox.dispatch import BATCH, Executor, dispatch_outbox_row
from engine.payments.accounts import DarajaClients
from engine.payments.callbacks import CONFIRM_KIND, apply_payment_event
from engine.payments.callbacks import PROVIDER as MPESA
from engine.payments.confirm import make_confirm_executor
from engine.payments.request import REQUEST_KIND, make_payment_executor
from engine.settings import Settings
from engine.sla.clocks import check_clock
from engine.whatsapp.apply import make_whatsapp_handler
from engine.whatsapp.media import DOWNLOAD_KIND, make_download_executor, make_uploader
from engine.whatsapp.outbound import READ_KIND, SEND_KIND, make_read_executor, make_send_executor
from engine.whatsapp.senders import WhatsAppSenders
from engine.workspaces.directory import ConfigDirectory, WhatsAppSecrets


@dataclass
class Runtime:
    settings: Settings
    db: Engine
    huey: Huey
    queue: HueyJobQueue
    clock: Clock
    configs: ConfigDirectory
    inbound_handlers: dict[str, InboundHandler] = field(default_factory=dict)
    executors: dict[str, Executor] = field(default_factory=dict)
    payment_clients: DarajaClients | None = None

    def whatsapp_secrets(self, slug: str) -> WhatsAppSecrets | None:
        return self.configs.whatsapp_secrets(slug)

    def readiness_probes(self) -> dict[str, Callable[[], object]]:
        def database() -> None:
            with self.db.connect() as connection:
                connection.execute(text("SELECT 1"))

        return {"database": database, "queue": self.queue.pending}

    def close(self) -> None:
        self.db.dispose()


class _LaterQueue:
    """The runtime's queue, for the jobs registered on it before it exists."""

    target: JobQueue | None = None

    def enqueue(self, job: str, **arguments: JsonScalar) -> None:
        if self.target is None:
            raise LookupError("the job queue is not built yet")
        self.target.enqueue(job, **arguments)


def default_inbound_handlers(configs: ConfigDirectory) -> dict[str, InboundHandler]:
    return {
        WHATSAPP: make_whatsapp_handler(configs),
        INTEGRATION: apply_integration_event,
        MPESA: apply_payment_event,
    }


def build_runtime(
    settings: Settings,
    clock: Clock | None = None,
    inbound_handlers: dict[str, InboundHandler] | None = None,
    executors: dict[str, Executor] | None = None,
) -> Runtime:
    """Wire storage, queue and handlers for one process (server, worker or CLI)."""
    db = make_engine(settings.database_url)
    huey = make_huey(settings, settings.queue_name)
    clock = clock or SystemClock()
    configs = ConfigDirectory(settings.config_dir)
    handlers = (
        default_inbound_handlers(configs) if inbound_handlers is None else dict(inbound_handlers)
    )
    senders = WhatsAppSenders(db, configs)
    payment_clients = DarajaClients(clock)
    effect_executors: dict[str, Executor] = (
        {
            SEND_KIND: make_send_executor(senders, upload=make_uploader(senders.media)),
            READ_KIND: make_read_executor(senders),
            DOWNLOAD_KIND: make_download_executor(senders.media),
            CALL_KIND: make_call_executor(configs),
            REQUEST_KIND: make_payment_executor(configs, payment_clients),
            CONFIRM_KIND: make_confirm_executor(configs, payment_clients),
        }
        if executors is None
        else dict(executors)
    )
    # Classifying an unanswered inquiry sends nothing, so it runs with any set of executors.
    effect_executors.setdefault(CLASSIFY_KIND, make_classify_executor(configs))
    automations = with_broadcast_replies(
        configs, with_consent_keywords(configs, classifying_automations(configs))
    )
    # The jobs enqueue others (a rule's send, at commit) on the queue they are part of.
    queue = _LaterQueue()
    jobs: dict[str, JobHandler] = {
        PROCESS_INBOUND_BATCH: partial(
            process_inbound_batch,
            db=db,
            clock=clock,
            handlers=handlers,
            automations=automations,
            queue=queue,
        ),
        # Kept for jobs a server of the previous version enqueued, and for tools.
        PROCESS_INBOUND_EVENT: partial(
            process_inbound_event,
            db=db,
            clock=clock,
            handlers=handlers,
            automations=automations,
            queue=queue,
        ),
        CHECK_SLA_CLOCK: partial(check_clock, db=db, clock=clock, configs=configs),
        REPORT_TASK_DUE: partial(report_task_due, db=db, clock=clock, configs=configs),
        RUN_SCHEDULED_ACTION: partial(run_scheduled_action, db=db, clock=clock, configs=configs),
        QUEUE_BROADCAST: partial(queue_broadcast, db=db, clock=clock, configs=configs),
        DISPATCH_OUTBOX_ROW: partial(
            # A job for one row carries out a batch of its workspace's ready rows.
            dispatch_outbox_row,
            db=db,
            clock=clock,
            executors=effect_executors,
            batch=BATCH,
        ),
    }
    queue.target = HueyJobQueue(huey, jobs)
    return Runtime(
        settings=settings,
        db=db,
        huey=huey,
        queue=queue.target,
        clock=clock,
        configs=configs,
        inbound_handlers=handlers,
        executors=effect_executors,
        payment_clients=payment_clients,
    )
