"""AI on the conversation page: a panel loaded after the page, a summary, a draft for the
reply box, and an order pre-filled from the customer's words for staff to create.

Every GET here reads and returns a fragment; none writes a message or sends anything.
The one POST creates the order staff checked and confirmed, through the same desk as the
page's other actions. The page never waits on these: htmx loads them once it is shown,
so a slow or absent model leaves the inbox as fast as before (DESIGN rule 10).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from engine.ai.page import ai_panel, draft_for, summary_for
from engine.automation.staff import act_on_conversation
from engine.composition import Runtime
from engine.core.config import WorkspaceConfig
from engine.db import workspace_session
from engine.inbox.objects import NewObject, create_for_conversation, update_object
from ui.dependencies import RuntimeDependency
from ui.routes.presentation import PAGE_ERRORS, workspace_of
from ui.security.auth import PrincipalDependency, page_principal

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _config(runtime: Runtime, workspace_id: int, principal: Any) -> WorkspaceConfig:
    with workspace_session(runtime.db, workspace_id) as session:
        slug = workspace_of(session, principal).slug
    return runtime.configs.config(slug) or WorkspaceConfig.empty(slug)


class AiController(Controller):
    path = "/inbox/c/{conversation_id:int}/ai"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get("/panel", sync_to_thread=True)
    def panel(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> Template:
        config = _config(runtime, principal.workspace_id, principal)
        panel = ai_panel(runtime.db, config, principal, conversation_id, runtime.clock.now())
        return Template(
            template_name="_ai_panel.html",
            context={"panel": panel, "conversation_id": conversation_id},
        )

    @get("/summary", sync_to_thread=True)
    def summary(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> Template:
        config = _config(runtime, principal.workspace_id, principal)
        summary = summary_for(runtime.db, config, principal, conversation_id, runtime.clock.now())
        return Template(template_name="_ai_summary.html", context={"summary": summary})

    @get("/draft", sync_to_thread=True)
    def draft(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> Template:
        """The reply box again, holding the draft: the agent edits it and presses Send."""
        config = _config(runtime, principal.workspace_id, principal)
        draft = draft_for(runtime.db, config, principal, conversation_id, runtime.clock.now())
        return Template(template_name="_ai_draft.html", context={"draft": draft})

    @post("/order", sync_to_thread=True)
    def order(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Create the order staff checked: a staff action, like the page's own form."""
        new = NewObject(
            kind="order",
            external_ref=data.get("external_ref"),
            amount=data.get("amount"),
            currency=data.get("currency"),
        )
        items = (data.get("items") or "").strip()[:2000]
        now = runtime.clock.now()

        def work(desk: Any) -> None:
            created = create_for_conversation(desk, principal, conversation_id, new, now)
            if items:
                update_object(desk, principal, conversation_id, created.id, {"items": items}, now)

        act_on_conversation(
            runtime.db, runtime.configs, principal.workspace_id, conversation_id, work, now
        )
        return Redirect(path=f"/inbox/c/{conversation_id}#objects", status_code=303)
