"""The Litestar application, built from a runtime; no app exists at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Scope

from engine.composition import Runtime, build_runtime
from engine.db.change_listener import ChangeHub
from engine.logging_setup import configure_logging
from engine.settings import Settings
from ui.routes.ai import AiController
from ui.routes.api import ApiController
from ui.routes.api_ai import AiApiController
from ui.routes.api_audience import ContactListsApiController
from ui.routes.api_availability import AvailabilityApiController
from ui.routes.api_contacts import ContactsApiController
from ui.routes.api_rich import RichApiController
from ui.routes.api_work import WorkApiController
from ui.routes.audit import AuditController
from ui.routes.broadcasts import BroadcastsApiController, BroadcastsController
from ui.routes.builder import BuilderController
from ui.routes.contacts import ContactRecordController, ContactsController
from ui.routes.conversation import ConversationController
from ui.routes.failures import FailuresApiController, FailuresPageController
from ui.routes.health import HealthController
from ui.routes.home import HomeController
from ui.routes.inbox import InboxController
from ui.routes.live import LiveController, PresenceController
from ui.routes.manager import ManagerController
from ui.routes.media import MediaApiController, MediaPageController
from ui.routes.metrics import MetricsController, webhook_metrics
from ui.routes.notifications import NotificationsController
from ui.routes.payments import PaymentsPageController
from ui.routes.people import PeopleController
from ui.routes.reports import ReportsController
from ui.routes.signin import AccountController, SignInController
from ui.routes.tasks import MyTasksController
from ui.routes.webhooks import (
    IntegrationWebhookController,
    MpesaPathCallbackController,
    PaymentCallbackController,
    WhatsAppWebhookController,
)
from ui.security.csrf import csrf_config
from ui.security.headers import add_security_headers

UI_DIR = Path(__file__).resolve().parent


logger = logging.getLogger("kazi.web")


async def log_exception(exception: BaseException, scope: Scope) -> None:
    """Our logging is configured by configure_logging, not Litestar's; an unexpected
    error still leaves its traceback where operators look."""
    status = getattr(exception, "status_code", 500)
    if status >= 500:
        logger.error(
            "unhandled error on %s %s",
            scope.get("method", ""),
            scope.get("path", ""),
            exc_info=exception,
        )


def live_updates(hub: ChangeHub, runtime: Runtime) -> Callable[[Litestar], Any]:
    """Keeps this process's listening connection for the app's lifetime (PostgreSQL only;
    on SQLite the live pages poll)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if runtime.db.dialect.name != "postgresql":
            yield
            return
        listening = asyncio.create_task(hub.listen(runtime.db), name="kazi-live-listener")
        try:
            yield
        finally:
            listening.cancel()
            with suppress(asyncio.CancelledError):
                await listening

    return lifespan


def create_app(runtime: Runtime) -> Litestar:
    def provide_runtime() -> Runtime:
        return runtime

    hub = ChangeHub()

    return Litestar(
        route_handlers=[
            HealthController,
            HomeController,
            WhatsAppWebhookController,
            IntegrationWebhookController,
            PaymentCallbackController,
            MpesaPathCallbackController,
            SignInController,
            AccountController,
            InboxController,
            ConversationController,
            AiController,
            AiApiController,
            ApiController,
            ContactsApiController,
            WorkApiController,
            AvailabilityApiController,
            RichApiController,
            ContactListsApiController,
            BroadcastsApiController,
            LiveController,
            PresenceController,
            PeopleController,
            ContactsController,
            ContactRecordController,
            BroadcastsController,
            ManagerController,
            ReportsController,
            AuditController,
            BuilderController,
            NotificationsController,
            MyTasksController,
            FailuresPageController,
            PaymentsPageController,
            FailuresApiController,
            MediaPageController,
            MediaApiController,
            MetricsController,
            create_static_files_router(path="/static", directories=[UI_DIR / "static"]),
        ],
        dependencies={"runtime": Provide(provide_runtime, sync_to_thread=False)},
        csrf_config=csrf_config(runtime.settings),
        before_send=[add_security_headers],
        middleware=[webhook_metrics],
        template_config=TemplateConfig(directory=UI_DIR / "templates", engine=JinjaTemplateEngine),
        on_shutdown=[runtime.close],
        lifespan=[live_updates(hub, runtime)],
        state=State({"live_hub": hub}),
        logging_config=None,
        after_exception=[log_exception],
    )


def app_from_env() -> Litestar:
    """The factory `kazi serve` hands to uvicorn; each server process builds its own."""
    configure_logging()
    return create_app(build_runtime(Settings.from_env()))
