"""One media contract, two adapters: FakeSender and CloudApiMedia against the simulator.

Upload a file and fetch it back by its id; an unknown id is gone for good; a file
over the caller's limit is refused, not read whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import httpx
import pytest

from connectors.whatsapp.fake import FakeSender
from connectors.whatsapp.media import CloudApiMedia
from connectors.whatsapp.simulator.media import SAMPLE_PDF, sample_png
from connectors.whatsapp.simulator.world import DEFAULT_BUSINESS
from engine.core.media import (
    FetchedMedia,
    MediaFailure,
    MediaTransfer,
    MediaUploaded,
    sha256_matches,
)
from tests.whatsapp.conftest import TOKEN, SimulatorFactory

PNG = sample_png()


class Harness(Protocol):
    @property
    def media(self) -> MediaTransfer: ...

    def customer_sends_photo(self) -> str:
        """A customer sends a photo; the media id its webhook names."""
        ...


@dataclass
class FakeHarness:
    media: FakeSender

    def customer_sends_photo(self) -> str:
        self.media.put_media("555", PNG, "image/png")
        return "555"


@dataclass
class SimulatorHarness:
    media: CloudApiMedia
    url: str

    def customer_sends_photo(self) -> str:
        answer = httpx.post(
            f"{self.url}/_sim/customers/254712345678/messages", json={"image": {"caption": "x"}}
        )
        answer.raise_for_status()
        state = httpx.get(f"{self.url}/_sim/state").json()
        assert state["customers"][0]["chat"][-1]["kind"] == "image"
        return str(state["media"][-1]["id"])


@pytest.fixture(params=["fake", "cloud_api_against_simulator"])
def harness(request: pytest.FixtureRequest, start_simulator: SimulatorFactory) -> Iterator[Harness]:
    if request.param == "fake":
        yield FakeHarness(FakeSender())
        return
    running = start_simulator()
    media = CloudApiMedia(
        access_token=TOKEN,
        phone_number_id=DEFAULT_BUSINESS.phone_number_id,
        base_url=running.url,
        timeout=2.0,
    )
    yield SimulatorHarness(media, running.url)
    media.close()


def test_an_uploaded_file_comes_back_by_its_id(harness: Harness) -> None:
    uploaded = harness.media.upload_media(
        SAMPLE_PDF, mime_type="application/pdf", file_name="a.pdf"
    )
    assert isinstance(uploaded, MediaUploaded) and uploaded.media_id
    fetched = harness.media.fetch_media(uploaded.media_id, max_bytes=1024 * 1024)
    assert isinstance(fetched, FetchedMedia)
    assert fetched.data == SAMPLE_PDF and fetched.mime_type == "application/pdf"
    assert sha256_matches(fetched.data, fetched.sha256)


def test_a_customers_photo_can_be_fetched(harness: Harness) -> None:
    media_id = harness.customer_sends_photo()
    fetched = harness.media.fetch_media(media_id, max_bytes=1024 * 1024)
    assert isinstance(fetched, FetchedMedia)
    assert fetched.data.startswith(b"\x89PNG") and fetched.mime_type == "image/png"
    assert fetched.sha256 == hashlib.sha256(fetched.data).hexdigest()


def test_an_unknown_media_id_is_gone_for_good(harness: Harness) -> None:
    missing = harness.media.fetch_media("404404404", max_bytes=1024)
    assert isinstance(missing, MediaFailure)
    assert (missing.retryable, missing.code) == (False, "not_found")


def test_a_file_over_the_limit_is_refused(harness: Harness) -> None:
    uploaded = harness.media.upload_media(PNG, mime_type="image/png", file_name="p.png")
    assert isinstance(uploaded, MediaUploaded)
    refused = harness.media.fetch_media(uploaded.media_id, max_bytes=len(PNG) - 1)
    assert isinstance(refused, MediaFailure)
    assert (refused.retryable, refused.code) == (False, "too_large")
