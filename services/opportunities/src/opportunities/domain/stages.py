"""The stage machine: qualification → needs_analysis → proposal → negotiation → won | lost.

Manual moves (PATCH) go one step forward or back to any earlier open stage; won comes only from
an accepted offer and lost only with a reason. Automatic moves from offer events only ever go
forward. Won and lost are final.
"""

from __future__ import annotations

from collections.abc import Mapping

from salesflow.contracts.events.opportunities import OpportunityStage as Stage

OPEN_STAGES: tuple[Stage, ...] = (
    Stage.QUALIFICATION,
    Stage.NEEDS_ANALYSIS,
    Stage.PROPOSAL,
    Stage.NEGOTIATION,
)
FINAL_STAGES = frozenset({Stage.WON, Stage.LOST})

# Offer event type ⇒ the stage it moves an opportunity to (if that is a step forward).
OFFER_MOVES: Mapping[str, Stage] = {
    "offer.sent.v1": Stage.PROPOSAL,
    "offer.revised.v1": Stage.NEGOTIATION,
}


class StageError(Exception):
    """A move the stage machine does not allow (HTTP 409)."""


class FinalStageError(StageError):
    """The opportunity is won or lost: nothing about it changes any more."""


def is_final(stage: Stage) -> bool:
    return stage in FINAL_STAGES


def rank(stage: Stage) -> int:
    """Position in the pipeline; both final stages rank after every open one."""
    return OPEN_STAGES.index(stage) if stage in OPEN_STAGES else len(OPEN_STAGES)


def ensure_open(stage: Stage) -> None:
    if is_final(stage):
        raise FinalStageError(f"the opportunity is {stage.value}: won and lost are final")


def check_manual_move(current: Stage, target: Stage) -> bool:
    """Validate a move asked for by a user; False when ``target`` is the current stage."""
    ensure_open(current)
    if target is Stage.WON:
        raise StageError("an opportunity is won only by an accepted offer")
    if target is Stage.LOST:
        raise StageError("lose an opportunity with POST /opportunities/{id}/lose and a reason")
    if target == current:
        return False
    if rank(target) > rank(current) + 1:
        allowed = OPEN_STAGES[rank(current) + 1].value
        raise StageError(f"cannot skip from {current.value} to {target.value}; next is {allowed}")
    return True


def automatic_move(current: Stage, target: Stage) -> bool:
    """Whether an offer event may move ``current`` to ``target``: forward only, never out of a
    final stage (a late ``offer.sent`` must not pull a negotiation back to proposal)."""
    return not is_final(current) and rank(target) > rank(current)
