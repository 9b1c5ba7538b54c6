"""What-if: change weights, method, gates, policy or assumptions and see what follows.

A :class:`State` is a small, frozen record of what a steering meeting changes: the criterion
weights (shares of 1), the ranking method and its parameters, the gates on or off, the policy's
rules and multipliers on four simulation assumptions (:data:`MULTIPLIERS`).  A :class:`WhatIf`
holds one scenario and its tender; its methods go from a state to results through the pipeline's
stages (:mod:`sourcing.pipeline`), so a change re-runs only what it touches and a state seen
before is answered from the stage cache:

* :meth:`WhatIf.ranking`, :meth:`WhatIf.stability`: the ranking with contributions and each
  weight's stability interval (the ``score`` stage's code, without the solver);
* :meth:`WhatIf.award`: the least-cost award under the state's policy, with its cost and binding
  rules (the ``award`` stage);
* :meth:`WhatIf.outcome`: the sourcing options simulated and the recommendation (``simulate``
  and ``decide``).  The risk-aware award takes seconds to solve: it is solved for the state last
  passed to :meth:`WhatIf.reoptimise` (the scenario's own at first) and signed as it is by the
  other states, which the outcome says (``Outcome.risk_award_current``);
* :meth:`WhatIf.save`: the state as a scenario file that ``sourcing report --scenario`` renders.

Weights move as in the stability analysis: setting one criterion's share rescales the others
in proportion, so they always sum to 100 %.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from . import present as fmt
from .scenario import Scenario
from .simulation.assumptions import MULTIPLIERS

__all__ = ["MULTIPLIERS", "Outcome", "State", "WhatIf"]


@dataclass(frozen=True)
class State:
    """What a what-if changes; every field is plain data (compared, hashed, saved).

    Attributes
    ----------
    weights : dict
        Criterion id -> share of the total weight (fractions summing to 1; knock-out gates 0).
    method : str
        Ranking method (:data:`sourcing.scoring.METHODS`).
    params : dict
        The method's parameters (``normalization``, ``v``, ``preference`` ...).
    gates : bool
        Apply the tender's knock-out gates.
    policy : dict
        The sourcing policy's rules (:class:`sourcing.allocation.Policy` fields; percent as
        percent, money in the tender currency per year).
    multipliers : dict
        :data:`MULTIPLIERS` name -> factor on the scenario's assumption (1 = as assumed).
    overrides : dict
        Other scenario values by dotted key (``simulation.budget``, a numeric
        ``simulation.assumptions.<name>``, a tender cell ``tender_cells.<table>.<row>.<column>``),
        applied last.
    """

    weights: Mapping[str, float]
    method: str
    params: Mapping[str, Any] = field(default_factory=dict)
    gates: bool = True
    policy: Mapping[str, Any] = field(default_factory=dict)
    multipliers: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(MULTIPLIERS, 1.0))
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def key(self) -> str:
        """A text equal for equal states (the cache key of their results)."""
        return json.dumps({"weights": {k: round(float(v), 12) for k, v in self.weights.items()},
                           "method": self.method, "params": self.params, "gates": self.gates,
                           "policy": self.policy, "multipliers": self.multipliers,
                           "overrides": self.overrides},
                          sort_keys=True, default=str)

    def with_weight(self, criterion: str, share: float) -> State:
        """*criterion* at *share* of the total (0..1); the others rescaled in proportion so the
        weights sum to 1 (equally, when they were all 0)."""
        if criterion not in self.weights:
            raise ValueError(f"unknown criterion {criterion!r}; valid: {', '.join(self.weights)}")
        share = _fraction(share, f"the weight of {criterion}")
        rest = {c: float(w) for c, w in self.weights.items() if c != criterion}
        total = sum(rest.values())
        scale = {c: (w / total if total > 0 else 1.0 / len(rest)) for c, w in rest.items()}
        new = {c: (share if c == criterion else (1.0 - share) * scale[c]) for c in self.weights}
        return replace(self, weights=new)

    def with_group_weight(self, members: list[str], share: float) -> State:
        """The criteria *members* (a group) together at *share* of the total (0..1), each keeping
        its part of the group; the other criteria rescaled in proportion."""
        unknown = [c for c in members if c not in self.weights]
        if unknown or not members:
            raise ValueError(f"unknown criteria {unknown}; valid: {', '.join(self.weights)}")
        share = _fraction(share, "the group's weight")
        inside = sum(float(self.weights[c]) for c in members)
        outside = 1.0 - inside
        new = {}
        for c, w in self.weights.items():
            if c in members:
                new[c] = share * (float(w) / inside if inside > 0 else 1.0 / len(members))
            else:
                rest = len(self.weights) - len(members)
                new[c] = (1.0 - share) * (float(w) / outside if outside > 0 else 1.0 / rest)
        return replace(self, weights=new)

    def with_policy(self, **rules: Any) -> State:
        """The policy with *rules* set (``None`` lifts a rule)."""
        from .allocation import Policy

        unknown = sorted(set(rules) - set(Policy.model_fields))
        if unknown:
            raise ValueError(f"unknown policy rule(s) {unknown}; valid: "
                             + ", ".join(Policy.model_fields))
        policy = {**self.policy, **rules}
        policy = {k: v for k, v in policy.items() if v is not None}
        Policy(**policy)  # refuses bad values (a share above 100 %, ...)
        return replace(self, policy=policy)

    def with_multiplier(self, name: str, factor: float) -> State:
        """Assumption multiplier *name* (:data:`MULTIPLIERS`) at *factor* (>= 0)."""
        if name not in MULTIPLIERS:
            raise ValueError(f"unknown multiplier {name!r}; valid: {', '.join(MULTIPLIERS)}")
        factor = float(factor)
        if not factor >= 0 or factor == float("inf"):
            raise ValueError(f"multiplier {name} must be finite and >= 0, got {factor}")
        return replace(self, multipliers={**self.multipliers, name: factor})

    def with_method(self, method: str, **params: Any) -> State:
        """Rank by *method* with *params* (the scenario's parameters are kept for its own method)."""
        from .scoring import METHODS

        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; valid choices: {', '.join(METHODS)}")
        return replace(self, method=method, params=dict(params))

    def with_overrides(self, **values: Any) -> State:
        """Other scenario values by dotted key (``**{"simulation.budget": 6e7}``); ``None``
        removes one.  Checked when the state becomes a scenario."""
        overrides = {**self.overrides, **values}
        return replace(self, overrides={k: v for k, v in overrides.items() if v is not None})

    def with_gates(self, on: bool) -> State:
        """Gates applied (True) or every vendor ranked (False)."""
        return replace(self, gates=bool(on))


def _fraction(x: float, what: str) -> float:
    x = float(x)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{what} is a share of the total, within [0, 1]; got {x}")
    return x


@dataclass(frozen=True)
class Outcome:
    """The sourcing options under a state, and the recommendation.

    Attributes
    ----------
    summary : DataFrame
        Per option: cost over the contract at its mean, P50, P90, CVaR95 (tender currency,
        undiscounted) and the probabilities of exceeding the budget and of being cheapest.
    decision : sourcing.decision.Decision
        The recommended option and why not the others.
    risk_award_current : bool
        The risk-aware award was solved for this state; False: it was solved for an earlier one
        (:meth:`WhatIf.reoptimise` solves it for this one).
    """

    summary: pd.DataFrame
    decision: Any
    risk_award_current: bool


class WhatIf:
    """One scenario's what-ifs: results of a :class:`State` by the pipeline's stages.

    Parameters
    ----------
    scenario : Scenario or path
        The scenario the what-ifs start from (its file, or a loaded one).
    draws : int, optional
        Simulation draws per option for :meth:`outcome` (default the scenario's
        ``simulation.n``); a saved scenario keeps the scenario's own.
    cache : sourcing.cache.StageCache, optional
        Where stage results are kept (default: this object's memory).
    """

    def __init__(self, scenario: Scenario | str | os.PathLike, *, draws: int | None = None,
                 cache: Any = None) -> None:
        from .cache import StageCache
        from .pipeline import run_stages
        from .scoring import tender_weights

        self.scenario = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
        self.draws = draws
        self.cache = cache if cache is not None else StageCache()
        results, _ = run_stages(self.scenario, ["tender"], cache=self.cache)
        self.tender = results["tender"]
        sc = self.scenario.scoring
        weights, _ = tender_weights(self.tender, sc.weighting, weight_points=sc.weights)
        self.start = State(weights=weights.astype(float).to_dict(), method=sc.method,
                           params=dict(sc.params), gates=sc.gates,
                           policy=dict(self.scenario.allocation.policy))
        self.names = fmt.Names.of(self.tender)
        self._optimised = self.start
        self._memo: dict[tuple[str, str], Any] = {}
        self._scenarios: dict[tuple[str, int | None], Scenario] = {}

    # ---------------------------------------------------------------- the state as a scenario
    @property
    def groups(self) -> dict[str, list[str]]:
        """Criterion group -> its criteria (knock-out gates left out), in the tender's order."""
        from .scoring.evaluation import knockout_only

        gates = set(knockout_only(self.tender))
        crit = self.tender.criteria
        out: dict[str, list[str]] = {}
        for c, g in crit["group"].items():
            if c not in gates:
                out.setdefault(str(g), []).append(str(c))
        return out

    def scenario_of(self, state: State, *, draws: int | None = None) -> Scenario:
        """*state* as a scenario: weights as points (percent of the total, direct weighting),
        method, gates, policy and the multiplied assumptions written out (:func:`~sourcing.
        simulation.assumptions.scaled_specs`); *draws* simulation draws (default the scenario's)."""
        key = (state.key(), draws)
        if key not in self._scenarios:
            self._scenarios[key] = self._scenario_of(state, draws)
        return self._scenarios[key]

    def _scenario_of(self, state: State, draws: int | None) -> Scenario:
        # only what the state changes is written: the stages it does not touch keep the
        # scenario's keys, so they are found in the scenario's stage cache (a report's run)
        from .simulation import Assumptions
        from .simulation.assumptions import scaled_specs

        sc, start = self.scenario, self.start
        data = sc.model_dump(mode="json")
        if dict(state.weights) != dict(start.weights):
            data["scoring"].update(weights={c: round(100.0 * float(w), 10)
                                            for c, w in state.weights.items()}, weighting="direct")
        data["scoring"].update(method=state.method, params=dict(state.params), gates=state.gates)
        data["allocation"]["policy"] = dict(state.policy)
        if any(float(f) != 1.0 for f in state.multipliers.values()):
            base = Assumptions.for_tender(self.tender, sc.simulation.assumptions)
            data["simulation"]["assumptions"] = {**sc.simulation.assumptions,
                                                 **scaled_specs(base, state.multipliers)}
        for key, value in state.overrides.items():
            *sections, last = key.split(".")
            target = data
            for i, part in enumerate(sections):
                if i and sections[0] == "tender_cells":  # cells are nested only where set
                    target.setdefault(part, {})
                if not isinstance(target.get(part), dict):
                    raise ValueError(f"{key}: {part} is not a section of the scenario")
                target = target[part]
            target[last] = value
        if draws is not None:
            data["simulation"]["n"] = int(draws)
        data["source"] = sc.source
        return Scenario.validate_dict(data, label=f"what-if of {sc.name}")

    def _stages(self, state: State, stages: list[str]) -> dict[str, Any]:
        from .pipeline import run_stages

        results, _ = run_stages(self.scenario_of(state, draws=self.draws), stages, cache=self.cache)
        return results

    def _memoised(self, what: str, state: State, compute: Any) -> Any:
        key = (what, state.key())
        if key not in self._memo:
            if len(self._memo) > 512:  # a long meeting: keep the newest answers
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = compute()
        return self._memo[key]

    # ---------------------------------------------------------------- results of a state
    def ranking(self, state: State) -> Any:
        """The ranking under *state* (:class:`sourcing.scoring.Evaluation`: scores, ranks,
        contributions per criterion, exclusions, quality 0-100)."""
        from .scoring import evaluate

        def compute():
            return evaluate(self.tender, **self.scenario_of(state).scoring.evaluate_kwargs)

        return self._memoised("ranking", state, compute)

    def stability(self, state: State) -> Any:
        """Each ranked criterion's weight interval within which the first-ranked vendor stays
        first (:class:`sourcing.scoring.StabilityResult`), for the state's method where it can be
        scanned (WSM, WPM, TOPSIS, VIKOR, PROMETHEE), else for WSM."""
        from .pipeline import _smaa_method
        from .scoring import weight_stability

        def compute():
            ev = self.ranking(state)
            method, params = _smaa_method(self.scenario_of(state).scoring)
            return weight_stability(ev.matrix, ev.objectives, ev.weights, method=method, **params)

        return self._memoised("stability", state, compute)

    def award(self, state: State) -> Any:
        """The least-cost award under the state's policy (:class:`sourcing.allocation.Award`:
        volumes, shares, cost in the tender currency per year, binding rules)."""
        return self._memoised("award", state, lambda: self._stages(state, ["award"])["award"])

    def outcome(self, state: State) -> Outcome:
        """The sourcing options under *state*, simulated with common random numbers, and the
        recommendation; the risk-aware award is the one solved for the state last
        :meth:`reoptimise`\\ d (see :class:`Outcome`)."""
        from .pipeline import _stage_decide, _stage_simulate, board_summary

        current = state.key() == self._optimised.key()

        def compute():
            if current:
                found = self._stages(state, ["decide"])
                sim, decision = found["simulate"], found["decide"]
            else:
                up = self._stages(state, ["award", "performance"])
                up["risk_award"] = self._stages(self._optimised, ["risk_award"])["risk_award"]
                scn = self.scenario_of(state, draws=self.draws)
                sim = _stage_simulate(scn, up, {})
                decision = _stage_decide(scn, {"tender": self.tender, "simulate": sim}, {})
            return Outcome(board_summary(sim.simulation), decision, current)

        return self._memoised(f"outcome:{self._optimised.key()}", state, compute)

    def reoptimise(self, state: State) -> None:
        """Solve the risk-aware award for *state* from now on (seconds: it is a stochastic MILP
        over the scenario's risk scenarios)."""
        self._optimised = state

    def gaia(self, state: State) -> Any:
        """The GAIA plane of the state's PROMETHEE ranking (:func:`sourcing.scoring.gaia`), or
        None when the state ranks by another method."""
        from .scoring import gaia, net_flows

        if state.method != "promethee":
            return None
        ev = self.ranking(state)
        return gaia(net_flows(ev), ev.weights)

    @property
    def price_criteria(self) -> list[str]:
        """The criteria that score the bid price (``criteria.source == "price"``)."""
        crit = self.tender.criteria
        return [str(c) for c in crit.index if crit.at[c, "source"] == "price"]

    # ---------------------------------------------------------------- words and files
    def story(self, state: State) -> list[str]:
        """What *state* changes and what follows, in sentences: the changes, who ranks first,
        the least-cost award and its binding rules, the recommendation and why not the others."""
        from .narrative import award_story, binding_story, options_story, ranking_story

        out = self.changes(state) or ["The scenario as it is, with nothing changed."]
        try:
            out += ranking_story(self.ranking(state), method=state.method)
        except ValueError as err:
            return [*out, f"No ranking: {err}"]
        award = self.award(state)
        out += award_story(award, names=self.names) + binding_story(award, names=self.names)
        outcome = self.outcome(state)
        out += options_story(outcome.decision)
        if not outcome.risk_award_current:
            out.append("The risk-aware award is the one optimised for an earlier state; "
                       "re-optimise it for these settings.")
        return out

    def changes(self, state: State) -> list[str]:
        """What *state* changes against the scenario, one sentence each (names, percents)."""
        return describe(self.start, state, names=self.names, criteria=self.tender.criteria)

    def save(self, state: State, path: str | os.PathLike, *, force: bool = False) -> Path:
        """Write *state* as a scenario YAML file at *path* (refused when the file exists, unless
        *force*); ``sourcing report --scenario PATH`` renders it.  Paths inside are relative to
        the file's folder where they can be; the simulation keeps the scenario's own draws.

        Returns
        -------
        Path
            The file written.
        """
        import yaml

        from .outputs import atomic_path

        target = Path(path)
        if target.suffix.lower() not in (".yaml", ".yml"):
            raise ValueError(f"a scenario file ends in .yaml or .yml, not {target.name!r}")
        if target.exists() and not force:
            raise FileExistsError(f"{target} exists; choose another name or pass force=True")
        scn = self.scenario_of(state)
        data = scn.model_dump(mode="json")
        data["name"] = f"{self.scenario.name} (what-if)"
        words = self.changes(state)
        data["description"] = (f"What-if of the scenario {self.scenario.name}: " + " ".join(words)
                               if words else f"The scenario {self.scenario.name}, unchanged.")
        folder = target.resolve().parent
        for key in ("tender", "performance"):
            if data.get(key):
                data[key] = _relative(Path(data[key]), folder)
        data = {k: v for k, v in data.items() if v is not None}
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return target


def _relative(path: Path, folder: Path) -> str:
    try:
        return os.path.relpath(path, folder)
    except ValueError:  # another drive
        return str(path)


_POLICY_WORDS = {
    "min_share_pct": "least share of a lot per vendor", "max_share_pct": "most share of a lot per vendor",
    "min_vendors_per_lot": "least vendors per lot", "max_vendors_per_lot": "most vendors per lot",
    "max_vendors_total": "most vendors in all", "max_lots_per_vendor": "most lots per vendor",
    "max_spend_share_pct": "most share of spend with one vendor",
    "quality_floor": "quality floor per lot", "risk_cap": "risk cap per lot",
}


def _rule_value(rule: str, value: Any) -> str:
    if value is None:
        return "none"
    return fmt.percent(float(value), of=100) if rule.endswith("_pct") else fmt.text(value)


def describe(start: State, state: State, *, names: fmt.Names, criteria: pd.DataFrame) -> list[str]:
    """Sentences saying how *state* differs from *start*: weights moved by more than 0.05
    points, method, gates, policy rules and assumption multipliers."""
    out = []
    new, old = ({c: float(w) for c, w in s.weights.items()} for s in (state, start))
    moved = [c for c in new if abs(new[c] - old.get(c, 0.0)) > 5e-4]
    # the weights that kept their proportions to each other: "the others rescaled"
    ratios = {c: new[c] / old[c] for c in moved if old.get(c, 0.0) > 0}
    common = pd.Series(ratios).round(6).mode() if ratios else pd.Series(dtype=float)
    scaled = [c for c in moved if len(common) and c in ratios
              and abs(ratios[c] - float(common.iloc[0])) < 1e-6 and len(moved) > 2]
    named = [c for c in moved if c not in scaled]
    if named:
        parts = [f"{criteria.at[c, 'name']} weighs {fmt.percent(new[c])} "
                 f"(was {fmt.percent(old.get(c, 0.0))})" for c in named]
        r = float(common.iloc[0]) if scaled else 1.0
        tail = (f"; the other weights rescaled in proportion (each {fmt.percent(abs(1 - r))} "
                f"{'lower' if r < 1 else 'higher'})" if scaled else "")
        out.append(fmt.listing(parts) + tail + ".")
    if state.method != start.method or dict(state.params) != dict(start.params):
        out.append(f"Ranked by {state.method.upper()} (was {start.method.upper()}).")
    if state.gates != start.gates:
        out.append("The knock-out gates are off: every vendor is ranked." if not state.gates
                   else "The knock-out gates are on.")
    for rule in sorted(set(state.policy) | set(start.policy)):
        now, was = state.policy.get(rule), start.policy.get(rule)
        if now != was:
            label = _POLICY_WORDS.get(rule, fmt.label(rule))
            out.append(f"Policy: {label} {_rule_value(rule, now)} (was {_rule_value(rule, was)}).")
    for name, (label, _) in MULTIPLIERS.items():
        f = float(state.multipliers.get(name, 1.0))
        if abs(f - float(start.multipliers.get(name, 1.0))) > 1e-9:
            out.append(f"{label} times {fmt.number(f, decimals=2)}.")
    for key in sorted(set(state.overrides) | set(start.overrides)):
        now, was = state.overrides.get(key), start.overrides.get(key)
        if now != was:
            out.append(f"{fmt.label(key.rsplit('.', 1)[-1])}: {fmt.text(now)}"
                       + (f" (was {fmt.text(was)})." if was is not None else "."))
    return out
