"""The ASGI app: GraphQL over HTTP and graphql-transport-ws, authenticated by API key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from api.context import Context
from api.schema import build_schema
from app.bootstrap import Container
from domain.principal import Principal
from domain.services.tenancy import authenticate


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _principal(container: Container, presented: str | None) -> Principal | None:
    if not presented:
        return None
    async with container.uow() as uow:
        return await authenticate(uow, presented)


class WritebackGraphQL(GraphQL[Context, None]):
    def __init__(self, container: Container) -> None:
        s = container.settings
        super().__init__(
            build_schema(s),
            graphql_ide=None if s.production else "graphiql",
            allow_queries_via_get=False,
            # Only graphql-transport-ws: the legacy protocol had an auth bypass.
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=s.max_subscriptions_per_connection,
        )
        self.container = container

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        principal = request.scope.get("principal") if isinstance(request, Request) else None
        return Context(
            container=self.container, principal=principal, request=request, response=response
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        presented = _bearer(
            str(params.get("Authorization") or params.get("authorization") or "")
        ) or (str(params["apiKey"]) if params.get("apiKey") else None)
        principal = await _principal(self.container, presented)
        if principal is None:
            raise ConnectionRejectionError(
                {"message": "authenticate with an API key in connection_init"}
            )
        context.principal = principal
        return {"organizationId": principal.organization_id, "role": principal.role.value}


class RequireApiKey:
    """Every GraphQL POST must carry a valid key; the GraphiQL page (GET) may not run queries."""

    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app = app
        self.container = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            principal = await _principal(self.container, _bearer(headers.get("authorization")))
            if principal is None:
                response = JSONResponse(
                    {
                        "errors": [
                            {"message": "a valid API key is required (Authorization: Bearer <key>)"}
                        ]
                    },
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
            scope["principal"] = principal
        await self.app(scope, receive, send)


class LimitRequestBody:
    """Refuses request bodies above `max_bytes` (413) before anyone reads or parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # No length given (chunked): read up to the limit, then hand the body on.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"errors": [{"message": f"the request is larger than {self.max_bytes} bytes"}]},
            status_code=413,
        )
        await response(scope, receive, send)


def max_request_bytes(container: Container) -> int:
    """Room for the largest document, base64-encoded, in a GraphQL request."""
    return container.settings.max_document_bytes * 4 // 3 + 1024 * 1024


async def health(_: Request) -> Response:
    return Response(json.dumps({"ok": True}), media_type="application/json")


def create_app(container: Container, *, owns_container: bool = False) -> Starlette:
    graphql = LimitRequestBody(
        RequireApiKey(WritebackGraphQL(container), container), max_request_bytes(container)
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Any]]:
        try:
            yield {}
        finally:
            if owns_container:
                await container.close()

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        lifespan=lifespan,
    )
