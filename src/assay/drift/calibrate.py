"""Thresholds from the reference's own variability, not from raw p-values.

At production volumes every p-value goes to zero for changes nobody cares
about, and real traffic is burstier than the i.i.d. assumption behind them.
So for each statistic we simulate the null: draw many windows the size of the
live window from the reference itself — each made of whole contiguous blocks
(a block bootstrap, which keeps within-block correlation) — compute the
statistic of that window against the rest of the reference, fit a gamma
distribution to those values by moments, and read off the upper quantiles at
tail probabilities 1e-3 (warn), 1e-5 (alert) and 1e-7 (critical). A null with
no variability (a constant signal) falls back to fixed floors. Where the
i.i.d. sampling law is known (PSI and JS ≈ χ²ₖ₋₁·(1/n + 1/m), Pearson χ², the
Kolmogorov law for KS) the threshold never goes below it: a short reference
can underestimate its own noise, never the noise of sampling itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from assay.drift import stats

__all__ = ["LEVELS", "TAILS", "CalibrationInput", "Thresholds", "calibrate", "fit_thresholds"]

LEVELS = ("ok", "warn", "alert", "critical")
TAILS = (1e-3, 1e-5, 1e-7)
"""Null tail probability of each level: warn, alert, critical."""

# How a statistic's null scale shrinks with sample sizes: (1/n + 1/m)^exponent.
EXPONENTS = {
    "psi": 1.0,
    "js": 0.5,
    "chi2": 0.0,
    "cosine": 1.0,
    "ks": 0.5,
    "wasserstein": 0.5,
    "mmd": 1.0,
}
_FLOORS = {
    "psi": (0.1, 0.25, 0.5),
    "js": (0.1, 0.2, 0.3),
    "cosine": (0.01, 0.05, 0.1),
    "ks": (0.1, 0.2, 0.3),
    "wasserstein": (0.1, 0.2, 0.4),
    "mmd": (0.01, 0.05, 0.1),
}


@dataclass(frozen=True)
class Thresholds:
    """Calibrated warn/alert/critical values of one statistic for one signal."""

    warn: float
    alert: float
    critical: float
    fit: str
    null_mean: float
    null_sd: float
    draws: int
    exponent: float
    cal_live: float
    cal_ref: float

    def factor(self, n_live: float, n_ref: float) -> float:
        """Rescale for a window or sample of another size than the calibrated one."""
        if self.exponent == 0 or n_live <= 0 or n_ref <= 0:
            return 1.0
        ratio = (1 / n_live + 1 / n_ref) / (1 / self.cal_live + 1 / self.cal_ref)
        return float(ratio**self.exponent)

    def level(self, value: float, n_live: float, n_ref: float) -> int:
        """0 ok, 1 warn, 2 alert, 3 critical."""
        f = self.factor(n_live, n_ref)
        if value >= self.critical * f:
            return 3
        if value >= self.alert * f:
            return 2
        return 1 if value >= self.warn * f else 0

    def scaled(self, n_live: float, n_ref: float) -> dict[str, float]:
        f = self.factor(n_live, n_ref)
        return {"warn": self.warn * f, "alert": self.alert * f, "critical": self.critical * f}


def fit_thresholds(
    values: NDArray[np.float64],
    stat: str,
    cal_live: float,
    cal_ref: float,
    *,
    scale_hint: float = 1.0,
    dof: int = 1,
) -> Thresholds:
    """Fit a moment-matched gamma to null draws of ``stat`` and take its upper quantiles."""
    finite = values[np.isfinite(values)]
    mean = float(finite.mean()) if finite.size else 0.0
    sd = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    if mean > 0 and sd > 1e-12 * max(mean, 1e-300):
        shape, scale = mean * mean / (sd * sd), sd * sd / mean
        cuts = [stats.gamma_isf(t, shape, scale) for t in TAILS]
        cuts[0] = max(cuts[0], float(finite.max()))
        fit = "gamma"
    elif stat == "chi2":
        cuts = [stats.gamma_isf(t, max(dof, 1) / 2, 2.0) for t in TAILS]
        fit = "chi2-theory"
    else:
        base = _FLOORS[stat]
        unit = scale_hint if stat == "wasserstein" else 1.0
        cuts = [max(mean, 0.0) + b * unit for b in base]
        fit = "floor"
    floors = [_iid_floor(stat, t, dof, cal_live, cal_ref) for t in TAILS]
    if any(f > c for f, c in zip(floors, cuts, strict=True)):
        cuts = [max(f, c) for f, c in zip(floors, cuts, strict=True)]
        fit += "+iid-floor"
    for i in (1, 2):
        cuts[i] = max(cuts[i], cuts[i - 1] * (1 + 1e-9))
    return Thresholds(
        warn=cuts[0],
        alert=cuts[1],
        critical=cuts[2],
        fit=fit,
        null_mean=mean,
        null_sd=sd,
        draws=int(finite.size),
        exponent=EXPONENTS[stat],
        cal_live=cal_live,
        cal_ref=cal_ref,
    )


def _iid_floor(stat: str, tail: float, dof: int, n: float, m: float) -> float:
    """The statistic's upper quantile under i.i.d. sampling, where it is known (else 0)."""
    if stat in ("psi", "js", "chi2"):
        chi = stats.gamma_isf(tail, max(dof, 1) / 2, 2.0)
        if stat == "chi2":
            return chi
        divergence = chi * (1 / n + 1 / m)
        return divergence if stat == "psi" else math.sqrt(divergence / (8 * math.log(2)))
    if stat == "ks":
        lo, hi = 0.0, 10.0
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if stats.kolmogorov_sf(mid) > tail else (lo, mid)
        return hi / math.sqrt(n * m / (n + m))
    return 0.0


