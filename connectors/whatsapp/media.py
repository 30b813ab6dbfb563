"""`CloudApiMedia`: the MediaTransfer port over the Cloud API's media endpoints.

Download (reference §5.1): `GET /{version}/{media-id}` with the bearer token names a
short-lived URL (about 5 minutes), then `GET <url>` with the same bearer header gives
the bytes. That URL comes from the provider's answer, so it is checked like any
outbound call (DESIGN): http(s) only, public addresses after DNS resolution, no
redirects, a timeout, and a byte limit enforced while reading. An expired URL
(401/403/404) is looked up once more. Upload (§7.3): `POST /{phone-number-id}/media`,
multipart `file`, `type`, `messaging_product=whatsapp` → `{"id": ...}`.
"""

from __future__ import annotations

import ipaddress
import json
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.webhook.addresses import RefusedAddress, Resolver, check_url, system_resolver
from connectors.whatsapp.client import DEFAULT_VERSION, GRAPH_URL
from connectors.whatsapp.errors import NETWORK_MEANING, classify
from engine.core.media import FetchedMedia, MediaFailure, MediaFetch, MediaUpload, MediaUploaded

GONE_MEANING = "WhatsApp no longer has this file (media ids expire); ask the customer to resend."
TOO_BIG_MEANING = "The file is larger than Kazi keeps; ask the customer for a smaller one."
REFUSED_MEANING = "WhatsApp named a download address Kazi will not call."
EXPIRED = (401, 403, 404)


def is_loopback_url(url: str) -> bool:
    """Whether `url` names this machine (the simulator in the demo and in tests)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CloudApiMedia:
    def __init__(
        self,
        *,
        access_token: str,
        phone_number_id: str,
        base_url: str = GRAPH_URL,
        api_version: str = DEFAULT_VERSION,
        timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
        resolve: Resolver = system_resolver,
    ) -> None:
        root = f"{base_url.rstrip('/')}/{api_version}"
        self._root = root
        self.upload_url = f"{root}/{phone_number_id}/media"
        # Download URLs on this machine are allowed only when the API itself is here:
        # that is the simulator, never WhatsApp.
        self._allow_private = is_loopback_url(base_url)
        self._resolve = resolve
        self._client = httpx.Client(
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
        )

    # --- download --------------------------------------------------------------------

    def fetch_media(self, media_id: str, *, max_bytes: int) -> MediaFetch:
        first = self._fetch_once(media_id, max_bytes)
        if isinstance(first, _Expired):
            # The short-lived URL ran out between lookup and download: ask again, once.
            second = self._fetch_once(media_id, max_bytes)
            if isinstance(second, _Expired):
                return MediaFailure(True, "url_expired", "The download address kept expiring.")
            return second
        return first

    def _fetch_once(self, media_id: str, max_bytes: int) -> MediaFetch | _Expired:
        if not media_id or "/" in media_id or media_id in (".", ".."):
            return MediaFailure(False, "bad_media_id", f"not a media id: {media_id!r}")
        try:
            response = self._client.get(f"{self._root}/{media_id}")
        except httpx.HTTPError as error:
            return MediaFailure(True, "network", NETWORK_MEANING, repr(error))
        if response.status_code == 404:
            return MediaFailure(False, "not_found", GONE_MEANING)
        if response.status_code != 200:
            return _graph_failure(response)
        document = _json(response.content)
        url = document.get("url")
        mime_type = str(document.get("mime_type") or "application/octet-stream")
        sha256 = document.get("sha256")
        size = document.get("file_size")
        if not isinstance(url, str) or not url:
            return MediaFailure(True, "no_url", "WhatsApp named no download address.")
        if isinstance(size, int | str) and str(size).isdigit() and int(size) > max_bytes:
            return MediaFailure(False, "too_large", TOO_BIG_MEANING, f"{size} bytes")
        try:
            check_url(url, self._resolve, self._allow_private)
        except RefusedAddress as refused:
            return MediaFailure(False, "refused_address", REFUSED_MEANING, str(refused))
        return self._download(
            url, mime_type, sha256 if isinstance(sha256, str) else None, max_bytes
        )

    def _download(
        self, url: str, mime_type: str, sha256: str | None, max_bytes: int
    ) -> MediaFetch | _Expired:
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code in EXPIRED:
                    return _Expired()
                if response.status_code != 200:
                    retryable = response.status_code in (408, 429) or response.status_code >= 500
                    detail = f"HTTP {response.status_code}"
                    if 300 <= response.status_code < 400:
                        detail += " (redirects are not followed)"
                    return MediaFailure(retryable, f"http_{response.status_code}", detail)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    return MediaFailure(False, "too_large", TOO_BIG_MEANING, f"{declared} bytes")
                chunks: list[bytes] = []
                total = 0
                for chunk in response.iter_bytes():
                    total += len(chunk)
                    if total > max_bytes:
                        return MediaFailure(False, "too_large", TOO_BIG_MEANING, f">{max_bytes}")
                    chunks.append(chunk)
        except httpx.HTTPError as error:
            return MediaFailure(True, "network", NETWORK_MEANING, repr(error))
        return FetchedMedia(b"".join(chunks), mime_type, sha256)

    # --- upload ----------------------------------------------------------------------

    def upload_media(self, data: bytes, *, mime_type: str, file_name: str) -> MediaUpload:
        try:
            response = self._client.post(
                self.upload_url,
                data={"messaging_product": "whatsapp", "type": mime_type},
                files={"file": (file_name or "file", data, mime_type)},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            return MediaFailure(True, "network", NETWORK_MEANING, repr(error))
        except httpx.HTTPError as error:
            # An upload that may have landed only costs WhatsApp storage: try again.
            return MediaFailure(True, "network", NETWORK_MEANING, repr(error))
        if 200 <= response.status_code < 300:
            media_id = _json(response.content).get("id")
            if isinstance(media_id, str) and media_id:
                return MediaUploaded(media_id)
            return MediaFailure(True, "no_media_id", "WhatsApp answered without a media id.")
        return _graph_failure(response)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> CloudApiMedia:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Expired:
    """The download URL answered as if expired; look it up again."""


def _graph_failure(response: httpx.Response) -> MediaFailure:
    error = _json(response.content).get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    verdict = classify(code, response.status_code)
    data = error.get("error_data")
    data = data if isinstance(data, dict) else {}
    detail = str(data.get("details") or error.get("message") or f"HTTP {response.status_code}")
    return MediaFailure(verdict.retryable, verdict.code, verdict.meaning, detail)


def _json(content: bytes) -> dict[str, Any]:
    try:
        document = json.loads(content)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
