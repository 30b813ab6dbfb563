"""The simulated WhatsApp's media store: customers' files to download, businesses' uploads.

Lookups answer like `GET /{version}/{media-id}` (a URL, type, SHA-256, size); the URL
points back at this simulator and, like WhatsApp's, needs the bearer token.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StoredMedia:
    data: bytes
    mime_type: str
    file_name: str | None = None

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def sha256_base64(self) -> str:
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


@dataclass
class MediaStore:
    files: dict[str, StoredMedia] = field(default_factory=dict)
    uploads: list[str] = field(default_factory=list)  # media ids businesses uploaded
    _counter: int = 0

    def put(self, media: StoredMedia, media_id: str | None = None) -> str:
        if media_id is None:
            self._counter += 1
            media_id = str(7_000_000_000_000 + self._counter)
        self.files[media_id] = media
        return media_id

    def lookup(self, media_id: str, base_url: str) -> dict[str, Any] | None:
        found = self.files.get(media_id)
        if found is None:
            return None
        return {
            "messaging_product": "whatsapp",
            "url": f"{base_url.rstrip('/')}/_sim/media/{media_id}/download",
            "mime_type": found.mime_type,
            "sha256": found.sha256_hex,
            "file_size": len(found.data),
            "id": media_id,
        }


def sample_file(kind: str, argument: dict[str, Any]) -> StoredMedia:
    """The bytes a simulated customer sends: given as `data_base64`, or a small sample."""
    mime_type = str(argument.get("mime_type") or "")
    given = argument.get("data_base64")
    if isinstance(given, str) and given:
        return StoredMedia(base64.b64decode(given), mime_type or "application/octet-stream")
    if kind in ("image", "sticker"):
        return StoredMedia(sample_png(), mime_type or "image/png")
    if kind == "document":
        return StoredMedia(SAMPLE_PDF, mime_type or "application/pdf")
    return StoredMedia(f"simulated {kind}".encode(), mime_type or "application/octet-stream")


def sample_png(
    width: int = 48, height: int = 48, rgb: tuple[int, int, int] = (18, 140, 126)
) -> bytes:
    """A valid PNG of one colour: something a browser really draws."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
