"""Provider webhooks: verify, store, answer. The work happens later, in jobs."""

from __future__ import annotations

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.enums import MediaType
from litestar.params import FromPath

from connectors.webhook.signing import SIGNATURE_HEADER as KAZI_SIGNATURE_HEADER
from connectors.whatsapp.signature import SIGNATURE_HEADER
from engine.integrations.inbound import receive_integration_event
from engine.payments.callbacks import receive_payment_callback
from engine.whatsapp.webhook import answer_handshake, receive_webhook
from ui.dependencies import RuntimeDependency


class WhatsAppWebhookController(Controller):
    path = "/webhooks/whatsapp/{workspace:str}"

    @get(sync_to_thread=True, media_type=MediaType.TEXT)
    def verify(
        self, workspace: FromPath[str], request: Request, runtime: RuntimeDependency
    ) -> Response[str]:
        """Meta's subscription handshake; carries no signature."""
        status, body = answer_handshake(
            db=runtime.db,
            secrets=runtime.whatsapp_secrets,
            slug=workspace,
            params=dict(request.query_params),
        )
        return Response(body, status_code=status, media_type=MediaType.TEXT)

    @post(status_code=200)
    async def receive(
        self, workspace: FromPath[str], request: Request, runtime: RuntimeDependency
    ) -> Response[dict[str, object]]:
        body = await request.body()
        signature = request.headers.get(SIGNATURE_HEADER)
        outcome = await anyio.to_thread.run_sync(
            lambda: receive_webhook(
                db=runtime.db,
                queue=runtime.queue,
                secrets=runtime.whatsapp_secrets,
                slug=workspace,
                body=body,
                signature=signature,
                now=runtime.clock.now(),
            )
        )
        content: dict[str, object] = {"status": outcome.detail}
        if outcome.status == 200:
            content.update(
                stored=outcome.stored, duplicates=outcome.duplicates, flagged=outcome.flagged
            )
        return Response(content, status_code=outcome.status)


class IntegrationWebhookController(Controller):
    """Events from a business's own systems, signed with the integration's secret."""

    path = "/webhooks/integrations/{workspace:str}/{integration:str}"

    @post(status_code=200)
    async def receive(
        self,
        workspace: FromPath[str],
        integration: FromPath[str],
        request: Request,
        runtime: RuntimeDependency,
    ) -> Response[dict[str, object]]:
        body = await request.body()
        signature = request.headers.get(KAZI_SIGNATURE_HEADER)
        outcome = await anyio.to_thread.run_sync(
            lambda: receive_integration_event(
                db=runtime.db,
                queue=runtime.queue,
                configs=runtime.configs,
                slug=workspace,
                integration=integration,
                body=body,
                signature=signature,
                now=runtime.clock.now(),
            )
        )
        content: dict[str, object] = {"status": outcome.detail}
        if outcome.status == 200:
            content.update(
                stored=outcome.stored, duplicates=outcome.duplicates, flagged=outcome.flagged
            )
        return Response(content, status_code=outcome.status)


class PaymentCallbackController(Controller):
    """M-Pesa callbacks on a secret URL (engine/payments/callbacks.py, docs/mpesa.md).

    `payments`, not `mpesa`, in the path: Daraja refuses callback URLs containing `mpesa`.
    """

    path = "/webhooks/payments/{workspace:str}/{token:str}"

    @post("/{kind:path}", status_code=200)
    async def receive(
        self,
        workspace: FromPath[str],
        token: FromPath[str],
        kind: FromPath[str],
        request: Request,
        runtime: RuntimeDependency,
    ) -> Response[dict[str, object]]:
        """`kind` is stk, c2b/validation, c2b/confirmation, result or timeout (a Transaction
        Status QueueTimeOutURL); any other path is a 404 from receive_payment_callback."""
        kind = kind.strip("/")
        body = await request.body()
        answer = await anyio.to_thread.run_sync(
            lambda: receive_payment_callback(
                db=runtime.db,
                queue=runtime.queue,
                configs=runtime.configs,
                slug=workspace,
                token=token,
                kind=kind,
                body=body,
                now=runtime.clock.now(),
                # uvicorn resolved X-Forwarded-For from FORWARDED_ALLOW_IPS proxies only.
                source=request.client.host if request.client else None,
            )
        )
        return Response(answer.body, status_code=answer.status)


class MpesaPathCallbackController(PaymentCallbackController):
    """The same callbacks under `/webhooks/mpesa/...`, the paths issue 12 first named.

    Daraja refuses to *register* a callback URL containing `mpesa`, so Kazi never hands
    these out; they exist so that a proxy, a test harness or an older configuration
    posting there is stored and answered like the `payments` paths, not lost to a 404."""

    path = "/webhooks/mpesa/{workspace:str}/{token:str}"
