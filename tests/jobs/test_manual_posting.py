"""The manual worklist: mark posted by hand, or push through the writeback; never both."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests import graphql_ops as ops
from tests.fixtures.practice import Practice, postings_with
from tests.fixtures.stack import ClientFactory

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
async def manual_item(practice: Practice) -> dict[str, Any]:
    await practice.settings(sources=[{"source": "COLLECTION", "enabled": True, "mode": "MANUAL"}])
    submitted = (await practice.submit(source="COLLECTION"))["writeback"]
    assert submitted["status"] == "AWAITING_MANUAL"
    return submitted  # type: ignore[no-any-return]


async def test_marking_posted_records_who_and_the_reference_and_writes_nothing(
    practice: Practice, manual_item: dict[str, Any], opendental_simulator: Any
) -> None:
    result = (
        await practice.staff.execute(
            ops.MARK_WRITEBACK_POSTED, {"id": manual_item["id"], "ref": "PayNum 5512"}
        )
    )["markWritebackPosted"]
    writeback = result["writeback"]
    assert (writeback["status"], writeback["pmsRecordId"]) == ("SUCCEEDED", "PayNum 5512")
    assert writeback["postedManuallyBy"]
    await asyncio.sleep(0.3)
    assert opendental_simulator.state.payments == []


async def test_pushing_through_posts_it_once(
    practice: Practice, manual_item: dict[str, Any], opendental_simulator: Any
) -> None:
    result = (await practice.staff.execute(ops.PUSH_WRITEBACK, {"id": manual_item["id"]}))[
        "pushWriteback"
    ]
    assert result["writeback"]["status"] == "QUEUED"
    done = await practice.wait_for_status(manual_item["id"], "SUCCEEDED")
    assert len(postings_with(opendental_simulator, done["marker"])) == 1


async def test_an_item_pushed_through_can_no_longer_be_marked_and_vice_versa(
    practice: Practice, manual_item: dict[str, Any]
) -> None:
    await practice.staff.execute(ops.PUSH_WRITEBACK, {"id": manual_item["id"]})
    marked = (
        await practice.staff.execute(
            ops.MARK_WRITEBACK_POSTED, {"id": manual_item["id"], "ref": "1"}
        )
    )["markWritebackPosted"]
    assert marked["__typename"] == "InvalidStateError"

    other = (await practice.submit(source="COLLECTION"))["writeback"]
    await practice.staff.execute(ops.MARK_WRITEBACK_POSTED, {"id": other["id"], "ref": "77"})
    pushed = (await practice.staff.execute(ops.PUSH_WRITEBACK, {"id": other["id"]}))[
        "pushWriteback"
    ]
    assert pushed["__typename"] == "InvalidStateError"


async def test_a_blank_reference_is_refused(
    practice: Practice, manual_item: dict[str, Any]
) -> None:
    result = (
        await practice.staff.execute(
            ops.MARK_WRITEBACK_POSTED, {"id": manual_item["id"], "ref": "  "}
        )
    )["markWritebackPosted"]
    assert result["__typename"] == "ValidationError"


async def test_partners_and_other_organizations_cannot_act_on_the_worklist(
    practice: Practice, manual_item: dict[str, Any], client_for: ClientFactory
) -> None:
    key = (await practice.admin.execute(ops.CREATE_API_KEY, {"name": "p", "role": "PARTNER"}))[
        "createApiKey"
    ]
    partner = client_for(key["secret"])
    result = (await partner.execute(ops.PUSH_WRITEBACK, {"id": manual_item["id"]}))["pushWriteback"]
    assert result["__typename"] == "ForbiddenError"
