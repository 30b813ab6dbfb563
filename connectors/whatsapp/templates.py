"""Reading a WhatsApp Business Account's message templates from the Graph API.

`GET /{version}/{waba-id}/message_templates` answers pages of
`{"data": [{"name", "language", "status", "category", "id", "components": [...]}],
"paging": {"cursors": {"after": ...}, "next": ...}}`. Statuses and categories are kept
as Meta writes them (reference §8.2: APPROVED, PAUSED, ...; an unknown one is kept, not
refused). Only the `after` cursor is followed, never the `next` URL, so a page cannot
send the access token to another host.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.whatsapp.client import DEFAULT_VERSION, GRAPH_URL
from connectors.whatsapp.errors import classify

FIELDS = "name,language,status,category,id,components,rejected_reason,quality_score"
PAGE_SIZE = 100
MAX_PAGES = 50


@dataclass(frozen=True)
class RemoteTemplate:
    name: str
    language: str
    status: str  # as Meta says it: APPROVED, PENDING, REJECTED, PAUSED, ...
    category: str | None = None
    template_id: str | None = None
    body: str | None = None  # the BODY component's text, with {{1}}-style placeholders
    reason: str | None = None  # rejected_reason, when Meta gives one other than NONE
    quality: str | None = None


@dataclass(frozen=True)
class TemplatesUnavailable:
    """The list could not be read: WhatsApp's code, its meaning for staff, the detail."""

    code: str
    meaning: str
    detail: str


def fetch_templates(
    *,
    access_token: str,
    waba_id: str,
    base_url: str = GRAPH_URL,
    api_version: str = DEFAULT_VERSION,
    timeout: float = 20.0,
    transport: httpx.BaseTransport | None = None,
) -> list[RemoteTemplate] | TemplatesUnavailable:
    if not waba_id.isdigit():
        return TemplatesUnavailable("config", "not a WhatsApp Business Account id", waba_id)
    url = f"{base_url.rstrip('/')}/{api_version}/{waba_id}/message_templates"
    found: list[RemoteTemplate] = []
    params: dict[str, str | int] = {"fields": FIELDS, "limit": PAGE_SIZE}
    with httpx.Client(
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=timeout,
        follow_redirects=False,
        transport=transport,
    ) as client:
        for _ in range(MAX_PAGES):
            try:
                response = client.get(url, params=params)
            except httpx.HTTPError as error:
                return TemplatesUnavailable("network", "WhatsApp could not be reached", repr(error))
            document = _json(response.content)
            if response.status_code != 200:
                return _failure(response.status_code, document)
            data = document.get("data")
            for item in data if isinstance(data, list) else []:
                template = _template(item)
                if template is not None:
                    found.append(template)
            paging = document.get("paging")
            cursors = paging.get("cursors") if isinstance(paging, dict) else None
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not (isinstance(paging, dict) and paging.get("next") and isinstance(after, str)):
                return found
            params = {**params, "after": after}
    return found


def _template(item: object) -> RemoteTemplate | None:
    if not isinstance(item, dict):
        return None
    name, language = item.get("name"), item.get("language")
    if not isinstance(name, str) or not isinstance(language, str):
        return None
    body = None
    components = item.get("components")
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            text = component.get("text")
            body = text if isinstance(text, str) else None
    reason = _text(item.get("rejected_reason"))
    quality = item.get("quality_score")
    return RemoteTemplate(
        name=name,
        language=language,
        status=_text(item.get("status")) or "UNKNOWN",
        category=_text(item.get("category")),
        template_id=_text(item.get("id")),
        body=body,
        reason=None if reason in (None, "NONE") else reason,
        quality=_text(quality.get("score")) if isinstance(quality, dict) else _text(quality),
    )


def _text(value: object) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text or None


def _failure(status: int, document: dict[str, Any]) -> TemplatesUnavailable:
    error = document.get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    verdict = classify(
        code if isinstance(code, int) and not isinstance(code, bool) else None, status
    )
    detail = str(error.get("message") or f"HTTP {status}")
    return TemplatesUnavailable(verdict.code, verdict.meaning, detail)


def _json(content: bytes) -> dict[str, Any]:
    try:
        document = json.loads(content)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
