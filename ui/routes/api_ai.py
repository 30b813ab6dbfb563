"""AI in the JSON API: what the conversation page's AI panel shows, for scripts and apps.

Read only, like the panel: suggestions with their source and confidence. Acting on one
(moving the stage, creating the order, sending the draft) goes through the inbox API's
own endpoints, by a person or a script that decided to.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import FromPath
from sqlalchemy import select

from engine.ai.answers import plain_json
from engine.ai.page import ai_panel, draft_for, summary_for
from engine.auth import Principal
from engine.composition import Runtime
from engine.core.ai import Classification, Draft, Extraction, Suggestion, Summary
from engine.core.config import WorkspaceConfig
from engine.db import workspace_session
from engine.models import Workspace
from ui.dependencies import RuntimeDependency
from ui.routes.api import API_ERRORS
from ui.security.auth import PrincipalDependency, api_principal

Answer = Classification | Extraction | Suggestion | Summary | Draft


def _config(runtime: Runtime, principal: Principal) -> WorkspaceConfig:
    with workspace_session(runtime.db, principal.workspace_id) as session:
        slug = session.scalar(select(Workspace.slug)) or ""
    return runtime.configs.config(slug) or WorkspaceConfig.empty(slug)


def _answer(answer: Answer | None) -> dict[str, Any] | None:
    if answer is None:
        return None
    document: dict[str, Any] = plain_json(asdict(answer))
    document["source_label"] = answer.source.label()
    return document


class AiApiController(Controller):
    path = "/api/v1/conversations/{conversation_id:int}/ai"
    tags = ["ai"]
    dependencies = {"principal": Provide(api_principal, sync_to_thread=True)}
    exception_handlers = API_ERRORS

    @get(sync_to_thread=True)
    def suggestions(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> dict[str, Any]:
        """The last customer message's intent and details, the suggested next step and the
        order those details describe (not created)."""
        config = _config(runtime, principal)
        panel = ai_panel(runtime.db, config, principal, conversation_id, runtime.clock.now())
        order = panel.order
        return {
            "classification": _answer(panel.classification),
            "intent_label": panel.intent_label,
            "extraction": _answer(panel.extraction),
            "suggestion": _answer(panel.suggestion),
            "order_draft": None
            if order is None
            else {
                "items": order.items,
                "amount": str(order.amount) if order.amount is not None else None,
                "currency": order.currency,
            },
        }

    @get("/summary", sync_to_thread=True)
    def summary(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> dict[str, Any]:
        config = _config(runtime, principal)
        found = summary_for(runtime.db, config, principal, conversation_id, runtime.clock.now())
        return _answer(found) or {}

    @get("/draft", sync_to_thread=True)
    def draft(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        conversation_id: FromPath[int],
    ) -> dict[str, Any]:
        """A reply for a person to read, edit and send with POST .../reply; never sent here."""
        config = _config(runtime, principal)
        found = draft_for(runtime.db, config, principal, conversation_id, runtime.clock.now())
        return _answer(found) or {}
