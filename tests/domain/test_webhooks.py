"""The webhook signature scheme and URL rules, as a receiver and an admin meet them."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from domain.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    encode_body,
    generate_secret,
    signature,
    signed_headers,
    url_problem,
    verify_signature,
)

SECRET = "whsec_test"
BODY = b'{"event":"notification.opened","id":"d1"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1700000000, BODY) == f"sha256={expected}"


def test_a_signed_delivery_verifies() -> None:
    headers = signed_headers(SECRET, "notification.opened", "d1", BODY)
    assert verify_signature(SECRET, headers[TIMESTAMP_HEADER], BODY, headers[SIGNATURE_HEADER])


@pytest.mark.parametrize(
    ("secret", "body"),
    [("whsec_other", BODY), (SECRET, BODY.replace(b"opened", b"resolved"))],
)
def test_another_secret_or_a_changed_body_does_not_verify(secret: str, body: bytes) -> None:
    headers = signed_headers(SECRET, "notification.opened", "d1", BODY)
    assert not verify_signature(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])


def test_an_old_timestamp_is_refused_as_a_replay() -> None:
    sent_at = int(time.time()) - 301
    assert not verify_signature(SECRET, sent_at, BODY, signature(SECRET, sent_at, BODY))
    assert verify_signature(SECRET, sent_at, BODY, signature(SECRET, sent_at, BODY), tolerance=600)


@pytest.mark.parametrize("header", [None, "", "md5=abc", "sha256=00", "deadbeef"])
def test_a_missing_or_malformed_signature_does_not_verify(header: str | None) -> None:
    assert not verify_signature(SECRET, int(time.time()), BODY, header)


def test_a_malformed_timestamp_does_not_verify() -> None:
    assert not verify_signature(SECRET, "yesterday", BODY, signature(SECRET, 0, BODY))


def test_the_body_is_the_same_bytes_for_the_same_payload() -> None:
    assert encode_body({"b": 1, "a": [1, 2]}) == encode_body({"a": [1, 2], "b": 1})
    assert encode_body({"a": 1}) == b'{"a":1}'


def test_secrets_are_new_each_time() -> None:
    assert generate_secret() != generate_secret()


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hooks",
        "https://example.com:8443/hooks?practice=1",
        "http://localhost:9000/hooks",
        "http://127.0.0.1:9000/hooks",
        "http://[::1]/hooks",
    ],
)
def test_https_urls_and_http_to_this_machine_are_accepted(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hooks",
        "http://10.0.0.5/hooks",
        "ftp://example.com/hooks",
        "https://user:pw@example.com/hooks",
        "https:///hooks",
        "https://example.com/hooks#part",
        "https://example.com:99999/hooks",
        "https://example.com/" + "a" * 500,
        "https://exa mple.com/",
        "",
    ],
)
def test_other_urls_are_refused_with_a_reason(url: str) -> None:
    assert url_problem(url)
