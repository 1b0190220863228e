"""Hard caps on requests, tokens and spend, with an estimate shown before a run starts.

Every request to a target or an attacker model goes through :meth:`Budget.charge`
*before* it is sent; once a cap would be crossed the request is not made and the
attempt ends ``unassessed`` (never ``resisted``). Token counts use the figures
the endpoint reports, else characters / 4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assay.errors import AssayError

__all__ = ["Budget", "BudgetExceeded", "Estimate", "estimate_tokens"]

EXPECTED_REPLY_TOKENS = 250


class BudgetExceeded(AssayError):
    """A cap on requests, tokens or spend was reached."""


def estimate_tokens(text: str) -> int:
    """Rough token count (4 characters per token) for estimates and unreported usage."""
    return max(1, len(text) // 4)


@dataclass(frozen=True, slots=True)
class Estimate:
    """The worst case a run can cost, shown before it starts."""

    requests: int
    tokens: int
    cost: float

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "tokens": self.tokens, "cost": round(self.cost, 4)}


@dataclass
class Budget:
    """Caps (None = unlimited) and what has been used so far; prices are per 1,000 tokens."""

    max_requests: int | None = None
    max_tokens: int | None = None
    max_cost: float | None = None
    price_per_1k_tokens: float = 0.0
    requests: int = 0
    tokens: int = 0
    _reasons: list[str] = field(default_factory=list)

    @property
    def cost(self) -> float:
        return self.tokens / 1000 * self.price_per_1k_tokens

    @property
    def exhausted(self) -> str | None:
        """Why the budget stopped the run, or None."""
        return self._reasons[0] if self._reasons else None

    def charge(self, prompt_tokens: int) -> None:
        """Reserve one request of ``prompt_tokens`` plus an expected reply, or raise."""
        reserve = prompt_tokens + EXPECTED_REPLY_TOKENS
        if self.max_requests is not None and self.requests + 1 > self.max_requests:
            self._stop(f"request cap {self.max_requests} reached")
        if self.max_tokens is not None and self.tokens + reserve > self.max_tokens:
            self._stop(f"token cap {self.max_tokens} reached")
        cost = (self.tokens + reserve) / 1000 * self.price_per_1k_tokens
        if self.max_cost is not None and cost > self.max_cost:
            self._stop(f"spend cap {self.max_cost} reached")
        self.requests += 1
        self.tokens += reserve

    def settle(self, reserved_prompt: int, prompt_tokens: int | None, reply_tokens: int) -> None:
        """Replace the reservation with the usage actually reported."""
        actual = (prompt_tokens if prompt_tokens is not None else reserved_prompt) + reply_tokens
        self.tokens += actual - (reserved_prompt + EXPECTED_REPLY_TOKENS)

    def _stop(self, reason: str) -> None:
        if reason not in self._reasons:
            self._reasons.append(reason)
        raise BudgetExceeded(f"budget exhausted: {reason}")

    def estimate(self, requests: int, prompt_tokens: int) -> Estimate:
        """Worst-case figures for a plan of ``requests`` sending ``prompt_tokens`` in all."""
        tokens = prompt_tokens + requests * EXPECTED_REPLY_TOKENS
        return Estimate(requests, tokens, tokens / 1000 * self.price_per_1k_tokens)

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_requests": self.max_requests,
            "max_tokens": self.max_tokens,
            "max_cost": self.max_cost,
            "price_per_1k_tokens": self.price_per_1k_tokens,
            "used": {"requests": self.requests, "tokens": self.tokens, "cost": round(self.cost, 4)},
            "exhausted": self.exhausted,
        }
