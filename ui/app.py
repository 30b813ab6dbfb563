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

from engine.auth import Forbidden
from engine.composition import Runtime, build_runtime
from engine.db.change_listener import ChangeHub
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.logging_setup import configure_logging
from engine.outbox.sends import OutsideWindow
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
from ui.security.auth import NotSignedIn
from ui.security.csrf import csrf_config
from ui.security.headers import add_security_headers

UI_DIR = Path(__file__).resolve().parent


logger = logging.getLogger("kazi.web")


# What a request may be refused with on purpose, and the answer each becomes (the
# controllers' exception handlers, ui.routes.presentation and ui.routes.api).
ORDINARY_REFUSALS: tuple[tuple[type[BaseException], int], ...] = (
    (NotSignedIn, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),  # ReplyRace too
    (OutsideWindow, 409),
    (InvalidInput, 400),  # NotReachable too
)


def answer_status(exception: BaseException) -> int:
    """The HTTP status a raised exception is answered with: its own (Litestar's
    HTTPException: a missing page, a wrong parameter), an ordinary refusal's, or 500."""
    status = getattr(exception, "status_code", None)
    if isinstance(status, int):
        return status
    for kind, code in ORDINARY_REFUSALS:
        if isinstance(exception, kind):
            return code
    return 500


async def log_exception(exception: BaseException, scope: Scope) -> None:
    """Our logging is configured by configure_logging, not Litestar's. An unexpected
    error leaves its traceback where operators look; an ordinary 4xx answer (a closed
    window, a wrong parameter, a missing page) is one line saying so, at info for the
    everyday ones and warning for refused input, never "unhandled" with a traceback."""
    status = answer_status(exception)
    method, path = scope.get("method", ""), scope.get("path", "")
    if status >= 500:
        logger.error("unhandled error on %s %s", method, path, exc_info=exception)
        return
    level = logging.INFO if status in (401, 403, 404) else logging.WARNING
    logger.log(
        level,
        "%s %s answered %d: %s",
        method,
        path,
        status,
        _reason(exception),
        extra={"http_status": status, "refusal": type(exception).__name__},
    )


def _reason(exception: BaseException) -> str:
    detail = getattr(exception, "detail", None)
    text = str(detail if isinstance(detail, str) and detail else exception)
    return text[:300] or type(exception).__name__


def live_updates(hub: ChangeHub, runtime: Runtime) -> Callable[[Litestar], Any]:
    """Keeps this process's listening connection for the app's lifetime (PostgreSQL only;
    on SQLite the live pages poll)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if runtime.db.dialect.name != "postgresql":
            yield
            return
        listening = asyncio.create_task(
            hub.listen(runtime.db, runtime.settings.listen_database_url),
            name="kazi-live-listener",
        )
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
