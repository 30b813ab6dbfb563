"""Liveness and readiness for load balancers and process supervisors."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from engine.health import check_readiness
from ui.dependencies import RuntimeDependency


class HealthController(Controller):
    @get("/healthz", sync_to_thread=False)
    def healthz(self) -> dict[str, str]:
        """The process is up and answering; says nothing about its dependencies."""
        return {"status": "up"}

    @get("/readyz", sync_to_thread=True)
    def readyz(self, runtime: RuntimeDependency) -> Response[dict[str, object]]:
        """200 when the database and the queue both answer, else 503 naming the one that failed."""
        readiness = check_readiness(runtime.readiness_probes())
        status = HTTP_200_OK if readiness.ready else HTTP_503_SERVICE_UNAVAILABLE
        body: dict[str, object] = {
            "status": "ready" if readiness.ready else "not ready",
            "checks": readiness.checks,
        }
        return Response(body, status_code=status)
