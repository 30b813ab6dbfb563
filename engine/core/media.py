"""Media files as a port, and the pure rules for what may be sent, kept and shown.

WhatsApp accepts a fixed list of file types, each with a size limit; the same list
decides what staff may attach, what an inbound download may store, and how a stored
file is served (an allow-listed Content-Type, inline only for real images).

Standard library only: `engine.core` is the pure heart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import quote

from engine.core.messaging import MediaKind

MB = 1024 * 1024

# Kazi keeps media bytes in its database (several servers, no shared disk) and reads a
# file whole to serve it, so it caps every file at 16 MB. WhatsApp's own limits are
# lower for images (5 MB) and stickers (500 KB); documents may be 100 MB on WhatsApp,
# and Kazi refuses the part above 16 MB with a clear message instead of storing it.
STORE_LIMIT = 16 * MB

# WhatsApp Cloud API's supported media: type → (kind, WhatsApp's size limit).
SUPPORTED: dict[str, tuple[MediaKind, int]] = {
    "image/jpeg": ("image", 5 * MB),
    "image/png": ("image", 5 * MB),
    "image/webp": ("sticker", 500 * 1024),
    "video/mp4": ("video", 16 * MB),
    "video/3gpp": ("video", 16 * MB),
    "audio/aac": ("audio", 16 * MB),
    "audio/amr": ("audio", 16 * MB),
    "audio/mpeg": ("audio", 16 * MB),
    "audio/mp4": ("audio", 16 * MB),
    "audio/ogg": ("audio", 16 * MB),
    "text/plain": ("document", 100 * MB),
    "application/pdf": ("document", 100 * MB),
    "application/msword": ("document", 100 * MB),
    "application/vnd.ms-excel": ("document", 100 * MB),
    "application/vnd.ms-powerpoint": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "document",
        100 * MB,
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "document",
        100 * MB,
    ),
}

# Staff attach these from the conversation page; stickers are the customer's own art.
ATTACHABLE = {mime: kind for mime, (kind, _) in SUPPORTED.items() if kind != "sticker"}

INLINE_IMAGES = ("image/jpeg", "image/png", "image/webp", "image/gif")

MAX_FILE_NAME = 240
MAX_CAPTION = 1024  # WhatsApp's caption limit


class MediaRefused(ValueError):
    """A file may not be attached or kept; the message says why, for a person."""


def base_type(mime_type: str | None) -> str:
    """`image/jpeg; charset=x` → `image/jpeg`, lower case; "" when absent."""
    return (mime_type or "").split(";", 1)[0].strip().lower()


def limit_for(mime_type: str) -> int:
    """The most bytes Kazi keeps of this type: WhatsApp's limit, capped at STORE_LIMIT."""
    supported = SUPPORTED.get(base_type(mime_type))
    return min(supported[1], STORE_LIMIT) if supported else STORE_LIMIT


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes really are (from their signature), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


@dataclass(frozen=True)
class Attachment:
    kind: MediaKind
    mime_type: str
    file_name: str


def check_attachment(data: bytes, mime_type: str | None, file_name: str | None) -> Attachment:
    """What staff may send: a supported type, within its limit, an image that is one."""
    declared = base_type(mime_type)
    if not data:
        raise MediaRefused("the file is empty")
    kind = ATTACHABLE.get(declared)
    if kind is None:
        allowed = ", ".join(sorted(ATTACHABLE))
        raise MediaRefused(
            f"WhatsApp cannot send {declared or 'this kind of'} files; allowed: {allowed}"
        )
    limit = limit_for(declared)
    if len(data) > limit:
        raise MediaRefused(
            f"the file is {len(data) / MB:.1f} MB; {declared} files may be at most "
            f"{limit / MB:g} MB"
        )
    if kind == "image" and sniff_image(data) != declared:
        raise MediaRefused(f"the file is not a {declared} image")
    return Attachment(kind, declared, clean_file_name(file_name) or f"file.{declared[6:]}")


def clean_file_name(name: str | None) -> str:
    """A file name as given, minus paths and control characters, not too long.
    Still untrusted: it is escaped wherever it is shown."""
    if not name:
        return ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name.strip()[:MAX_FILE_NAME]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_matches(data: bytes, expected: str | None) -> bool:
    """WhatsApp names a file's SHA-256 in hex (media lookups) or base64 (webhooks)."""
    if not expected:
        return True
    raw = hashlib.sha256(data).digest()
    if expected.lower() == raw.hex():
        return True
    try:
        return base64.b64decode(expected, validate=True) == raw
    except (binascii.Error, ValueError):
        return False


@dataclass(frozen=True)
class Serving:
    """How a stored file goes out: its Content-Type and Content-Disposition."""

    content_type: str
    disposition: str
    inline: bool


def serving(mime_type: str, file_name: str | None, data: bytes) -> Serving:
    """Inline only for an image whose bytes say so; an allow-listed type, else octet-stream."""
    declared = base_type(mime_type)
    sniffed = sniff_image(data[:16])
    inline = sniffed is not None and declared in INLINE_IMAGES
    if inline and sniffed is not None:
        content_type = sniffed
    elif declared in SUPPORTED and not declared.startswith("image/"):
        content_type = declared
    else:
        content_type = "application/octet-stream"
    return Serving(content_type, content_disposition(inline, file_name or "file"), inline)


def content_disposition(inline: bool, file_name: str) -> str:
    """RFC 6266 with an RFC 5987 `filename*`: an ASCII fallback that cannot break out
    of its quotes, and the real name percent-encoded."""
    name = clean_file_name(file_name) or "file"
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%;' else "_" for ch in name)
    encoded = quote(name, safe="")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


# --- the port ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchedMedia:
    data: bytes
    mime_type: str
    sha256: str | None  # as the provider named it (hex or base64), to verify


@dataclass(frozen=True)
class MediaUploaded:
    media_id: str


@dataclass(frozen=True)
class MediaFailure:
    """A download or upload that did not happen; `retryable` says if trying later may help."""

    retryable: bool
    code: str
    meaning: str
    detail: str = ""


MediaFetch = FetchedMedia | MediaFailure
MediaUpload = MediaUploaded | MediaFailure
Origin = Literal["inbound", "outbound"]


class MediaTransfer(Protocol):
    def fetch_media(self, media_id: str, *, max_bytes: int) -> MediaFetch:
        """Download the provider's file `media_id`, at most `max_bytes` of it."""
        ...

    def upload_media(self, data: bytes, *, mime_type: str, file_name: str) -> MediaUpload:
        """Upload a file for sending; its provider media id."""
        ...
