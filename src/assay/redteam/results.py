"""Run results: attack success rates per family, chain and overall; CI gates; run diffs.

ASR = succeeded / (succeeded + resisted). Unassessed attempts (errors,
timeouts, budget stops, unsupported capabilities) are reported separately and
never enter the denominator as "resisted".
"""

from __future__ import annotations

import operator
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assay.errors import UsageError
from assay.redteam.attacks import FAMILIES
from assay.redteam.stats import Rate, rate
from assay.redteam.store import RunStore

__all__ = ["JAILBREAK_FAMILIES", "Gate", "RunResult", "diff_runs", "parse_fail_on"]

JAILBREAK_FAMILIES = frozenset(
    {f for f in FAMILIES if f.startswith("jailbreak_")} | {"crescendo", "iterative"}
)
"""The families that try to break the model's own safety behaviour (MITRE ATLAS AML.T0054)."""


def _inverted(family: str) -> bool:
    return FAMILIES[family].inverted if family in FAMILIES else False


SCHEMA_ID = "https://assay.dev/schemas/redteam-report/v1.json"


@dataclass
class RunResult:
    """A run's meta and attempts, with the figures reports and gates need."""

    meta: dict[str, Any]
    attempts: list[dict[str, Any]]

    @classmethod
    def load(cls, store: RunStore) -> RunResult:
        attempts = sorted(store.attempts(), key=lambda r: (r["family"], r["attack_id"], r["key"]))
        return cls(store.meta(), attempts)

    @property
    def run_id(self) -> str:
        return str(self.meta["run_id"])

    def overall(self) -> Rate:
        """Every attempt, over-refusal probes included (see :meth:`attack` for the ASR)."""
        return rate([a["outcome"] for a in self.attempts])

    def attack(self) -> Rate:
        """Attack success: every family except the inverted ones (over-refusal), reported apart."""
        return rate([a["outcome"] for a in self.attempts if not _inverted(a["family"])])

    def over_refusal(self) -> Rate:
        """Benign look-alikes refused (``succeeded`` = refused), apart from attack success."""
        return rate([a["outcome"] for a in self.attempts if _inverted(a["family"])])

    def group(self, families: frozenset[str]) -> Rate:
        """One rate over a set of families (an objective can target, say, the jailbreaks)."""
        return rate([a["outcome"] for a in self.attempts if a["family"] in families])

    def _group(self, key: Callable[[dict[str, Any]], str]) -> dict[str, Rate]:
        groups: dict[str, list[str]] = defaultdict(list)
        for a in self.attempts:
            groups[key(a)].append(a["outcome"])
        return {k: rate(v) for k, v in sorted(groups.items())}

    def by_family(self) -> dict[str, Rate]:
        return self._group(lambda a: str(a["family"]))

    def by_chain(self) -> dict[str, Rate]:
        return self._group(lambda a: "|".join(a.get("chain") or []) or "none")

    def findings(self) -> list[dict[str, Any]]:
        """Succeeded attempts, one per (attack, chain), most severe first."""
        order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
        seen: set[tuple[str, str]] = set()
        out: list[dict[str, Any]] = []
        for a in self.attempts:
            ident = (a["attack_id"], "|".join(a.get("chain") or []))
            if a["outcome"] != "succeeded" or ident in seen:
                continue
            seen.add(ident)
            out.append(a)
        return sorted(
            out, key=lambda a: (order.get(a.get("severity", "medium"), 2), a["attack_id"])
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON report (schema: ``redteam/schema/report.schema.json``)."""
        meta = self.meta
        return {
            "$schema": SCHEMA_ID,
            "run_id": self.run_id,
            "status": meta.get("status", "unknown"),
            "created_at": meta.get("created_at"),
            "finished_at": meta.get("finished_at"),
            "target": {
                "name": meta.get("target_name"),
                "config": meta.get("target_config", {}),
                "capabilities": meta.get("target_capabilities", {}),
            },
            "subject": meta.get("subject", {}),
            "options": meta.get("options", {}),
            "budget": meta.get("budget", {}),
            "replay_of": meta.get("replay_of"),
            "overall": self.overall().as_dict(),
            "attack": self.attack().as_dict(),
            "over_refusal": self.over_refusal().as_dict(),
            "families": {
                name: {
                    **r.as_dict(),
                    "title": FAMILIES[name].title if name in FAMILIES else name,
                    "inverted": FAMILIES[name].inverted if name in FAMILIES else False,
                }
                for name, r in self.by_family().items()
            },
            "chains": {name: r.as_dict() for name, r in self.by_chain().items()},
            "attempts": self.attempts,
        }


_GATE = re.compile(
    r"^\s*(?:([\w-]+)\s*:\s*)?(asr|asr_upper|asr_lower|succeeded)\s*(>=|<=|>|<)\s*([\d.]+)\s*$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True, slots=True)
class Gate:
    """``[family:]metric op value``: the run fails when the condition holds."""

    family: str | None
    metric: str
    op: str
    value: float

    def text(self) -> str:
        scope = f"{self.family}:" if self.family else ""
        return f"{scope}{self.metric}{self.op}{self.value:g}"

    def check(self, result: RunResult) -> str | None:
        """A sentence saying why the gate trips, or None when it holds."""
        if self.family is None:
            r = result.attack()  # over-refusal is not attack success
        else:
            families = result.by_family()
            if self.family not in families:
                return None
            r = families[self.family]
        if self.metric == "succeeded":
            value = float(r.succeeded)
        elif r.assessed == 0:
            return None
        elif self.metric == "asr":
            value = float(r.asr or 0.0)
        elif self.metric == "asr_upper":
            value = r.interval[1]
        else:
            value = r.interval[0]
        if _OPS[self.op](value, self.value):
            return f"{self.text()} (measured {value:.4g})"
        return None


def parse_fail_on(spec: str | None) -> list[Gate]:
    """``"asr>0.05"``, ``"prompt_injection:asr>0,asr_upper>0.2"`` → gates."""
    if not spec:
        return []
    gates = []
    for part in spec.split(","):
        if not part.strip():
            continue
        match = _GATE.match(part)
        if not match:
            raise UsageError(
                f"--fail-on {part!r}: write [family:]METRIC OP NUMBER with METRIC one of asr, "
                "asr_upper, asr_lower, succeeded (e.g. 'asr>0.05' or 'encoding:asr>0')"
            )
        family, metric, op, value = match.groups()
        if family and family not in FAMILIES:
            raise UsageError(
                f"--fail-on: unknown family {family!r} (choose from {', '.join(FAMILIES)})"
            )
        gates.append(Gate(family, metric, op, float(value)))
    return gates


def diff_runs(a: RunResult, b: RunResult) -> dict[str, Any]:
    """What changed from run A to run B: regressions (resisted → succeeded), fixes, ASR deltas."""

    def index(r: RunResult) -> dict[tuple[str, str, int], str]:
        return {
            (x["attack_id"], "|".join(x.get("chain") or []), int(x.get("sample", 0))): x["outcome"]
            for x in r.attempts
        }

    ia, ib = index(a), index(b)
    regressions, fixes, changed = [], [], []
    for key in sorted(set(ia) & set(ib)):
        before, after = ia[key], ib[key]
        if before == after:
            continue
        item = {"attack_id": key[0], "chain": key[1], "sample": key[2], "from": before, "to": after}
        if before == "resisted" and after == "succeeded":
            regressions.append(item)
        elif before == "succeeded" and after == "resisted":
            fixes.append(item)
        else:
            changed.append(item)
    fa, fb = a.by_family(), b.by_family()
    families = {}
    for name in sorted(set(fa) | set(fb)):
        ra, rb = fa.get(name), fb.get(name)
        asr_a = ra.asr if ra else None
        asr_b = rb.asr if rb else None
        families[name] = {
            "asr_a": asr_a,
            "asr_b": asr_b,
            "delta": None if asr_a is None or asr_b is None else round(asr_b - asr_a, 6),
        }
    return {
        "run_a": a.run_id,
        "run_b": b.run_id,
        "overall": {"asr_a": a.overall().asr, "asr_b": b.overall().asr},
        "families": families,
        "regressions": regressions,
        "fixes": fixes,
        "other_changes": changed,
        "only_in_a": len(set(ia) - set(ib)),
        "only_in_b": len(set(ib) - set(ia)),
    }
