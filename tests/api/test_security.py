"""Query limits, error masking and production hardening of the GraphQL edge."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.practice import Practice
from tests.fixtures.stack import Api


async def test_too_many_aliases_are_rejected_before_anything_runs(practice: Practice) -> None:
    query = "{ " + " ".join(f"a{i}: locations {{ id }}" for i in range(50)) + " }"
    errors = await practice.staff.errors(query)
    assert errors and "aliases" in errors[0]["message"]


class TestDepthLimit:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        # The schema has no cycles, so its deepest real query is shallow; a low limit here
        # shows the limiter runs (introspection is off in production).
        return {"max_query_depth": 3}

    async def test_too_deep_queries_are_rejected(self, practice: Practice) -> None:
        query = "{ writebacks(first: 1) { edges { node { attempts { number } } } } }"
        errors = await practice.staff.errors(query)
        assert errors and "exceeds maximum operation depth" in errors[0]["message"]


async def test_fragment_spreads_do_not_bypass_the_alias_limit(practice: Practice) -> None:
    fragment = (
        "fragment F on Query { " + " ".join(f"a{i}: locations {{ id }}" for i in range(40)) + " }"
    )
    errors = await practice.staff.errors("{ ...F } " + fragment)
    assert errors and "aliases" in errors[0]["message"]


async def test_an_unreachable_pms_is_a_readable_error_not_an_internal_one(
    practice: Practice,
) -> None:
    practice.simulator.state.faults.fail_writes_before_commit(count=0)
    practice.simulator.state.faults.throttle_calls(count=5, retry_after=1)
    errors = await practice.staff.errors(
        "query($l: ID!) { pmsPaymentTypes(locationId: $l) { id } }", {"l": practice.location_id}
    )
    assert errors and errors[0]["message"] != "Unexpected error."


async def test_queries_cannot_be_sent_with_get(
    practice: Practice, api: Api, http_client: httpx.AsyncClient
) -> None:
    response = await http_client.get(
        api.http_url,
        params={"query": "{ me { role } }"},
        headers={"Authorization": f"Bearer {practice.staff.key}"},
    )
    assert "role" not in response.text


class TestRequestSize:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"max_document_bytes": 3 * 1024}

    async def test_a_body_above_the_limit_is_refused_before_it_is_read(
        self, practice: Practice, api: Api, http_client: httpx.AsyncClient
    ) -> None:
        limit = 4 * 1024 + 1024 * 1024
        padding = "x" * (limit + 1)
        headers = {"Authorization": f"Bearer {practice.staff.key}"}
        response = await http_client.post(
            api.http_url, json={"query": "{ me { role } }", "x": padding}, headers=headers
        )
        assert response.status_code == 413

        async def chunked() -> Any:
            for _ in range(3):
                yield padding[: limit // 2].encode()

        streamed = await http_client.post(api.http_url, content=chunked(), headers=headers)
        assert streamed.status_code == 413

    async def test_a_chunked_body_within_the_limit_is_served(
        self, practice: Practice, api: Api, http_client: httpx.AsyncClient
    ) -> None:
        async def chunked() -> Any:
            yield b'{"query": "{ me '
            yield b'{ role } }"}'

        response = await http_client.post(
            api.http_url,
            content=chunked(),
            headers={
                "Authorization": f"Bearer {practice.staff.key}",
                "Content-Type": "application/json",
            },
        )
        assert response.json()["data"]["me"]["role"] == "STAFF"


class TestProduction:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"production": True}

    async def test_introspection_is_disabled(self, practice: Practice) -> None:
        errors = await practice.staff.errors("{ __schema { types { name } } }")
        assert errors and "introspection" in errors[0]["message"].lower()

    async def test_graphiql_is_not_served(self, api: Api, http_client: httpx.AsyncClient) -> None:
        response = await http_client.get(api.http_url, headers={"Accept": "text/html"})
        assert response.status_code == 404
