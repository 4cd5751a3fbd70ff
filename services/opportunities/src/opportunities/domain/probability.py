"""Win probability: a default per stage, which a user may override for the current stage.

An override is a judgement about one stage, so a stage change drops it (unless the same change
sets a new one). Won is always 100 %, lost always 0 %.
"""

from __future__ import annotations

from collections.abc import Mapping

from opportunities.domain.stages import FINAL_STAGES, Stage

DEFAULT_PROBABILITIES: Mapping[Stage, int] = {
    Stage.QUALIFICATION: 10,
    Stage.NEEDS_ANALYSIS: 20,
    Stage.PROPOSAL: 50,
    Stage.NEGOTIATION: 75,
    Stage.WON: 100,
    Stage.LOST: 0,
}


def stage_defaults(overrides: Mapping[str, int] | None = None) -> dict[Stage, int]:
    """Defaults with configured values for open stages; raises ValueError on bad settings."""
    table = dict(DEFAULT_PROBABILITIES)
    for name, value in (overrides or {}).items():
        try:
            stage = Stage(name)
        except ValueError:
            raise ValueError(f"unknown stage {name!r} in stage probabilities") from None
        if stage in FINAL_STAGES:
            raise ValueError(f"the probability of {stage.value} is fixed")
        if not 0 <= int(value) <= 100:
            raise ValueError(f"probability of {stage.value} must be 0-100, got {value}")
        table[stage] = int(value)
    return table


def effective(stage: Stage, override: int | None, defaults: Mapping[Stage, int]) -> int:
    if stage in FINAL_STAGES or override is None:
        return defaults[stage]
    return override


def override_after_stage_change(new_override: int | None, set_in_same_change: bool) -> int | None:
    """The override that survives a stage change: only one given together with the change."""
    return new_override if set_in_same_change else None
