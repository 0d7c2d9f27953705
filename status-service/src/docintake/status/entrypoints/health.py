"""Operational endpoints: liveness, readiness (broker and Neo4j reachable) and Prometheus metrics."""

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from docintake.platform.web import error_response
from docintake.status.bootstrap import Dependencies

READINESS_TIMEOUT_SECONDS = 2.0

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    dependencies: Dependencies | None = getattr(request.app.state, "dependencies", None)
    if dependencies is None:
        return error_response(503, "NOT_READY", "the service is starting")
    unreachable = [name for name, reachable in (
        ("rabbitmq", await dependencies.broker.ping(timeout=READINESS_TIMEOUT_SECONDS)),
        ("neo4j", await _neo4j_reachable(dependencies)),
    ) if not reachable]
    if unreachable:
        return error_response(503, "NOT_READY", f"unreachable: {', '.join(unreachable)}")
    return JSONResponse({"status": "ready"})


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _neo4j_reachable(dependencies: Dependencies) -> bool:
    try:
        await asyncio.wait_for(dependencies.repo.ping(), READINESS_TIMEOUT_SECONDS)
    except Exception:  # noqa: BLE001 - any failure means not reachable
        return False
    return True
