"""What makes two failures the same cause: their reason and hint without ids and numbers."""

from __future__ import annotations

from domain.notices import group_key, normalize_cause

REFUSED = "Open Dental refused posting the payment (HTTP 400): PatNum is invalid."
HINT = "Check the patient in the PMS, then retry"


def test_failures_differing_only_in_ids_and_numbers_share_a_group() -> None:
    first = f"{REFUSED} (last: pay 12, [WB:0123456789abcdef])"
    second = f"{REFUSED} (last: pay 98, [WB:fedcba9876543210])"
    a = group_key("loc", "writeback_failed", first, HINT)
    b = group_key("loc", "writeback_failed", second, HINT)
    assert a == b


def test_another_http_status_is_another_cause() -> None:
    assert normalize_cause("refused (HTTP 400)", None) != normalize_cause(
        "refused (HTTP 404)", None
    )


def test_another_hint_location_or_category_is_another_group() -> None:
    key = group_key("loc", "writeback_failed", REFUSED, HINT)
    assert group_key("loc", "writeback_failed", REFUSED, "Ask an admin") != key
    assert group_key("other", "writeback_failed", REFUSED, HINT) != key
    assert group_key("loc", "sync_failed", REFUSED, HINT) != key


def test_uuids_are_left_out_of_the_cause() -> None:
    assert normalize_cause("intent 2f1c7c9e-8d7a-4b8e-9a51-0c1e2d3f4a5b failed", None) == (
        "intent # failed"
    )