@dataclass
class CalibrationInput:
    """Reference data laid out for fast resampling (events sorted by time)."""

    bins: list[NDArray[np.int64]]  # per numeric signal: bin index per event, -1 if absent
    n_bins: list[int]
    values: NDArray[np.float64]  # events × numeric signals, NaN if absent
    ref_sample_size: int
    cats: list[NDArray[np.int64]]  # per category: value index per event, -1 if absent
    n_cats: list[int]
    embeddings: NDArray[np.float64] | None  # events × dim, NaN rows if absent
    emb_sample_size: int
    rbf_gamma: float
    block_events: int
    blocks: int
    live_sample_size: int
    live_emb_sample_size: int


def calibrate(
    data: CalibrationInput, rng: np.random.Generator, draws: int = 300
) -> dict[str, dict[str, dict[str, Thresholds]]]:
    """Thresholds per kind ("numeric", "categorical", "embedding"), signal and statistic."""
    n = data.values.shape[0]
    n_blocks = n // data.block_events
    window = data.block_events * data.blocks
    if n_blocks < 2 * data.blocks:
        raise ValueError("the reference must hold at least two windows of events")
    masks = []
    for _ in range(draws):
        chosen = rng.choice(n_blocks, size=data.blocks, replace=False)
        mask = np.zeros(n, dtype=bool)
        for b in chosen:
            mask[b * data.block_events : (b + 1) * data.block_events] = True
        masks.append(mask)
    expensive = masks[: max(draws // 3, 30)]
    rest = float(n - window)
    out: dict[str, dict[str, dict[str, Thresholds]]] = {
        "numeric": {},
        "categorical": {},
        "embedding": {},
    }
    for s, (bins, k) in enumerate(zip(data.bins, data.n_bins, strict=True)):
        out["numeric"][str(s)] = _numeric(data, s, bins, k, masks, expensive, rng, window, rest)
    for c, (idx, k) in enumerate(zip(data.cats, data.n_cats, strict=True)):
        total = np.bincount(idx[idx >= 0], minlength=k)
        chi = []
        for mask in masks:
            part = idx[mask]
            win = np.bincount(part[part >= 0], minlength=k)
            chi.append(stats.chi2_contingency(total - win, win)[0])
        dof = max(int(np.count_nonzero(total)), 2) - 1
        out["categorical"][str(c)] = {
            "chi2": fit_thresholds(np.asarray(chi), "chi2", window, rest, dof=dof)
        }
    if data.embeddings is not None:
        out["embedding"]["embedding"] = _embedding(data, masks, rng, window, rest)
    return out


def _numeric(
    data: CalibrationInput,
    s: int,
    bins: NDArray[np.int64],
    k: int,
    masks: list[NDArray[np.bool_]],
    expensive: list[NDArray[np.bool_]],
    rng: np.random.Generator,
    window: float,
    rest: float,
) -> dict[str, Thresholds]:
    total = np.bincount(bins[bins >= 0], minlength=k)
    psis, jss = [], []
    for mask in masks:
        part = bins[mask]
        win = np.bincount(part[part >= 0], minlength=k)
        psis.append(stats.psi(total - win, win))
        jss.append(stats.js_distance(total - win, win))
    column = data.values[:, s]
    finite = np.isfinite(column)
    spread = float(np.nanstd(column)) if finite.any() else 1.0
    kss, wss = [], []
    for mask in expensive:
        live = column[mask & finite]
        ref = column[~mask & finite]
        if live.size == 0 or ref.size == 0:
            continue
        live = rng.choice(live, size=min(live.size, data.live_sample_size), replace=False)
        ref = rng.choice(ref, size=min(ref.size, data.ref_sample_size), replace=False)
        kss.append(stats.ks_2samp(live, ref)[0])
        wss.append(stats.wasserstein(live, ref))
    live_n, ref_n = float(data.live_sample_size), float(data.ref_sample_size)
    dof = max(int(np.count_nonzero(total)) - 1, 1)
    return {
        "psi": fit_thresholds(np.asarray(psis), "psi", window, rest, dof=dof),
        "js": fit_thresholds(np.asarray(jss), "js", window, rest, dof=dof),
        "ks": fit_thresholds(np.asarray(kss), "ks", live_n, ref_n),
        "wasserstein": fit_thresholds(
            np.asarray(wss), "wasserstein", live_n, ref_n, scale_hint=max(spread, 1e-9)
        ),
    }


def _embedding(
    data: CalibrationInput,
    masks: list[NDArray[np.bool_]],
    rng: np.random.Generator,
    window: float,
    rest: float,
) -> dict[str, Thresholds]:
    emb = data.embeddings
    assert emb is not None
    present = np.isfinite(emb[:, 0])
    filled = np.where(present[:, None], emb, 0.0)
    total_sum, total_n = filled.sum(axis=0), int(present.sum())
    cos = []
    for mask in masks:
        win_n = int(present[mask].sum())
        if win_n == 0 or win_n == total_n:
            continue
        win_sum = filled[mask].sum(axis=0)
        cos.append(
            stats.cosine_distance(win_sum / win_n, (total_sum - win_sum) / (total_n - win_n))
        )
    mmds = []
    for mask in masks[:40]:
        live = np.flatnonzero(mask & present)
        ref = np.flatnonzero(~mask & present)
        if live.size < 2 or ref.size < 2:
            continue
        live = rng.choice(live, size=min(live.size, data.live_emb_sample_size), replace=False)
        ref = rng.choice(ref, size=min(ref.size, data.emb_sample_size), replace=False)
        mmds.append(stats.mmd2_rbf(emb[live], emb[ref], data.rbf_gamma))
    live_n, ref_n = float(data.live_emb_sample_size), float(data.emb_sample_size)
    return {
        "cosine": fit_thresholds(np.asarray(cos), "cosine", window, rest),
        "mmd": fit_thresholds(np.asarray(mmds), "mmd", live_n, ref_n),
    }
