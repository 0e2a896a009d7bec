"""Job names and ids shared by producers and the worker."""

from __future__ import annotations

POST_WRITEBACK = "post_writeback"
SWEEP_DUE_WRITEBACKS = "sweep_due_writebacks"


def posting_job_id(kind: str, intent_id: str) -> str:
    return f"post:{kind}:{intent_id}"
