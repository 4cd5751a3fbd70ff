"""Completing implementation tasks (installation, commissioning, training …)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fulfillment import outgoing, store, tracking
from fulfillment.config import Settings
from fulfillment.domain import progress
from fulfillment.domain.progress import TaskStatus
from fulfillment.store import Plan
from fulfillment.tables import TaskRow
from salesflow.auth import Principal


class TaskNotFound(Exception):
    pass


class TaskRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def complete_task(
    session: AsyncSession,
    settings: Settings,
    task_id: str,
    principal: Principal,
    *,
    see_all: tuple[str, ...],
    completed_at: datetime | None,
    note: str | None,
    now: datetime,
) -> tuple[TaskRow, Plan]:
    # only the plan id first: the task itself is read after the plan is locked
    fulfillment_id = (
        await session.exec(select(TaskRow.fulfillment_id).where(TaskRow.id == task_id))
    ).first()
    plan = None if fulfillment_id is None else await store.lock_plan(session, fulfillment_id)
    if plan is None or not principal.can_see(plan.row.owner, plan.row.team, readers=see_all):
        raise TaskNotFound(task_id)
    task = next(t for t in plan.tasks if t.id == task_id)
    refusal = progress.task_completion_refusal(TaskStatus(task.status), plan.status)
    if refusal:
        raise TaskRefused(refusal)
    done_at = completed_at or now
    task.status = TaskStatus.DONE
    task.completed_at = done_at
    task.completed_by = principal.sub
    task.note = note
    task.version += 1
    task.updated_at = now
    before = plan.status
    plan.touch(now)
    store.add_timeline(
        session,
        plan,
        "task_completed",
        occurred_at=done_at,
        recorded_at=now,
        channel="api",
        actor=principal.sub,
        task_id=task.id,
        detail={"kind": task.kind, "line_no": task.line_no, "note": note},
    )
    # the service counterpart of a dispatch: orders closes the cancellation window on it; before
    # ``fulfillment.completed`` (which may follow in this unit of work) with a lower version
    data = outgoing.task_completed(plan, task)
    tracking.emit_for(session, settings, plan, outgoing.TASK_COMPLETED, data, cause=None)
    tracking.complete_if_done(session, settings, plan, before, now, cause=None)
    return task, plan
