"""The start page: is Kazi up, and which workspaces does this server host."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from engine.overview import workspace_summaries
from ui.dependencies import RuntimeDependency


class HomeController(Controller):
    @get("/", sync_to_thread=True)
    def home(self, runtime: RuntimeDependency) -> Template:
        return Template(
            template_name="home.html",
            context={
                "backend": runtime.db.dialect.name,
                "queue_backend": "Redis" if runtime.settings.redis_url else "SQLite",
                "pending_jobs": runtime.queue.pending(),
                "workspaces": workspace_summaries(runtime.db),
            },
        )
