"""The interest definition: which touchpoints turn a company into an unqualified lead.

Other touchpoints only add engagement to the company (and to its lead, once there is one).
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = (
    "web",
    "email",
    "social",
    "event",
    "ads",
    "outbound_call",
    "referral",
    "partner",
)


@dataclass(frozen=True)
class InterestDefinition:
    version: int
    kinds: frozenset[str]
    channels: frozenset[str] = frozenset()  # empty: any channel

    def shows_interest(self, kind: str, channel: str) -> bool:
        return kind in self.kinds and (not self.channels or channel in self.channels)


DEFAULT_INTEREST = InterestDefinition(
    version=1,
    kinds=frozenset(
        {
            "whitepaper_download",
            "newsletter_signup",
            "webinar_registered",
            "event_visit",
            "demo_request",
            "form_submit",
        }
    ),
)
