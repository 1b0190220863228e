"""Two-sample drift statistics on histograms, reservoirs and embeddings.

These run in the background evaluator, never on the hot path. Each function
states its formula so an auditor can recompute it: PSI and Jensen–Shannon on
the frozen bins, Wasserstein-1 and Kolmogorov–Smirnov (asymptotic Kolmogorov
p-value) on reservoir samples, Pearson chi² on a 2×k contingency table, cosine
distance between embedding centroids, and biased MMD² with an RBF kernel.
The special functions (regularized incomplete gamma, Kolmogorov tail, gamma
quantile) are implemented here so the core needs numpy only.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "PSI_PSEUDOCOUNT",
    "chi2_contingency",
    "chi2_sf",
    "cosine_distance",
    "gamma_isf",
    "gammaincc",
    "js_distance",
    "kolmogorov_sf",
    "ks_2samp",
    "mmd2_rbf",
    "psi",
    "rbf_gamma",
    "wasserstein",
    "wasserstein_binned",
]

PSI_PSEUDOCOUNT = 0.5
"""Added to every bin before PSI so an empty bin gives a large, finite value."""

_TINY = 1e-300
_EPS = 1e-15


def _counts(values: ArrayLike) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError("counts must be a non-empty 1-D sequence")
    if np.any(array < 0):
        raise ValueError("counts must be non-negative")
    return array


def psi(expected: ArrayLike, actual: ArrayLike) -> float:
    """Population stability index Σ (a−e)·ln(a/e) on pseudocount-smoothed proportions.

    Both histograms use the same bins. Bins empty on both sides are dropped;
    every other bin gets +0.5 so that a bin empty on one side yields a large
    but finite index.
    """
    e, a = _counts(expected), _counts(actual)
    if e.shape != a.shape:
        raise ValueError("histograms must have the same bins")
    used = (e > 0) | (a > 0)
    e, a = e[used] + PSI_PSEUDOCOUNT, a[used] + PSI_PSEUDOCOUNT
    pe, pa = e / e.sum(), a / a.sum()
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def js_distance(p_counts: ArrayLike, q_counts: ArrayLike) -> float:
    """Jensen–Shannon distance (square root of the divergence, base 2), in [0, 1]."""
    p, q = _counts(p_counts), _counts(q_counts)
    if p.shape != q.shape:
        raise ValueError("histograms must have the same bins")
    if p.sum() == 0 or q.sum() == 0:
        return 0.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(x: NDArray[np.float64]) -> float:
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / m[mask])))

    return math.sqrt(max((kl(p) + kl(q)) / 2, 0.0))


def wasserstein(x: ArrayLike, y: ArrayLike) -> float:
    """Wasserstein-1 distance between two samples: ∫ |F_x − F_y| over the pooled support."""
    u = np.sort(np.asarray(x, dtype=np.float64))
    v = np.sort(np.asarray(y, dtype=np.float64))
    if u.size == 0 or v.size == 0:
        raise ValueError("both samples must be non-empty")
    pooled = np.sort(np.concatenate([u, v]))
    widths = np.diff(pooled)
    cdf_u = np.searchsorted(u, pooled[:-1], side="right") / u.size
    cdf_v = np.searchsorted(v, pooled[:-1], side="right") / v.size
    return float(np.sum(np.abs(cdf_u - cdf_v) * widths))


def wasserstein_binned(centers: ArrayLike, p_counts: ArrayLike, q_counts: ArrayLike) -> float:
    """Wasserstein-1 between two histograms whose mass sits at the bin centres."""
    c = np.asarray(centers, dtype=np.float64)
    p, q = _counts(p_counts), _counts(q_counts)
    if not (c.shape == p.shape == q.shape):
        raise ValueError("centres and histograms must have the same length")
    order = np.argsort(c, kind="stable")
    c, p, q = c[order], p[order] / p.sum(), q[order] / q.sum()
    cdf_gap = np.abs(np.cumsum(p) - np.cumsum(q))[:-1]
    return float(np.sum(cdf_gap * np.diff(c)))


def kolmogorov_sf(lam: float) -> float:
    """P(K > λ) for the Kolmogorov distribution (the KS limit law)."""
    if lam <= 0:
        return 1.0
    if lam < 1.18:
        # Jacobi-theta form converges fast for small λ.
        factor = math.sqrt(2 * math.pi) / lam
        cdf = factor * sum(
            math.exp(-((2 * k - 1) ** 2) * math.pi**2 / (8 * lam * lam)) for k in range(1, 8)
        )
        return min(max(1.0 - cdf, 0.0), 1.0)
    total = 0.0
    for k in range(1, 101):
        term = math.exp(-2 * k * k * lam * lam)
        total += term if k % 2 else -term
        if term < 1e-17:
            break
    return min(max(2 * total, 0.0), 1.0)


def ks_2samp(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Two-sided two-sample KS: D = sup |F_x − F_y|; p = Q_K(√(nm/(n+m))·D) (asymptotic)."""
    u = np.sort(np.asarray(x, dtype=np.float64))
    v = np.sort(np.asarray(y, dtype=np.float64))
    if u.size == 0 or v.size == 0:
        raise ValueError("both samples must be non-empty")
    pooled = np.concatenate([u, v])
    gap = (
        np.searchsorted(u, pooled, side="right") / u.size
        - np.searchsorted(v, pooled, side="right") / v.size
    )
    d = float(np.max(np.abs(gap)))
    en = u.size * v.size / (u.size + v.size)
    return d, kolmogorov_sf(math.sqrt(en) * d)


