"""``/customers``: the existing customers that may order directly, and their credit limits."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import customers
from orders.api.access import visible_customers
from orders.config import Settings
from orders.schemas import CustomerIn, CustomerOut, CustomerPage
from orders.tables import CustomerRow
from salesflow.api import conflict, not_found
from salesflow.api.etag import IF_MATCH_TO_REPLACE, require_if_match, set_etag
from salesflow.api.pagination import PageParams, keyset, page_of, page_params
from salesflow.auth import Principal, require
from salesflow.contracts.events.common import CompanySnapshot
from salesflow.contracts.types import Money

router = APIRouter(tags=["customers"])
READERS = ("order_desk", "sales_manager", "analyst")


def _default_limit(settings: Settings) -> Money | None:
    if settings.default_credit_limit is None:
        return None
    return Money(amount=settings.default_credit_limit, currency=settings.default_credit_currency)


async def _out(session: AsyncSession, row: CustomerRow, settings: Settings) -> CustomerOut:
    own = customers.credit_limit(row, None)
    effective = customers.credit_limit(row, _default_limit(settings))
    open_value = None
    if effective is not None:
        values = await customers.open_values(session, [(row.customer_id, effective.currency)])
        amount = values.get((row.customer_id, effective.currency), Decimal(0))
        open_value = Money(amount=amount, currency=effective.currency)
    return CustomerOut(
        customer_id=row.customer_id,
        name=row.name,
        company=row.snapshot,
        account_id=row.account_id,
        owner=row.owner,
        team=row.team,
        bill_to=row.bill_to,
        ship_to=row.ship_to,
        delivery_contact=row.delivery_contact,
        credit_limit=own,
        effective_credit_limit=effective,
        open_order_value=open_value,
        source=row.source,
        version=row.version,
        updated_at=row.updated_at,
    )


@router.get("/customers", response_model=CustomerPage, summary="Customers that may order")
async def list_customers(
    request: Request,
    name: str | None = Query(None, max_length=100, description="Name contains (any case)"),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require(*READERS)),
) -> CustomerPage:
    stmt = visible_customers(select(CustomerRow), principal)
    if name:
        # "contains" means literally: % and _ in the name are not wildcards
        literal = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(CustomerRow.name.ilike(f"%{literal}%", escape="\\"))
    async with request.app.state.db.session() as session:
        rows = (
            await session.exec(keyset(stmt, page, CustomerRow.customer_id, CustomerRow.customer_id))
        ).all()
        items, cursor = page_of(list(rows), page, lambda r: (r.customer_id, r.customer_id))
        out = [await _out(session, r, request.app.state.settings) for r in items]
    return CustomerPage(items=out, next_cursor=cursor)


@router.get("/customers/{customer_id}", response_model=CustomerOut, summary="One customer")
async def get_customer(
    request: Request,
    response: Response,
    customer_id: str = Path(max_length=128),
    principal: Principal = Depends(require(*READERS)),
) -> CustomerOut:
    async with request.app.state.db.session() as session:
        stmt = select(CustomerRow).where(CustomerRow.customer_id == customer_id)
        row = (await session.exec(visible_customers(stmt, principal))).first()
        if row is None:  # also another team's customer: not to be seen, like its orders
            raise not_found("customer")
        out = await _out(session, row, request.app.state.settings)
    set_etag(response, row.version)
    return out


@router.put(
    "/customers/{customer_id}",
    response_model=CustomerOut,
    responses={201: {"model": CustomerOut, "description": "Created"}},
    summary="Create or update a customer's master data and credit limit",
    description="Updating an existing customer needs `If-Match` with its ETag.",
    openapi_extra=IF_MATCH_TO_REPLACE,
)
async def put_customer(
    body: CustomerIn,
    request: Request,
    response: Response,
    customer_id: str = Path(min_length=1, max_length=128),
    principal: Principal = Depends(require("order_desk")),
) -> CustomerOut:
    now = request.app.state.clock()
    snapshot = CompanySnapshot(company_id=customer_id, **body.company.model_dump())
    data = {
        "name": body.company.name,
        "snapshot": snapshot.model_dump(mode="json"),
        "account_id": body.account_id,
        "owner": body.owner,
        "team": body.team,
        "bill_to": body.bill_to.value().model_dump(mode="json") if body.bill_to else None,
        "ship_to": body.ship_to.value().model_dump(mode="json") if body.ship_to else None,
        "delivery_contact": (
            body.delivery_contact.value().model_dump(mode="json") if body.delivery_contact else None
        ),
        **customers.limit_to_columns(
            Money(amount=body.credit_limit.amount, currency=body.credit_limit.currency)
            if body.credit_limit
            else None
        ),
    }
    try:
        async with request.app.state.db.session() as session, session.begin():
            row = (await customers.lock_customers(session, [customer_id])).get(customer_id)
            if row is None:
                row = CustomerRow(
                    customer_id=customer_id,
                    source="order_desk",
                    source_time=now,
                    created_at=now,
                    updated_at=now,
                    **data,
                )
                response.status_code = 201
            else:
                require_if_match(request, row.version)
                for field, value in data.items():
                    setattr(row, field, value)
                row.source, row.source_time = "order_desk", now
                row.version += 1
                row.updated_at = now
            session.add(row)
            await session.flush()
            out = await _out(session, row, request.app.state.settings)
    except IntegrityError:  # created concurrently by a twin request
        raise conflict("changed concurrently; fetch it and retry") from None
    set_etag(response, row.version)
    return out
