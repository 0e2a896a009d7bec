from __future__ import annotations

from arq.connections import ArqRedis

from jobs.names import POST_WRITEBACK, posting_job_id


class ArqJobQueue:
    def __init__(self, arq: ArqRedis) -> None:
        self._arq = arq

    async def enqueue_posting(self, kind: str, intent_id: str, defer_seconds: float = 0.0) -> None:
        # A deterministic id: while one job for the intent waits or runs, another is refused.
        await self._arq.enqueue_job(
            POST_WRITEBACK,
            kind,
            intent_id,
            _job_id=posting_job_id(kind, intent_id),
            _defer_by=defer_seconds or None,
        )
