"""The simulated WhatsApp: customers, their chats, the send endpoint's rules, the statuses.

Runs on one asyncio loop (the web server's), so its state needs no locks. The HTTP
layer (`app.py`) only translates requests into calls on `Simulator`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from connectors.whatsapp.fake import error_response
from connectors.whatsapp.numbers import equivalent_wa_ids
from connectors.whatsapp.policy import SendPolicy, wa_id_of
from connectors.whatsapp.simulator.delivery import WebhookDelivery
from connectors.whatsapp.simulator.faults import Faults
from connectors.whatsapp.simulator.media import MediaStore, StoredMedia, sample_file
from connectors.whatsapp.simulator.payloads import (
    MEDIA_MIME,
    Business,
    StepError,
    change_webhook,
    dashboard_sample_webhook,
    echo_webhook,
    error_object,
    errors_webhook,
    inbound_message,
    message_webhook,
    new_wamid,
    status_webhook,
    template_status_webhook,
)
from connectors.whatsapp.simulator.script import Script
from engine.core.clock import Clock, SystemClock
from engine.core.media import SUPPORTED

DEFAULT_BUSINESS = Business(
    waba_id="102290129340398", phone_number_id="106540352242922", display_phone_number="15550783881"
)


@dataclass
class SimulatorConfig:
    app_secret: str
    webhook_url: str | None = None
    access_token: str = "kazi-simulator-token"
    business: Business = DEFAULT_BUSINESS
    pace: float = 1.0  # default seconds between a customer's scripted steps
    status_delay: float = 0.5  # seconds between sent, delivered and read
    timeout_seconds: float = 30.0  # how late the answer comes under the timeout fault
    window_errors: Literal["async", "sync"] = "async"  # 131047 as a failed status, or at once
    max_attempts: int = 8  # webhook delivery attempts before giving up
    retry_base: float = 0.5
    autostart: bool = True  # play the script as soon as the server starts
    send_statuses: bool = True  # off: sends get no status webhooks (load tests of sending)
    # Meta's per-number throughput: 80 messages/s by default, up to 1,000 on a higher tier,
    # 20 for a number shared with the Business app; above it a send answers 429 / 130429.
    # 0 switches the limit off.
    throughput: float = 80.0


@dataclass
class ChatLine:
    direction: Literal["in", "out"]
    wamid: str
    kind: str
    text: str
    timestamp: int
    status: str = ""  # outbound: sent / delivered / read / failed; inbound: "" or read


@dataclass
class Customer:
    wa_id: str
    name: str
    chat: list[ChatLine] = field(default_factory=list)
    replies: int = 0  # business messages received, for `wait_for_reply`
    templates: int = 0  # templates received (a broadcast, a first message): `wait_for_template`
    former_ids: list[str] = field(default_factory=list)  # before number changes
    # A customer's messages reach the webhook in the order they were sent, one at a time.
    in_order: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class SendRecord:
    wamid: str
    to: str
    kind: str
    callback_data: str | None
    body: dict[str, Any]
    faults: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendAnswer:
    status: int
    body: dict[str, Any]
    delay: float = 0.0  # seconds the HTTP answer is held back (the timeout fault)


class Simulator:
    def __init__(
        self,
        config: SimulatorConfig,
        script: Script,
        faults: Faults | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
    ) -> None:
        self.config = config
        self.script = script
        self.faults = faults or Faults()
        self.clock = clock or SystemClock()
        self.rng = random.Random(seed)
        templates = script.templates
        self.policy = SendPolicy.with_templates(templates) if templates else SendPolicy()
        # What the template-status webhooks said, per (name, language): the template list
        # (`kazi templates sync`) reports the same.
        self.template_statuses: dict[tuple[str, str], str] = {}
        self.customers: dict[str, Customer] = {
            c.wa_id: Customer(c.wa_id, c.name) for c in script.customers
        }
        self.sends: list[SendRecord] = []
        self.media = MediaStore()
        self.inbound_ids: set[str] = set()
        self.delivery = WebhookDelivery(
            url=config.webhook_url,
            app_secret=config.app_secret,
            faults=self.faults,
            max_attempts=config.max_attempts,
            retry_base=config.retry_base,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._counter = 0
        self.throttle = Throughput(config.throughput)
        self.throttled = 0  # sends refused for going over the throughput

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.delivery.start()
        if self.config.autostart:
            self.play_script()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.delivery.stop()

    def play_script(self) -> None:
        for scripted in self.script.customers:
            self._spawn(self._play(scripted.wa_id, scripted.steps))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- customers -----------------------------------------------------------------------

    async def _play(self, wa_id: str, steps: tuple[dict[str, Any], ...]) -> None:
        seen = seen_templates = 0
        for step in steps:
            customer = self._customer_by_origin(wa_id)
            if "wait_for_reply" in step:
                deadline = float(step["wait_for_reply"] or 300)
                waited = 0.0
                while customer.replies <= seen and waited < deadline:
                    await asyncio.sleep(0.05)
                    waited += 0.05
                seen = customer.replies
                continue
            if "wait_for_template" in step:
                # A customer who never wrote waits for the business to write first (a
                # broadcast), then answers it: a reply, or STOP.
                deadline = float(step["wait_for_template"] or 3600)
                waited = 0.0
                while customer.templates <= seen_templates and waited < deadline:
                    await asyncio.sleep(0.05)
                    waited += 0.05
                seen_templates = customer.templates
                seen = customer.replies
                continue
            await asyncio.sleep(float(step.get("after", self.config.pace)))
            await self.customer_says(customer.wa_id, step)
            seen = customer.replies

    def _customer_by_origin(self, wa_id: str) -> Customer:
        # A number change renames the customer; scripts keep addressing them by the old id.
        customer = self.customers.get(wa_id)
        if customer is None:
            customer = next((c for c in self.customers.values() if wa_id in c.former_ids), None)
        return customer or self._customer(wa_id)

    def _account_of(self, wa_id: str) -> str:
        """The id the customer's account is registered under, as WhatsApp answers it."""
        forms = equivalent_wa_ids(wa_id)
        return next((f for f in sorted(forms) if f in self.customers), wa_id)

    def _customer(self, wa_id: str, name: str | None = None) -> Customer:
        if wa_id not in self.customers:
            self.customers[wa_id] = Customer(wa_id, name or wa_id)
        return self.customers[wa_id]

    async def customer_says(self, wa_id: str, step: dict[str, Any], wait: bool = True) -> str:
        """The customer sends one message (a script step) and its webhook is posted.

        Returns the new message's wamid; with `wait`, only once its webhook was delivered
        (or given up on), else at once while delivery goes on in the background.
        """
        customer = self._customer(wa_id)
        now = self.clock.now()
        wamid = self._wamid()
        step = self._with_media(step)
        last_out = next(
            (line.wamid for line in reversed(customer.chat) if line.direction == "out"), None
        )
        last_in = next(
            (
                line.wamid
                for line in reversed(customer.chat)
                if line.direction == "in" and line.kind not in ("reaction", "edit", "revoke")
            ),
            None,
        )
        message = inbound_message(
            step,
            wamid=wamid,
            wa_id=customer.wa_id,
            timestamp=int(now.timestamp()),
            business_number=self.config.business.display_phone_number,
            last_business_message=last_out,
            last_customer_message=last_in,
        )
        self.inbound_ids.add(wamid)
        self.policy.customer_wrote(customer.wa_id, now)
        customer.chat.append(
            ChatLine("in", wamid, message["type"], _summary(message), int(now.timestamp()))
        )
        is_system = message["type"] == "system"
        body = message_webhook(
            self.config.business, customer.wa_id, customer.name, message, with_contact=not is_system
        )
        if is_system:
            self._change_number(customer, message["system"]["wa_id"], now)
        delivery = self._deliver_in_order(customer, body)
        if wait:
            await delivery
        else:
            self._spawn(delivery)
        return wamid

    async def business_app_says(self, wa_id: str, step: dict[str, Any]) -> str:
        """The business types a message (or reacts, edits, deletes) in its WhatsApp Business
        app: posted as a `smb_message_echoes` webhook (coexistence, reference §5.14)."""
        customer = self._customer(wa_id)
        now = self.clock.now()
        wamid = self._wamid()
        last_out = next(
            (line.wamid for line in reversed(customer.chat) if line.direction == "out"), None
        )
        last_in = next(
            (line.wamid for line in reversed(customer.chat) if line.direction == "in"), None
        )
        message = inbound_message(
            step,
            wamid=wamid,
            wa_id=self.config.business.display_phone_number,
            timestamp=int(now.timestamp()),
            business_number=self.config.business.display_phone_number,
            last_business_message=last_in,  # the business reacts to the customer's message
            last_customer_message=last_out,  # and edits or deletes its own
        )
        message.pop("context", None)
        customer.chat.append(
            ChatLine("out", wamid, message["type"], _summary(message), int(now.timestamp()))
        )
        await self._deliver_in_order(
            customer, echo_webhook(self.config.business, customer.wa_id, message)
        )
        return wamid

    async def post_webhook(self, shape: str, options: dict[str, Any]) -> dict[str, Any]:
        """Post one account-level or test shape: `test-sample` (the dashboard's Test
        button), `template-status` (event, name, language, reason), `error` (code,
        title, details) as out-of-band `errors[]`, or `change` (any `field` + `value`)."""
        business = self.config.business
        if shape == "test-sample":
            body = dashboard_sample_webhook()
        elif shape == "template-status":
            key = (str(options.get("name", "")), str(options.get("language", "en")))
            self.template_statuses[key] = str(options.get("event", "APPROVED"))
            body = template_status_webhook(
                business,
                event=str(options.get("event", "APPROVED")),
                template_id=int(options.get("template_id", 1689556908129835)),
                name=str(options.get("name", "")),
                language=str(options.get("language", "en")),
                reason=str(options["reason"]) if options.get("reason") else None,
            )
        elif shape == "error":
            error = error_object(
                int(options.get("code", 130429)),
                str(options.get("title", "Rate limit hit")),
                str(options.get("details", "")),
            )
            body = errors_webhook(business, [error])
        elif shape == "change":
            value = options.get("value")
            body = change_webhook(
                business, str(options.get("field", "")), value if isinstance(value, dict) else {}
            )
        else:
            raise StepError(f"unknown webhook shape {shape!r}")
        record = await self.delivery.deliver(body)
        return {"delivered": record.delivered, "last_status": record.last_status}

    def _with_media(self, step: dict[str, Any]) -> dict[str, Any]:
        """A media step gets a real file in the media store, named by the webhook's id."""
        kind = next((k for k in MEDIA_MIME if k in step), None)
        if kind is None:
            return step
        given = step[kind]
        argument = dict(given) if isinstance(given, dict) else {"caption": str(given)}
        stored = sample_file(kind, argument)
        argument.pop("data_base64", None)
        argument["mime_type"] = stored.mime_type
        argument["sha256"] = stored.sha256_base64
        media_id = argument.get("id")
        argument["id"] = self.media.put(stored, str(media_id) if media_id else None)
        return {**step, kind: argument}

    # --- the template list -------------------------------------------------------------

    def handle_template_list(self, authorization: str | None, waba_id: str) -> SendAnswer:
        """`GET /{version}/{waba-id}/message_templates`: the approved templates, each with
        the status its last template-status webhook gave (APPROVED before any), one page."""
        if authorization != f"Bearer {self.config.access_token}":
            return _error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if waba_id != self.config.business.waba_id:
            return _error(
                400, 100, f"Unsupported get request. Object with ID '{waba_id}' does not exist"
            )
        data = []
        for template in (self.policy.templates or {}).values():
            for language in sorted(template.languages):
                number = int(hashlib.sha256(f"{template.name}:{language}".encode()).hexdigest(), 16)
                data.append(
                    {
                        "name": template.name,
                        "language": language,
                        "status": self.template_statuses.get((template.name, language), "APPROVED"),
                        "id": str(number % 10**16),
                    }
                )
        return SendAnswer(200, {"data": data, "paging": {"cursors": {"before": "", "after": ""}}})

    # --- the media endpoints -------------------------------------------------------------

    def handle_media_lookup(
        self, authorization: str | None, media_id: str, base_url: str
    ) -> SendAnswer:
        if authorization != f"Bearer {self.config.access_token}":
            return _error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        found = self.media.lookup(media_id, base_url)
        if found is None:
            return _error(
                404, 100, f"Unsupported get request. Object with ID '{media_id}' does not exist"
            )
        return SendAnswer(200, found)

    def media_bytes(self, authorization: str | None, media_id: str) -> StoredMedia | int:
        """The file behind a lookup's URL, or the HTTP status refusing it."""
        if authorization != f"Bearer {self.config.access_token}":
            return 401
        return self.media.files.get(media_id) or 404

    def handle_upload(
        self,
        authorization: str | None,
        phone_number_id: str,
        fields: dict[str, str],
        file: StoredMedia | None,
    ) -> SendAnswer:
        if authorization != f"Bearer {self.config.access_token}":
            return _error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if phone_number_id != self.config.business.phone_number_id:
            return _error(400, 100, f"Object with ID '{phone_number_id}' does not exist")
        if fields.get("messaging_product") != "whatsapp":
            return _error(400, 100, "Invalid parameter", "messaging_product must be whatsapp")
        if file is None or not file.data:
            return _error(400, 100, "Invalid parameter", "the file is missing")
        if (fields.get("type") or file.mime_type).split(";")[0] not in SUPPORTED:
            return _error(400, 131053, "Media upload error", f"unsupported type {file.mime_type}")
        media_id = self.media.put(file)
        self.media.uploads.append(media_id)
        return SendAnswer(200, {"id": media_id})

    async def _deliver_in_order(self, customer: Customer, body: dict[str, Any]) -> None:
        async with customer.in_order:
            await self.delivery.deliver(body)

    def _change_number(self, customer: Customer, new_wa_id: str, now: datetime) -> None:
        old = customer.wa_id
        del self.customers[old]
        customer.wa_id = new_wa_id
        customer.former_ids.append(old)
        self.customers[new_wa_id] = customer
        self.policy.customer_wrote(new_wa_id, now)

    # --- the send endpoint ---------------------------------------------------------------

    async def handle_send(
        self, authorization: str | None, phone_number_id: str, raw: bytes
    ) -> SendAnswer:
        if authorization != f"Bearer {self.config.access_token}":
            return _error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if phone_number_id != self.config.business.phone_number_id:
            return _error(
                400,
                100,
                f"Unsupported post request. Object with ID '{phone_number_id}' does not exist",
            )
        if not self.throttle.admit(time.monotonic()):
            self.throttled += 1
            return _error(
                429,
                130429,
                "Rate limit hit",
                f"Cloud API message throughput ({self.config.throughput:g}/s) reached.",
            )
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, 100, "Invalid parameter", "The request body is not JSON")
        if self.faults.take("http_429", self.rng):
            return _error(429, 130429, "Rate limit hit", "Cloud API message throughput reached.")
        if self.faults.take("http_500", self.rng):
            return _error(500, 131000, "Something went wrong", "Simulated server error.")
        if isinstance(body, dict) and body.get("status") == "read":
            return self._mark_read(body)
        now = self.clock.now()
        refusal = self.policy.check(body, now)
        window_failure = None
        if refusal is not None:
            if not (refusal.is_window and self.config.window_errors == "async"):
                return _error(400, refusal.code, refusal.title, refusal.details)
            window_failure = error_object(refusal.code, refusal.title, refusal.details)
        return await self._accept(body, window_failure)

    async def _accept(
        self, body: dict[str, Any], window_failure: dict[str, Any] | None
    ) -> SendAnswer:
        given = str(body["to"])
        to = self._account_of(wa_id_of(given))
        kind = str(body.get("type", "text"))
        wamid = self._wamid()
        faults: list[str] = []
        timed_out = self.faults.take("timeout", self.rng)
        if timed_out:
            faults.append("timeout")
        statuses: list[tuple[str, dict[str, Any] | None]]
        if window_failure is not None:
            statuses = [("failed", window_failure)]
        elif self.faults.take("failed_after_sent", self.rng):
            faults.append("failed-after-sent")
            undeliverable = error_object(
                131026, "Message undeliverable", "Simulated undeliverable."
            )
            statuses = [("sent", None), ("failed", undeliverable)]
        else:
            statuses = [("sent", None), ("delivered", None), ("read", None)]
        if self.faults.reorder:
            faults.append("reorder")
            statuses.reverse()
        callback = body.get("biz_opaque_callback_data")
        record = SendRecord(wamid, to, kind, callback if isinstance(callback, str) else None, body)
        record.faults = tuple(faults)
        self.sends.append(record)
        customer = self._customer(to)
        line = ChatLine("out", wamid, kind, _summary(body), int(self.clock.now().timestamp()))
        customer.chat.append(line)
        customer.replies += 1
        if kind == "template":
            customer.templates += 1
        if not self.config.send_statuses:
            statuses = []
        category = "utility" if kind == "template" else "service"
        work = self._post_statuses(record, line, statuses, category)
        if self.faults.race:
            record.faults = (*record.faults, "race")
            await work
        else:
            self._spawn(work)
        answer: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": given, "wa_id": to}],
            "messages": [{"id": wamid}],
        }
        if kind == "template":
            answer["messages"][0]["message_status"] = "accepted"
        return SendAnswer(200, answer, self.config.timeout_seconds if timed_out else 0.0)

    async def _post_statuses(
        self,
        record: SendRecord,
        line: ChatLine,
        statuses: list[tuple[str, dict[str, Any] | None]],
        category: str,
    ) -> None:
        for status, error in statuses:
            await asyncio.sleep(self.config.status_delay)
            if _rank(status) > _rank(line.status):
                line.status = status
            body = status_webhook(
                self.config.business,
                wamid=record.wamid,
                status=status,
                recipient=record.to,
                timestamp=int(self.clock.now().timestamp()),
                callback_data=record.callback_data,
                category=category,
                errors=[error] if error else None,
            )
            await self.delivery.deliver(body)

    def _mark_read(self, body: dict[str, Any]) -> SendAnswer:
        message_id = body.get("message_id")
        for customer in self.customers.values():
            ids = [line.wamid for line in customer.chat]
            if message_id in ids:
                for line in customer.chat[: ids.index(message_id) + 1]:
                    if line.direction == "in":
                        line.status = "read"
                return SendAnswer(200, {"success": True})
        return _error(400, 131009, "Parameter value is not valid", "Invalid message id")

    def _wamid(self) -> str:
        self._counter += 1
        return new_wamid(f"{self._counter}:{self.rng.random()}")

    # --- views for the control endpoints and the page ------------------------------------

    def duplicate_sends(self) -> dict[str, int]:
        """Idempotency keys (callback data) accepted more than once: a CRM sent twice."""
        counts = Counter(r.callback_data for r in self.sends if r.callback_data)
        return {key: count for key, count in counts.items() if count > 1}

    def state(self) -> dict[str, Any]:
        return {
            "business": self.config.business.__dict__,
            "faults": self.faults.as_dict(),
            "customers": [
                {
                    "wa_id": c.wa_id,
                    "name": c.name,
                    "window_open": self.policy.window_open(c.wa_id, self.clock.now()),
                    "chat": [line.__dict__ for line in c.chat],
                }
                for c in self.customers.values()
            ],
            "sends": len(self.sends),
            "throughput": self.config.throughput,
            "throttled": self.throttled,
            "duplicate_sends": self.duplicate_sends(),
            "deliveries": len(self.delivery.log),
            "media": [
                {"id": media_id, "mime_type": file.mime_type, "size": len(file.data)}
                for media_id, file in self.media.files.items()
            ],
        }


