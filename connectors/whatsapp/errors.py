"""WhatsApp error codes → retryable or permanent, with a meaning staff can act on.

Meta publishes no retryable flag; the verdicts are ours, from what each code means
(the reference's section 9). Unknown codes: a 5xx answer or a missing answer may
pass, so retry; anything else is treated as permanent until a person looks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorClass:
    code: str
    retryable: bool
    meaning: str


def _table(*rows: tuple[int, bool, str]) -> dict[int, ErrorClass]:
    return {code: ErrorClass(str(code), retryable, meaning) for code, retryable, meaning in rows}


RETRY, PERMANENT = True, False

ERRORS: dict[int, ErrorClass] = _table(
    (
        0,
        PERMANENT,
        "WhatsApp could not authenticate the app: the access token expired or was revoked.",
    ),
    (3, PERMANENT, "The app lacks the capability or permission for this call."),
    (4, RETRY, "Too many API calls from this app; wait a few minutes."),
    (10, PERMANENT, "A permission was not granted or was removed."),
    (100, PERMANENT, "A parameter is invalid (sometimes: the number is not on WhatsApp)."),
    (190, PERMANENT, "The access token expired; refresh it, then retry."),
    (
        368,
        PERMANENT,
        "The WhatsApp Business Account is blocked for policy violations; stop sending.",
    ),
    (80007, RETRY, "The WhatsApp Business Account hit its rate limit; wait a few minutes."),
    (130429, RETRY, "Too many messages per second from this number; slowing down."),
    (130472, PERMANENT, "The customer is in a Meta experiment group; do not resend now."),
    (131000, RETRY, "Something went wrong at WhatsApp; retrying a few times."),
    (131005, PERMANENT, "Access denied: a permission was not granted or was removed."),
    (131008, PERMANENT, "A required parameter is missing from the message (a bug to report)."),
    (
        131009,
        PERMANENT,
        "A parameter value is not valid (a bug, or a message id WhatsApp does not know).",
    ),
    (131016, RETRY, "WhatsApp is temporarily unavailable."),
    (131021, PERMANENT, "The recipient is this business's own number."),
    (
        131026,
        PERMANENT,
        "Undeliverable: not a WhatsApp number, or the customer cannot receive it yet.",
    ),
    (131030, PERMANENT, "The recipient is not on the test number's allowed list."),
    (131031, PERMANENT, "The business account is locked; an admin must act."),
    (131042, PERMANENT, "A billing problem on the business account; an admin must fix payment."),
    (131045, PERMANENT, "The phone number's registration is broken (certificate)."),
    (
        131047,
        PERMANENT,
        "Outside the 24-hour window: the customer has not written in 24 hours, send a template.",
    ),
    (
        131048,
        PERMANENT,
        "Sending is restricted after spam reports; check the number's quality rating.",
    ),
    (
        131049,
        PERMANENT,
        "Meta held this marketing message back; wait at least a day before another.",
    ),
    (131050, PERMANENT, "The customer stopped marketing messages."),
    (131051, PERMANENT, "WhatsApp does not support this message type."),
    (131052, PERMANENT, "The customer's media could not be downloaded; ask them to send it again."),
    (131053, PERMANENT, "The media could not be fetched or uploaded; fix the file or link."),
    (131056, RETRY, "Too many messages to this customer in a short time; waiting before the next."),
    (131057, RETRY, "The business account is in maintenance; retrying in a minute."),
    (132000, PERMANENT, "Template parameters do not match the template's placeholders."),
    (132001, PERMANENT, "The template does not exist in this language, or is not approved."),
    (132005, PERMANENT, "The template text is too long once filled in."),
    (132007, PERMANENT, "The template breaks WhatsApp's formatting policy."),
    (132012, PERMANENT, "A template parameter has the wrong type or format."),
    (132015, PERMANENT, "The template is paused for low quality; pick another."),
    (132016, PERMANENT, "The template is disabled; pick another."),
    (
        133010,
        PERMANENT,
        "The phone number is not registered for the Cloud API; an admin must register it.",
    ),
    (135000, PERMANENT, "WhatsApp refused the request (often bad parameters)."),
)

TIMEOUT_MEANING = "WhatsApp did not answer in time: the message may or may not have been sent."
NETWORK_MEANING = "WhatsApp could not be reached; nothing was sent. Retrying."


def classify(code: int | None, http_status: int | None = None) -> ErrorClass:
    """The verdict for a provider error `code`, falling back on the HTTP status."""
    if code is not None and code in ERRORS:
        return ERRORS[code]
    if code is not None and 132000 <= code <= 132999:
        return ErrorClass(
            str(code),
            PERMANENT,
            "The template was refused; check its name, language and parameters.",
        )
    if http_status is not None and (http_status >= 500 or http_status == 429):
        label = str(code) if code is not None else f"http_{http_status}"
        return ErrorClass(label, RETRY, f"WhatsApp answered {http_status}; retrying.")
    label = str(code) if code is not None else f"http_{http_status}" if http_status else "unknown"
    return ErrorClass(
        label, PERMANENT, "WhatsApp refused the message for a reason Kazi does not know."
    )
