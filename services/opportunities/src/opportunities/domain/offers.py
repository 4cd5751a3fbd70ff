"""What an offer event means for its opportunity.

The service keeps the latest known status and version of every offer of an opportunity (from
offer events; their ``version`` grows with every change, so an older one is stale). An offer is
open until it is accepted, rejected or expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opportunities.domain.stages import OFFER_MOVES, Stage, automatic_move, is_final
from salesflow.contracts.events.offers import OfferStatus

CLOSED_OFFER_STATUSES = frozenset({OfferStatus.ACCEPTED, OfferStatus.REJECTED, OfferStatus.EXPIRED})
ACCEPTED = "offer.accepted.v1"
REJECTED = "offer.rejected.v1"
EXPIRED = "offer.expired.v1"
EXPIRED_REASON = "offer expired"


def is_open(status: OfferStatus | str) -> bool:
    return OfferStatus(status) not in CLOSED_OFFER_STATUSES


def is_stale(known_version: int | None, incoming_version: int) -> bool:
    """An event no newer than what we already applied for this offer changes nothing."""
    return known_version is not None and incoming_version <= known_version


class Effect(StrEnum):
    NONE = "none"
    MOVE = "move"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class Outcome:
    effect: Effect
    stage: Stage | None = None
    reason: str | None = None


NOTHING = Outcome(Effect.NONE)


def outcome(
    event_type: str, current: Stage, other_open_offers: int, reason: str | None = None
) -> Outcome:
    """The change an offer event causes; ``other_open_offers`` excludes the event's own offer."""
    if is_final(current):
        return NOTHING
    if event_type == ACCEPTED:
        return Outcome(Effect.WON, Stage.WON)
    if event_type in (REJECTED, EXPIRED):
        if other_open_offers > 0:
            return NOTHING  # another offer is still in play: the deal is not lost yet
        why = reason if event_type == REJECTED and reason else EXPIRED_REASON
        return Outcome(Effect.LOST, Stage.LOST, why)
    target = OFFER_MOVES.get(event_type)
    if target is not None and automatic_move(current, target):
        return Outcome(Effect.MOVE, target)
    return NOTHING