def gammaincc(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) (series or Lentz continued fraction)."""
    if a <= 0:
        raise ValueError("a must be positive")
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(100_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return min(max(1.0 - total * math.exp(log_front), 0.0), 1.0)
    b = x + 1 - a
    c = 1 / _TINY
    d = 1 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return min(max(math.exp(log_front) * h, 0.0), 1.0)


def chi2_sf(x: float, dof: int) -> float:
    """Upper tail of the chi² distribution with ``dof`` degrees of freedom."""
    if dof <= 0:
        return 1.0
    return gammaincc(dof / 2, x / 2)


def chi2_contingency(reference: ArrayLike, live: ArrayLike) -> tuple[float, int, float]:
    """Pearson chi² on the 2×k table [reference; live] without continuity correction.

    Columns empty on both sides are dropped. Returns (statistic, dof, p-value).
    """
    table = np.vstack([_counts(reference), _counts(live)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or np.any(table.sum(axis=1) == 0):
        return 0.0, 0, 1.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return stat, dof, chi2_sf(stat, dof)


def cosine_distance(a: ArrayLike, b: ArrayLike) -> float:
    """1 − cos(a, b); 0 for identical directions, 1 for orthogonal ones."""
    u = np.asarray(a, dtype=np.float64)
    v = np.asarray(b, dtype=np.float64)
    norm = float(np.linalg.norm(u) * np.linalg.norm(v))
    if norm == 0:
        return 0.0
    return float(1.0 - np.dot(u, v) / norm)


def _sq_dists(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    xx = np.sum(x * x, axis=1)[:, None]
    yy = np.sum(y * y, axis=1)[None, :]
    out: NDArray[np.float64] = np.maximum(xx + yy - 2 * (x @ y.T), 0.0)
    return out


def rbf_gamma(sample: ArrayLike) -> float:
    """Median heuristic: γ = 1 / median pairwise squared distance (frozen with the reference)."""
    x = np.asarray(sample, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        return 1.0
    d = _sq_dists(x, x)[np.triu_indices(x.shape[0], k=1)]
    med = float(np.median(d))
    return 1.0 / med if med > 0 else 1.0


def mmd2_rbf(x: ArrayLike, y: ArrayLike, gamma: float) -> float:
    """Biased (V-statistic) MMD² with k(a, b) = exp(−γ‖a − b‖²).

    MMD² = mean k(x, x') + mean k(y, y') − 2 mean k(x, y), diagonals included.
    Unlike the unbiased form it is never negative, and its null distribution
    is well approximated by a gamma (Gretton et al., NIPS 2009), which is how
    the thresholds are calibrated.
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] < 1 or b.shape[0] < 1:
        raise ValueError("MMD needs two non-empty 2-D samples")
    kxx = np.exp(-gamma * _sq_dists(a, a)).mean()
    kyy = np.exp(-gamma * _sq_dists(b, b)).mean()
    kxy = np.exp(-gamma * _sq_dists(a, b)).mean()
    return float(max(kxx + kyy - 2 * kxy, 0.0))


def gamma_isf(tail: float, shape: float, scale: float) -> float:
    """x with P(X > x) = ``tail`` for X ~ Gamma(shape, scale), by bisection."""
    if not 0 < tail < 1:
        raise ValueError("tail must be in (0, 1)")
    lo, hi = 0.0, shape * scale + 10 * math.sqrt(shape) * scale + scale
    while gammaincc(shape, hi / scale) > tail:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if gammaincc(shape, mid / scale) > tail:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return hi