class Throughput:
    """Meta's per-number limit as a token bucket: `rate` sends a second, bursts of up to
    one second's worth. One simulator serves one number, so one bucket."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._tokens = max(1.0, rate)
        self._at: float | None = None

    def admit(self, now: float) -> bool:
        if self.rate <= 0:
            return True
        if self._at is not None and now > self._at:
            self._tokens = min(max(1.0, self.rate), self._tokens + (now - self._at) * self.rate)
        self._at = now if self._at is None else max(self._at, now)
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


def _error(status: int, code: int, title: str, details: str = "") -> SendAnswer:
    return SendAnswer(status, json.loads(error_response(code, title, details)))


_RANKS = {"": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


def _rank(status: str) -> int:
    return _RANKS.get(status, 0)


def _summary(message: dict[str, Any]) -> str:
    """One line for the page: what the message says, whatever its type."""
    kind = message.get("type", "text")
    content = message.get(kind)
    if kind == "text" and isinstance(content, dict):
        return str(content.get("body", ""))
    if kind == "template" and isinstance(content, dict):
        values = [
            str(p.get("text", p.get("payload", "")))
            for c in content.get("components") or []
            for p in c.get("parameters") or []
            if isinstance(p, dict)
        ]
        return f"[template {content.get('name')}] " + ", ".join(v for v in values if v)
    if kind == "interactive" and isinstance(content, dict):
        for key in ("button_reply", "list_reply"):
            if isinstance(content.get(key), dict):
                return f"[{key}] {content[key].get('title', '')}"
        body = content.get("body")
        return str(body.get("text", "")) if isinstance(body, dict) else "[interactive]"
    if kind == "button" and isinstance(content, dict):
        return f"[button] {content.get('text', '')}"
    if kind == "reaction" and isinstance(content, dict):
        return f"[reaction] {content.get('emoji', '')}"
    if kind == "location" and isinstance(content, dict):
        where = f"{content.get('latitude')},{content.get('longitude')}"
        return f"[location] {content.get('name') or ''} {where}"
    if kind == "system" and isinstance(content, dict):
        return f"[system] {content.get('body', '')}"
    if isinstance(content, dict):
        label = content.get("caption") or content.get("filename") or content.get("text") or ""
        return f"[{kind}] {label}"
    return f"[{kind}]"
