"""The plain-data offer of the Core hot paths mirrors the ``offers`` table column for column:
a column added to ``OfferRow`` but not to ``OfferState`` would be lost on create."""

from dataclasses import fields

from offers.state import OFFERS, OfferState


def test_offer_state_has_exactly_the_columns_of_the_offers_table() -> None:
    assert [f.name for f in fields(OfferState)] == list(OFFERS.c.keys())
