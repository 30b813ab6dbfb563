"""The start page: is Kazi up, and where to sign in. It names no workspace and shows no
customer figures: it is public, and one server hosts many businesses."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from ui.dependencies import RuntimeDependency


class HomeController(Controller):
    @get("/", sync_to_thread=False)
    def home(self, runtime: RuntimeDependency) -> Template:
        return Template(
            template_name="home.html",
            context={
                "backend": runtime.db.dialect.name,
                "queue_backend": "Redis" if runtime.settings.redis_url else "SQLite",
            },
        )
