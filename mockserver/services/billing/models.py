"""Billing, simulated and deterministic: no payment provider is contacted.

A named workspace starts on ``trial`` when it is created. The default workspace (the
February paths and ``/api/v1``) starts on ``active`` with a payment method: the February
release had no plans, so nothing lapses under its clients by itself (a trial would end after
30 days of a long-lived mock, or 1,000 runs of a test session); load a state to put it in
another status. Plan changes follow the billing page's
state machine, evaluated against the mock's clock whenever billing is read:
trial -> readonly after TRIAL_DAYS or beyond TRIAL_ACTIONS without a payment method;
readonly -> deleted after GRACE_DAYS; attaching a payment method moves trial -> promo (and
suspended -> active); promo -> active after PROMO_DAYS. Payment failures and cancellations
happen in the payment provider, so the mock never reaches ``suspended`` or a cancelled
``deleted`` by itself (load a state to test them).

What a status stops (the page's *Plan Status Reference*), on both surfaces of the workspace
(the February paths are the default workspace): ``readonly`` refuses new deployments and
configuration changes, while existing agents keep running; ``suspended`` and ``deleted`` also
stop agent execution. Operations say which of the two they are with ``x-plan-use``
(``deploy`` or ``execute``) in the OpenAPI documents, which also hold the 402 messages.

Usage: one action per run created and per agent invocation in the workspace. Stripe values
(client secret, checkout and portal URLs, publishable key) are fixed placeholders.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...basics.clock import iso
from ...basics.errors import ApiError
from ...spec.surfaces import DEFAULT_WORKSPACE
from ..state import Persistent, scalar

if TYPE_CHECKING:
    from ..ports import PlatformPort

DAY = 86400.0
TRIAL_DAYS, TRIAL_ACTIONS, GRACE_DAYS, PROMO_DAYS = 30, 1000, 30, 90
USAGE_DAYS = 30
BLOCKED_USES = {"readonly": {"deploy"}, "suspended": {"deploy", "execute"}, "deleted": {"deploy", "execute"}}


def _date(timestamp: str) -> str:
    return timestamp[:10]


class BillingBackend(Persistent):
    STATE = (scalar("plan_status", str), scalar("since", float), scalar("has_payment_method", bool))

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform
        default = platform.workspace == DEFAULT_WORKSPACE
        self.plan_status = "active" if default else "trial"
        self.since = platform.clock.now()  # when the current status began
        self.has_payment_method = default

    # --- usage ------------------------------------------------------------------------

    def _action_times(self) -> list[str]:
        runs = [run["created_at"] for run in self.platform.runs.runs.values()]
        return runs + [call["at"] for call in self.platform.agents.invocations]

    def _may_exceed_trial(self) -> bool:
        """Cheap bound first: counting actions by time walks every run, and the plan is read
        before each deploy and run."""
        return len(self.platform.runs.runs) + len(self.platform.agents.invocations) > TRIAL_ACTIONS

    def _used_since(self, start: float) -> int:
        return sum(1 for at in self._action_times() if at >= iso(start))

    def daily_usage(self) -> list[dict[str, Any]]:
        with self.platform.lock:
            first = _date(iso(self.platform.clock.now() - (USAGE_DAYS - 1) * DAY))
            counts = Counter(_date(at) for at in self._action_times() if _date(at) >= first)
        return [{"date": day, "count": counts[day]} for day in sorted(counts, reverse=True)]

    # --- the plan ---------------------------------------------------------------------

    def _advance(self) -> None:
        """Apply every transition time or usage has triggered since the last read."""
        now = self.platform.clock.now()
        while True:
            if (
                self.plan_status == "trial"
                and not self.has_payment_method
                and (
                    now >= self.since + TRIAL_DAYS * DAY
                    or (self._may_exceed_trial() and self._used_since(self.since) > TRIAL_ACTIONS)
                )
            ):
                self.plan_status, self.since = "readonly", min(now, self.since + TRIAL_DAYS * DAY)
            elif self.plan_status == "readonly" and now >= self.since + GRACE_DAYS * DAY:
                self.plan_status, self.since = "deleted", self.since + GRACE_DAYS * DAY
            elif self.plan_status == "promo" and now >= self.since + PROMO_DAYS * DAY:
                self.plan_status, self.since = "active", self.since + PROMO_DAYS * DAY
            else:
                return

    def _period(self) -> tuple[float, float]:
        length = {"trial": TRIAL_DAYS, "readonly": GRACE_DAYS, "promo": PROMO_DAYS}.get(self.plan_status)
        if length:
            return self.since, self.since + length * DAY
        start = datetime.fromtimestamp(self.platform.clock.now(), UTC).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        return start.timestamp(), end.timestamp()

    def status(self) -> dict[str, Any]:
        with self.platform.lock:
            self._advance()
            start, end = self._period()
            now = self.platform.clock.now()
            return {
                "plan_status": self.plan_status,
                "actions_used": self._used_since(start),
                "actions_limit": TRIAL_ACTIONS if self.plan_status in ("trial", "readonly") else 0,
                "period_start": iso(start),
                "period_end": iso(end),
                "days_remaining": max(0, int((end - now) // DAY)),
                "has_payment_method": self.has_payment_method,
            }

    def blocking_status(self, use: str) -> str | None:
        """The plan status that refuses ``use`` (``deploy`` or ``execute``) now, or None."""
        with self.platform.lock:
            self._advance()
            return self.plan_status if use in BLOCKED_USES.get(self.plan_status, ()) else None

    def attach_payment_method(self) -> dict[str, str]:
        with self.platform.lock:
            self._advance()
            if self.plan_status == "deleted":
                raise ApiError(409, "the workspace plan is deleted")
            self.has_payment_method = True
            if self.plan_status in ("trial", "suspended"):
                self.plan_status = "promo" if self.plan_status == "trial" else "active"
                self.since = self.platform.clock.now()
            return {"status": self.plan_status}

    def links(self) -> dict[str, str]:
        workspace = self.platform.workspace
        return {
            "client_secret": f"seti_mock_{workspace}_secret_mock",
            "checkout": f"https://checkout.stripe.com/c/pay/cs_mock_{workspace}",
            "portal": f"https://billing.stripe.com/p/session/mock_{workspace}",
            "publishable_key": "pk_test_runagents_mock",
        }

    # --- state ------------------------------------------------------------------------
