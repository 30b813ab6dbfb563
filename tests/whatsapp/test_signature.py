"""X-Hub-Signature-256 over the raw body, and the GET verification handshake."""

from __future__ import annotations

import hashlib
import hmac

from connectors.whatsapp.signature import (
    SignatureVerdict,
    sign,
    verification_handshake,
    verify_signature,
)

SECRET = "app-secret-123"
BODY = b'{"object":"whatsapp_business_account","entry":[{"name":"Jos\\u00e9"}]}'


def test_sign_is_hmac_sha256_of_the_raw_bytes_in_lowercase_hex() -> None:
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET) == "sha256=" + expected


def test_a_good_signature_is_valid() -> None:
    verdict = verify_signature(BODY, sign(BODY, SECRET), SECRET)
    assert verdict is SignatureVerdict.VALID
    assert verdict.accepted


def test_a_signature_made_with_another_secret_is_invalid() -> None:
    verdict = verify_signature(BODY, sign(BODY, "someone-else"), SECRET)
    assert verdict is SignatureVerdict.INVALID
    assert not verdict.accepted


def test_a_tampered_body_is_invalid() -> None:
    header = sign(BODY, SECRET)
    tampered = BODY.replace(b"Jos", b"Joe")
    assert verify_signature(tampered, header, SECRET) is SignatureVerdict.INVALID


def test_re_encoding_the_json_breaks_the_signature() -> None:
    # Why the route must hand over the raw bytes: the same JSON, decoded to UTF-8, differs.
    header = sign(BODY, SECRET)
    reencoded = BODY.decode().replace("\\u00e9", "é").encode()
    assert verify_signature(reencoded, header, SECRET) is SignatureVerdict.INVALID


def test_a_missing_or_foreign_header_is_missing() -> None:
    assert verify_signature(BODY, None, SECRET) is SignatureVerdict.MISSING
    assert verify_signature(BODY, "", SECRET) is SignatureVerdict.MISSING
    sha1 = "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    assert verify_signature(BODY, sha1, SECRET) is SignatureVerdict.MISSING


def test_no_secret_configured_refuses_even_a_signed_body() -> None:
    for secret in (None, ""):
        verdict = verify_signature(BODY, sign(BODY, "anything"), secret)
        assert verdict is SignatureVerdict.NO_SECRET
        assert not verdict.accepted


def test_garbage_in_the_header_does_not_raise() -> None:
    assert verify_signature(BODY, "sha256=zz\u00e9\u0000", SECRET) is SignatureVerdict.INVALID


def test_handshake_answers_the_challenge_as_plain_text() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    answer = verification_handshake(params, "tok")
    assert (answer.status, answer.body, answer.accepted) == (200, "1158201444", True)


def test_handshake_accepts_the_underscore_spelling() -> None:
    params = {"hub_mode": "subscribe", "hub_verify_token": "tok", "hub_challenge": "42"}
    assert verification_handshake(params, "tok").body == "42"


def test_handshake_refuses_a_wrong_token_a_wrong_mode_or_no_configured_token() -> None:
    good = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1"}
    assert verification_handshake({**good, "hub.verify_token": "nope"}, "tok").status == 403
    assert verification_handshake({**good, "hub.mode": "unsubscribe"}, "tok").status == 403
    assert verification_handshake(good, None).status == 403
    assert verification_handshake(good, "").status == 403
    assert verification_handshake({}, "tok").status == 403
