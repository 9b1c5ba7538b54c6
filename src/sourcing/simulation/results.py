"""SimulationResult: per-draw outputs of :func:`~sourcing.simulation.simulate` and their summaries.

Conventions
-----------
* ``total``: undiscounted cost over the horizon [tender currency]; ``npv``: cost discounted at the scenario's
  rate, cash at the end of each year [tender currency].  Costs are positive (a higher number is worse).
* ``VaR95`` is the 95th percentile of cost; ``CVaR95`` the expected shortfall
  ``VaR + E[(X - VaR)+] / 0.05`` (Rockafellar & Uryasev 2000), so ``CVaR95 >= VaR95``.
* Percentiles use numpy's default (linear interpolation, Hyndman & Fan type 7).
* Standard errors are ``sd / sqrt(n)`` (exact for plain Monte Carlo; conservative for LHS and
  Sobol, whose variance is usually lower).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..tender import DEFAULT_CURRENCY

__all__ = ["SimulationResult"]

_Q = (0.05, 0.10, 0.50, 0.90, 0.95)
_METRICS = ("total", "npv")


@dataclass(eq=False)
class SimulationResult:
    """Outputs of a simulation run.

    Attributes
    ----------
    names : list of str
        Scenario names.
    cash : ndarray, float32, (scenarios, draws, years)
        Cost per contract year [tender currency].
    drivers : ndarray, float32, (scenarios, draws, drivers)
        Cost per driver summed over the horizon [tender currency].
    driver_names : tuple of str
    discount : ndarray (scenarios, years)
        Discount factors.
    inputs : DataFrame
        Input values of the first draws (for sensitivity); events summarised per draw
        (failure within the horizon 0/1, breached months, security loss [tender currency]).
    uses : dict
        Scenario -> names of the inputs it uses.
    budget : float or None
    currency : str
    meta : dict
        n, seed, sampling, chunk_size, copula, precision, seconds...
    scenarios : list of SourcingScenario
    correlation : DataFrame or None
        Spearman matrix imposed on the inputs.
    """

    names: list[str]
    cash: np.ndarray
    drivers: np.ndarray
    driver_names: tuple[str, ...]
    discount: np.ndarray
    inputs: pd.DataFrame
    uses: dict[str, list[str]]
    budget: float | None = None
    currency: str = DEFAULT_CURRENCY
    meta: dict[str, Any] = field(default_factory=dict)
    scenarios: list[Any] = field(default_factory=list, repr=False)
    correlation: pd.DataFrame | None = None

    # ------------------------------------------------------------------ per-draw outputs
    @property
    def n(self) -> int:
        """Number of draws."""
        return int(self.cash.shape[1])

    @property
    def years(self) -> int:
        """Horizon [years]."""
        return int(self.cash.shape[2])

    @property
    def input_names(self) -> list[str]:
        """Names of all inputs and event streams in the run."""
        return list(self.inputs.columns)

    @cached_property
    def _total(self) -> np.ndarray:
        return self.cash.sum(axis=2, dtype=np.float64)

    @cached_property
    def _npv(self) -> np.ndarray:
        return np.einsum("sny,sy->sn", self.cash.astype(np.float64), self.discount)

    def values(self, metric: str = "total") -> np.ndarray:
        """Per-draw *metric* (``"total"`` or ``"npv"``), array (scenarios, draws) [tender currency]."""
        if metric not in _METRICS:
            raise ValueError(f"metric must be one of {', '.join(_METRICS)}, got {metric!r}")
        return self._total if metric == "total" else self._npv

    @property
    def totals(self) -> pd.DataFrame:
        """Undiscounted total cost per draw, draws x scenarios [tender currency]."""
        return pd.DataFrame(self._total.T, columns=self.names)

    @property
    def npv(self) -> pd.DataFrame:
        """Discounted cost per draw, draws x scenarios [tender currency]."""
        return pd.DataFrame(self._npv.T, columns=self.names)

    def _index(self, scenario: str | None) -> int:
        if scenario is None:
            return 0
        if scenario not in self.names:
            raise ValueError(f"unknown scenario {scenario!r}; valid: {', '.join(self.names)}")
        return self.names.index(scenario)

    # ------------------------------------------------------------------ summaries
    def summary(self, metric: str = "total", *, budget: float | None = None) -> pd.DataFrame:
        """Scenario x statistic table [tender currency; probabilities as fractions].

        Columns: mean, se (standard error of the mean), p5, p10, p50, p90, p95, var95, cvar95,
        p_over_budget (when a budget is known; compared with the undiscounted total), p_cheapest.
        """
        x = self.values(metric)
        budget = self.budget if budget is None else budget
        q = np.quantile(x, _Q, axis=1)
        var95 = q[-1]
        cvar95 = var95 + np.maximum(x - var95[:, None], 0.0).mean(axis=1) / 0.05
        out = pd.DataFrame({
            "mean": x.mean(axis=1),
            "se": x.std(axis=1, ddof=1) / math.sqrt(self.n),
            **{f"p{int(round(p * 100))}": q[i] for i, p in enumerate(_Q)},
            "var95": var95,
            "cvar95": cvar95,
        }, index=pd.Index(self.names, name="scenario"))
        if budget is not None:
            out["p_over_budget"] = (self._total > budget).mean(axis=1)
        out["p_cheapest"] = self.prob_cheapest(metric).to_numpy()
        out.attrs.update({"metric": metric, "currency": self.currency, "n": self.n, "budget": budget})
        return out

    def to_frame(self, metric: str = "total") -> pd.DataFrame:
        """The :meth:`summary` table."""
        return self.summary(metric)

    def prob_cheapest(self, metric: str = "total") -> pd.Series:
        """Probability that each scenario has the lowest cost (ties to the first listed)."""
        x = self.values(metric)
        best = np.argmin(x, axis=0)
        p = np.bincount(best, minlength=len(self.names)) / self.n
        return pd.Series(p, index=pd.Index(self.names, name="scenario"), name="p_cheapest")

    def paired_differences(self, metric: str = "total", *, level: float = 0.95) -> pd.DataFrame:
        """Every pair (a, b): mean of cost(a) - cost(b) over common draws, its s.e., CI, P(a < b)."""
        x = self.values(metric)
        z = float(stats.norm.ppf(0.5 + level / 2))
        rows = []
        for i, a in enumerate(self.names):
            for j in range(i + 1, len(self.names)):
                d = x[i] - x[j]
                m, se = float(d.mean()), float(d.std(ddof=1)) / math.sqrt(self.n)
                rows.append({"a": a, "b": self.names[j], "mean_diff": m, "se": se,
                             "ci_low": m - z * se, "ci_high": m + z * se,
                             "p_a_cheaper": float((d < 0).mean())})
        return pd.DataFrame(rows, columns=["a", "b", "mean_diff", "se", "ci_low", "ci_high",
                                           "p_a_cheaper"])

    def by_driver(self) -> pd.DataFrame:
        """Mean cost per driver over the horizon, scenario x driver [tender currency, undiscounted]."""
        m = self.drivers.mean(axis=1, dtype=np.float64)
        return pd.DataFrame(m, index=pd.Index(self.names, name="scenario"),
                            columns=list(self.driver_names))

    def yearly(self, scenario: str | None = None, quantiles: tuple[float, ...] = _Q) -> pd.DataFrame:
        """Cost per contract year: mean and quantiles, year x statistic [tender currency]."""
        c = self.cash[self._index(scenario)].astype(np.float64)
        q = np.quantile(c, quantiles, axis=0)
        out = pd.DataFrame({f"p{int(round(p * 100))}": q[i] for i, p in enumerate(quantiles)},
                           index=pd.RangeIndex(1, self.years + 1, name="year"))
        out.insert(0, "mean", c.mean(axis=0))
        return out

    def exceedance(self, scenario: str | None = None, metric: str = "total",
                   points: int = 200) -> pd.DataFrame:
        """Loss-exceedance curve: cost level [tender currency] and P(cost > level)."""
        x = np.sort(self.values(metric)[self._index(scenario)])
        p = 1.0 - np.arange(1, x.size + 1) / x.size
        idx = np.unique(np.linspace(0, x.size - 1, min(points, x.size)).astype(int))
        return pd.DataFrame({"level": x[idx], "p_exceed": p[idx]})

    # ------------------------------------------------------------------ sensitivity
    def tornado(self, scenario: str | None = None, *, method: str = "spearman",
                metric: str = "total") -> pd.DataFrame:
        """Input importance for one scenario's cost, sorted by absolute value.

        ``spearman``: rank correlation of each input with the cost; ``srrc``: standardised rank
        regression coefficients (ranks of the cost regressed on the ranks of all inputs; the
        attribute ``r2`` gives the fit).  Uses the first ``sensitivity_draws`` draws; inputs
        without variation are dropped.
        """
        valid = ("spearman", "srrc")
        if method not in valid:
            raise ValueError(f"method must be one of {', '.join(valid)}, got {method!r}")
        i = self._index(scenario)
        name = self.names[i]
        cols = [c for c in self.uses[name] if c in self.inputs.columns]
        m = len(self.inputs)
        y = self.values(metric)[i, :m]
        xin = self.inputs[cols].to_numpy(np.float64)
        keep = [j for j in range(len(cols)) if np.ptp(xin[:, j]) > 0]
        cols = [cols[j] for j in keep]
        xin = xin[:, keep]
        if not cols:
            return pd.DataFrame({"input": [], "coef": []})
        rx = np.apply_along_axis(stats.rankdata, 0, xin)
        ry = stats.rankdata(y)
        rx = (rx - rx.mean(axis=0)) / rx.std(axis=0)
        ry = (ry - ry.mean()) / ry.std()
        r2 = float("nan")
        if method == "spearman":
            coef = rx.T @ ry / m
        else:
            coef, *_ = np.linalg.lstsq(rx, ry, rcond=None)
            r2 = 1.0 - float(((ry - rx @ coef) ** 2).mean())
        out = pd.DataFrame({"input": cols, "coef": coef})
        out = out.reindex(out["coef"].abs().sort_values(ascending=False, kind="stable").index)
        out = out.reset_index(drop=True)
        out.attrs.update({"scenario": name, "method": method, "metric": metric, "r2": r2})
        return out

    def swing(self, scenario: str | None = None, *, low: float = 0.1, high: float = 0.9,
              n: int = 4096, seed: int = 0, metric: str = "total") -> pd.DataFrame:
        """One-at-a-time swing table (see :func:`sourcing.simulation.engine.swing_table`)."""
        from .engine import swing_table

        return swing_table(self, scenario, low=low, high=high, n=n, seed=seed, metric=metric)

    # ------------------------------------------------------------------ plots
    def plot(self, kind: str = "hist", *, ax: Any = None, **kwargs: Any) -> Any:
        """Draw with :mod:`sourcing.plots.simulation`; returns the Axes.

        kind : {"hist", "cdf", "fan", "tornado", "exceedance", "compare"}
        """
        from ..plots import simulation as p

        kinds = {"hist": p.plot_cost_distribution, "cdf": p.plot_cost_cdf, "fan": p.plot_fan_chart,
                 "tornado": p.plot_tornado, "exceedance": p.plot_loss_exceedance,
                 "compare": p.plot_scenario_comparison}
        if kind not in kinds:
            raise ValueError(f"unknown kind {kind!r}; valid choices: {', '.join(kinds)}")
        return kinds[kind](self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        return (f"SimulationResult(scenarios={self.names}, n={self.n:,}, years={self.years}, "
                f"sampling={self.meta.get('sampling')!r})")
