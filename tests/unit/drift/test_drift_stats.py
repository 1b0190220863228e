"""Every statistic against an independent implementation on the same data (within 1e-6)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as ss
from scipy.spatial.distance import cosine as scipy_cosine
from scipy.spatial.distance import jensenshannon

from assay.drift import stats

TOL = 1e-6


@pytest.fixture
def samples() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.normal(size=2500), rng.normal(0.15, 1.2, size=1300)


def _hist(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    edges = np.quantile(x, np.linspace(0, 1, 11)[1:-1])
    p = np.bincount(np.searchsorted(edges, x, side="right"), minlength=10)
    q = np.bincount(np.searchsorted(edges, y, side="right"), minlength=10)
    return edges, p, q


def test_psi_matches_hand_computation(samples: tuple[np.ndarray, np.ndarray]) -> None:
    _, p, q = _hist(*samples)
    pe = (p + 0.5) / (p + 0.5).sum()
    pa = (q + 0.5) / (q + 0.5).sum()
    by_hand = sum((a - e) * math.log(a / e) for a, e in zip(pa, pe, strict=True))
    assert stats.psi(p, q) == pytest.approx(by_hand, abs=TOL)
    assert stats.psi(p, p) == pytest.approx(0.0, abs=TOL)


def test_psi_drops_bins_empty_on_both_sides() -> None:
    assert stats.psi([0, 90, 10, 0], [0, 80, 20, 0]) == pytest.approx(
        stats.psi([90, 10], [80, 20]), abs=1e-15
    )


def test_js_distance_matches_scipy(samples: tuple[np.ndarray, np.ndarray]) -> None:
    _, p, q = _hist(*samples)
    assert stats.js_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), abs=TOL)
    assert stats.js_distance([5, 0, 1], [0, 3, 1]) == pytest.approx(
        jensenshannon([5, 0, 1], [0, 3, 1], base=2), abs=TOL
    )


def test_wasserstein_matches_scipy(samples: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = samples
    assert stats.wasserstein(x, y) == pytest.approx(ss.wasserstein_distance(x, y), abs=TOL)
    discrete = np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 1, 1])
    assert stats.wasserstein(*discrete) == pytest.approx(
        ss.wasserstein_distance(*discrete), abs=TOL
    )


def test_binned_wasserstein_matches_scipy(samples: tuple[np.ndarray, np.ndarray]) -> None:
    edges, p, q = _hist(*samples)
    centers = np.concatenate([[edges[0] - 0.5], (edges[:-1] + edges[1:]) / 2, [edges[-1] + 0.5]])
    expected = ss.wasserstein_distance(centers, centers, p, q)
    assert stats.wasserstein_binned(centers, p, q) == pytest.approx(expected, abs=TOL)


def test_ks_matches_scipy_asymptotic(samples: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = samples
    d, p = stats.ks_2samp(x, y)
    ref = ss.ks_2samp(x, y, method="asymp")
    assert d == pytest.approx(ref.statistic, abs=TOL)
    en = len(x) * len(y) / (len(x) + len(y))
    # The p-value is the Kolmogorov limit law; scipy's "asymp" uses the finite-n
    # one-sample law at round(en), which converges to it.
    assert p == pytest.approx(sp.kolmogorov(math.sqrt(en) * d), abs=TOL)
    assert p == pytest.approx(ref.pvalue, abs=1e-2)


@pytest.mark.parametrize("lam", [0.05, 0.4, 0.9, 1.17, 1.19, 1.6, 2.5, 4.0])
def test_kolmogorov_tail_matches_scipy(lam: float) -> None:
    assert stats.kolmogorov_sf(lam) == pytest.approx(sp.kolmogorov(lam), abs=TOL)


def test_chi2_matches_scipy() -> None:
    ref, live = [700, 100, 100, 50, 30, 20, 0], [610, 140, 90, 60, 40, 30, 30]
    stat, dof, p = stats.chi2_contingency(ref, live)
    table = np.array([ref, live])[:, :]
    expected = ss.chi2_contingency(table, correction=False)
    assert stat == pytest.approx(expected.statistic, abs=TOL)
    assert dof == expected.dof
    assert p == pytest.approx(expected.pvalue, abs=TOL)
    small = stats.chi2_contingency([50, 40], [45, 44])
    scipy_small = ss.chi2_contingency(np.array([[50, 40], [45, 44]]), correction=False)
    assert small[0] == pytest.approx(scipy_small.statistic, abs=TOL)
    assert small[2] == pytest.approx(scipy_small.pvalue, abs=TOL)


def test_chi2_drops_empty_columns() -> None:
    with_empty = stats.chi2_contingency([10, 0, 5], [12, 0, 3])
    assert with_empty[1] == 1
    assert with_empty[0] == pytest.approx(stats.chi2_contingency([10, 5], [12, 3])[0], abs=TOL)


@pytest.mark.parametrize(("a", "x"), [(0.5, 0.1), (1, 3), (3, 2), (3, 10), (40, 35), (500, 560)])
def test_incomplete_gamma_matches_scipy(a: float, x: float) -> None:
    assert stats.gammaincc(a, x) == pytest.approx(sp.gammaincc(a, x), abs=1e-12)


@pytest.mark.parametrize(
    ("tail", "shape", "scale"), [(1e-3, 0.5, 2), (1e-5, 3.0, 0.01), (1e-7, 40, 1)]
)
def test_gamma_quantile_matches_scipy(tail: float, shape: float, scale: float) -> None:
    expected = ss.gamma.isf(tail, shape, scale=scale)
    assert stats.gamma_isf(tail, shape, scale) == pytest.approx(expected, rel=1e-9)


def test_cosine_distance_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=64), rng.normal(size=64)
    assert stats.cosine_distance(a, b) == pytest.approx(scipy_cosine(a, b), abs=TOL)


def test_mmd_matches_direct_sum() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(20, 5)), rng.normal(0.3, 1, size=(15, 5))
    gamma = 0.2

    def k(a: np.ndarray, b: np.ndarray) -> float:
        return math.exp(-gamma * float(np.sum((a - b) ** 2)))

    kxx = sum(k(a, b) for a in x for b in x) / len(x) ** 2
    kyy = sum(k(a, b) for a in y for b in y) / len(y) ** 2
    kxy = sum(k(a, b) for a in x for b in y) / (len(x) * len(y))
    assert stats.mmd2_rbf(x, y, gamma) == pytest.approx(kxx + kyy - 2 * kxy, abs=TOL)
    assert stats.mmd2_rbf(x, x, gamma) == pytest.approx(0.0, abs=TOL)
