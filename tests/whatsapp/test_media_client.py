"""CloudApiMedia's edges, on a mock transport: an expired download address is looked up
again, addresses that are not public are refused, redirects are not followed, and
the size limit holds even when the server does not say how big the file is."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx

from connectors.whatsapp.media import CloudApiMedia
from engine.core.media import FetchedMedia, MediaFailure, MediaUploaded

DATA = b"%PDF-1.4 a small file"
GRAPH = "https://graph.example.com"
CDN = "https://lookaside.example.com/file?sig=1"


def public(host: str, port: int) -> list[str]:
    return ["157.240.1.1"]


def client(handler: Callable[[httpx.Request], httpx.Response], **options: object) -> CloudApiMedia:
    return CloudApiMedia(
        access_token="tok",
        phone_number_id="1061",
        base_url=str(options.pop("base_url", GRAPH)),
        transport=httpx.MockTransport(handler),
        resolve=options.pop("resolve", public),  # type: ignore[arg-type]
    )


def lookup(url: str = CDN, size: int = len(DATA)) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "url": url,
            "mime_type": "application/pdf",
            "sha256": hashlib.sha256(DATA).hexdigest(),
            "file_size": size,
            "id": "77",
        },
    )


def test_the_file_is_fetched_with_the_bearer_token_on_both_calls() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "graph.example.com":
            return lookup()
        return httpx.Response(200, content=DATA)

    fetched = client(handler).fetch_media("77", max_bytes=1000)
    assert isinstance(fetched, FetchedMedia) and fetched.data == DATA
    assert [str(r.url) for r in seen] == [f"{GRAPH}/v23.0/77", CDN]
    assert all(r.headers["authorization"] == "Bearer tok" for r in seen)


def test_an_expired_address_is_looked_up_again_once() -> None:
    lookups = downloads = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal lookups, downloads
        if request.url.host == "graph.example.com":
            lookups += 1
            return lookup()
        downloads += 1
        return httpx.Response(404 if downloads == 1 else 200, content=DATA)

    fetched = client(handler).fetch_media("77", max_bytes=1000)
    assert isinstance(fetched, FetchedMedia) and (lookups, downloads) == (2, 2)


def test_an_address_inside_the_network_is_refused_before_any_request() -> None:
    downloads: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "graph.example.com":
            return lookup("https://internal.example.com/secret")
        downloads.append(str(request.url))
        return httpx.Response(200, content=DATA)

    def internal(host: str, port: int) -> list[str]:
        return ["10.0.0.5"] if host == "internal.example.com" else ["157.240.1.1"]

    refused = client(handler, resolve=internal).fetch_media("77", max_bytes=1000)
    assert isinstance(refused, MediaFailure)
    assert (refused.retryable, refused.code) == (False, "refused_address")
    assert downloads == []
    plain = client(lambda r: lookup("http://lookaside.example.com/x")).fetch_media(
        "7", max_bytes=99
    )
    assert isinstance(plain, MediaFailure) and plain.code == "refused_address"


def test_loopback_is_allowed_only_when_the_api_itself_is_on_this_machine() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/77"):
            return lookup("http://127.0.0.1:9/file")
        return httpx.Response(200, content=DATA)

    def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    local = client(handler, base_url="http://127.0.0.1:9", resolve=loopback)
    assert isinstance(local.fetch_media("77", max_bytes=1000), FetchedMedia)
    remote = client(handler, resolve=loopback).fetch_media("77", max_bytes=1000)
    assert isinstance(remote, MediaFailure) and remote.code == "refused_address"


def test_redirects_are_not_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "graph.example.com":
            return lookup()
        return httpx.Response(302, headers={"location": "http://169.254.169.254/"})

    refused = client(handler).fetch_media("77", max_bytes=1000)
    assert isinstance(refused, MediaFailure) and refused.code == "http_302"
    assert not refused.retryable


def test_the_size_limit_holds_whatever_the_server_claims() -> None:
    big = client(lambda r: lookup(size=10_000)).fetch_media("77", max_bytes=1000)
    assert isinstance(big, MediaFailure) and big.code == "too_large"

    def lying(request: httpx.Request) -> httpx.Response:
        if request.url.host == "graph.example.com":
            return lookup(size=10)
        return httpx.Response(200, content=httpx.ByteStream(b"x" * 5000))

    streamed = client(lying).fetch_media("77", max_bytes=1000)
    assert isinstance(streamed, MediaFailure) and streamed.code == "too_large"


def test_a_network_error_may_be_retried_and_a_media_id_is_never_a_path() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    failure = client(down).fetch_media("77", max_bytes=1000)
    assert isinstance(failure, MediaFailure) and failure.retryable
    odd = client(down).fetch_media("../1061/messages", max_bytes=1000)
    assert isinstance(odd, MediaFailure) and odd.code == "bad_media_id"


def test_upload_is_multipart_with_the_type_and_product() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "9876"})

    uploaded = client(handler).upload_media(DATA, mime_type="application/pdf", file_name="a.pdf")
    assert uploaded == MediaUploaded("9876")
    [request] = seen
    assert str(request.url) == f"{GRAPH}/v23.0/1061/media"
    body = request.read()
    assert b'name="messaging_product"' in body and b"whatsapp" in body
    assert b'name="type"' in body and b'filename="a.pdf"' in body and DATA in body


def test_a_refused_upload_carries_whatsapps_code() -> None:
    error = {"error": {"code": 131053, "message": "Media upload error", "error_data": {}}}
    refused = client(lambda r: httpx.Response(400, json=error)).upload_media(
        DATA, mime_type="application/pdf", file_name="a.pdf"
    )
    assert isinstance(refused, MediaFailure)
    assert (refused.code, refused.retryable) == ("131053", False)
