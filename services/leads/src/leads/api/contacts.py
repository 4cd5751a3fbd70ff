"""Contacts: people at companies, with consent flags."""

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlmodel import select

from leads.api.roles import CONTACT_WRITERS, READERS
from leads.schemas.leads import ContactIn, ContactOut, ContactPage, ContactPatch
from leads.tables import CompanyRow, ContactRow
from salesflow.api import Problem, conflict, not_found
from salesflow.api.etag import IF_MATCH_REQUIRED, require_if_match, set_etag
from salesflow.api.idempotency import DECLARED as IDEMPOTENCY_KEY
from salesflow.api.idempotency import run_idempotent
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require

router = APIRouter(tags=["contacts"])


@router.post(
    "/contacts",
    response_model=ContactOut,
    status_code=201,
    summary="Add a contact",
    openapi_extra=IDEMPOTENCY_KEY,
)
async def create_contact(
    body: ContactIn,
    request: Request,
    principal: Principal = Depends(require(*CONTACT_WRITERS)),
):
    async def create(session):  # type: ignore[no-untyped-def]
        if await session.get(CompanyRow, body.company_id) is None:
            raise Problem(422, f"unknown company_id {body.company_id}")
        email_key = body.email.lower() if body.email else None
        if (
            email_key
            and (
                await session.exec(select(ContactRow.id).where(ContactRow.email_key == email_key))
            ).first()
        ):
            raise conflict("a contact with this e-mail exists")
        now = datetime.now(UTC)
        row = ContactRow(
            id=str(uuid.uuid4()),
            **body.model_dump(),
            email_key=email_key,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        return 201, ContactOut.model_validate(row, from_attributes=True)

    return await run_idempotent(request.app.state.db, request, principal.sub, body, create)


@router.get("/contacts", response_model=ContactPage, summary="Contacts of a company")
async def list_contacts(
    request: Request,
    company_id: int = Query(ge=1, le=2**62),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> ContactPage:
    stmt = select(ContactRow).where(ContactRow.company_id == company_id)
    async with request.app.state.db.session() as session:
        rows = (await session.exec(keyset(stmt, page, ContactRow.created_at, ContactRow.id))).all()
    items, cursor = page_of(list(rows), page, lambda r: (r.created_at.isoformat(), r.id))
    return ContactPage(
        items=[ContactOut.model_validate(r, from_attributes=True) for r in items],
        next_cursor=cursor,
    )


@router.get("/contacts/{contact_id}", response_model=ContactOut, summary="One contact")
async def get_contact(
    request: Request,
    response: Response,
    contact_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*READERS)),
) -> ContactOut:
    async with request.app.state.db.session() as session:
        row = await session.get(ContactRow, contact_id)
    if row is None:
        raise not_found("contact")
    set_etag(response, row.version)
    return ContactOut.model_validate(row, from_attributes=True)


@router.patch(
    "/contacts/{contact_id}",
    response_model=ContactOut,
    summary="Change a contact (If-Match)",
    openapi_extra=IF_MATCH_REQUIRED,
)
async def patch_contact(
    body: ContactPatch,
    request: Request,
    response: Response,
    contact_id: str = Path(max_length=36),
    principal: Principal = Depends(require(*CONTACT_WRITERS)),
) -> ContactOut:
    async with request.app.state.db.session() as session, session.begin():
        row = await session.get(ContactRow, contact_id, with_for_update=True)
        if row is None:
            raise not_found("contact")
        require_if_match(request, row.version)
        for name, value in body.model_dump(exclude_unset=True).items():
            if value is None and name in (
                "name",
                "consent_email",
                "consent_phone",
                "consent_tracking",
            ):
                raise Problem(422, f"{name} cannot be removed")
            setattr(row, name, value)
        row.version += 1
        row.updated_at = datetime.now(UTC)
        session.add(row)
    set_etag(response, row.version)
    return ContactOut.model_validate(row, from_attributes=True)
