from __future__ import annotations

from arq.connections import ArqRedis

from domain.job_names import POST_WRITEBACK, posting_job_id


class ArqJobQueue:
    def __init__(self, arq: ArqRedis) -> None:
        self._arq = arq

    async def enqueue(
        self, function: str, *args: str, job_id: str, defer_seconds: float = 0.0
    ) -> None:
        # Deterministic ids: while one job with the id waits or runs, another is refused.
        await self._arq.enqueue_job(
            function, *args, _job_id=job_id, _defer_by=defer_seconds or None
        )

    async def enqueue_posting(self, kind: str, intent_id: str, defer_seconds: float = 0.0) -> None:
        await self.enqueue(
            POST_WRITEBACK,
            kind,
            intent_id,
            job_id=posting_job_id(kind, intent_id),
            defer_seconds=defer_seconds,
        )
