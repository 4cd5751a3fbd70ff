"""Direct orders (POST /orders) from request to draft: master data for many requests is read
in two queries, then each request becomes a draft without further I/O (or a 422)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import customers, drafts, pricelist
from orders.domain.money import fits, largest
from orders.intake import OrderDraft
from orders.schemas import OrderIn
from orders.tables import CustomerRow, PriceRow
from salesflow.api.errors import Problem
from salesflow.auth import Principal
from salesflow.contracts.events.orders import OrderChannel

# built once (bound parameters, expanded to the IN lists): run for every intake batch
_PRICES = select(PriceRow).where(
    PriceRow.sku.in_(bindparam("skus", expanding=True)),
    PriceRow.currency.in_(bindparam("currencies", expanding=True)),
)


@dataclass(frozen=True)
class DirectOrder:
    body: OrderIn
    principal: Principal
    channel: OrderChannel
    correlation_id: str
    currency: str


@dataclass(frozen=True)
class MasterData:
    customers: dict[str, CustomerRow]
    prices: dict[tuple[str, str], PriceRow]  # (sku, currency)
    docs: dict[str, drafts.CustomerDocs] = field(default_factory=dict)  # filled as needed

    def customer_docs(self, customer: CustomerRow) -> drafts.CustomerDocs:
        docs = self.docs.get(customer.customer_id)
        if docs is None:
            docs = self.docs[customer.customer_id] = drafts.customer_docs(customer)
        return docs


async def load_master_data(session: AsyncSession, orders: list[DirectOrder]) -> MasterData:
    known = await customers.load_customers(session, (o.body.customer_id for o in orders))
    skus = sorted({line.sku for o in orders for line in o.body.lines})
    currencies = sorted({o.currency for o in orders})
    rows = await session.exec(_PRICES, params={"skus": skus, "currencies": currencies})
    return MasterData(known, {(r.sku, r.currency): r for r in rows.all()})


def draft_of(order: DirectOrder, master: MasterData) -> OrderDraft:
    body = order.body
    customer = master.customers.get(body.customer_id)
    if customer is None:
        raise Problem(
            422,
            f"unknown customer {body.customer_id}: direct intake is for existing customers",
            errors=[{"loc": ["body", "customer_id"], "msg": "unknown customer"}],
        )
    prices = {
        line.sku: master.prices[(line.sku, order.currency)]
        for line in body.lines
        if (line.sku, order.currency) in master.prices
    }
    lines = pricelist.price_lines(body.lines, prices, order.currency)
    draft = drafts.from_request(
        body,
        customer,
        lines,
        order.currency,
        order.channel,
        order.principal,
        order.correlation_id,
        master.customer_docs(customer),
    )
    gross = draft.totals.gross.amount
    if not fits(gross, order.currency):  # every line fits, but not their sum
        raise Problem(
            422,
            f"the order's gross total {gross} {order.currency} exceeds "
            f"{largest(order.currency)} {order.currency}, the largest amount an order may have",
            errors=[{"loc": ["body", "lines"], "msg": "order total too large"}],
        )
    return draft
