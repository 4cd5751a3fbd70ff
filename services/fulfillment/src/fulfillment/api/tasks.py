"""Implementation tasks: the worklist and completing a task."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel import col, select

from fulfillment import tasks
from fulfillment.api.common import READERS, SEE_ALL, TASK_DOERS, now, task_out
from fulfillment.domain.progress import TaskStatus
from fulfillment.schemas import TaskCompleteIn, TaskOut, TaskResult
from fulfillment.tables import FulfillmentRow, TaskRow
from salesflow.api import Problem, not_found
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import Page, PageParams, keyset, page_of, page_params
from salesflow.api.visibility import visible
from salesflow.auth import Principal, require

router = APIRouter(tags=["tasks"])


@router.get("/tasks", response_model=Page[TaskOut], summary="Implementation tasks (worklist)")
async def list_tasks(
    request: Request,
    assignee: str | None = Query(None, max_length=128),
    status: TaskStatus | None = Query(None),
    fulfillment_id: str | None = Query(None, max_length=36),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> Page[TaskOut]:
    stmt = visible(
        select(TaskRow).join(FulfillmentRow, col(FulfillmentRow.id) == TaskRow.fulfillment_id),
        FulfillmentRow,
        principal,
        SEE_ALL,
    )
    if assignee:
        stmt = stmt.where(TaskRow.assignee == assignee)
    if status:
        stmt = stmt.where(TaskRow.status == status)
    if fulfillment_id:
        stmt = stmt.where(TaskRow.fulfillment_id == fulfillment_id)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, TaskRow.created_at, TaskRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return Page[TaskOut](items=[task_out(t) for t in items], next_cursor=cursor)


@router.post(
    "/tasks/{task_id}/complete",
    response_model=TaskResult,
    summary="Complete an implementation task",
    description="Accepts `Idempotency-Key`. 409 if the task is done already or was cancelled "
    "with its order. Publishes `task.completed` (orders refuses cancellation from then on); the "
    "last open item of a plan completes it (`fulfillment.completed`).",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def complete_task(
    request: Request,
    body: TaskCompleteIn | None = None,
    task_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*TASK_DOERS)),
) -> JSONResponse:
    body = body or TaskCompleteIn()
    current = now(request)
    if body.completed_at is not None and body.completed_at > current:
        raise Problem(422, "completed_at lies in the future")

    async def create(session) -> tuple[int, TaskResult]:  # type: ignore[no-untyped-def]
        try:
            task, plan = await tasks.complete_task(
                session,
                request.app.state.settings,
                task_id,
                principal,
                see_all=SEE_ALL,
                completed_at=body.completed_at,
                note=body.note,
                now=current,
            )
        except tasks.TaskNotFound:
            raise not_found("task") from None
        except tasks.TaskRefused as exc:
            raise Problem(409, exc.reason, code="task_not_completable") from None
        return 200, TaskResult(
            task=task_out(task),
            fulfillment_status=plan.row.status,
            fulfillment_version=plan.row.version,
        )

    return await run_idempotent(
        request.app.state.db, request, principal.sub, body.model_dump(mode="json"), create
    )
