"""Scenario files: one YAML file holds every choice of an analysis run.

A scenario names the tender, the scoring method and weight overrides, the allocation policy, the
simulation settings, the budget and the seed.  ``sourcing report --scenario FILE`` and the
notebooks read it; CI re-runs every shipped scenario.  Paths in the file are relative to the file's
own folder.

Example (``data/scenarios/baseline.yaml``)::

    name: Baseline
    tender: ../sample-tender
    seed: 20261127
    scoring: {method: topsis}
    allocation:
      policy: {max_vendors_per_lot: 3}
    simulation: {n: 20000, budget: 62000000}   # in the tender's currency

Errors name the key and the line of the file, e.g.
``baseline.yaml line 7: simulation.n: Input should be greater than or equal to 100``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator
from pydantic import ValidationError as PydanticError

from .schemas import Problem, ValidationError

__all__ = ["Scenario"]

_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
#: Largest scenario file, bytes (a scenario is a page of settings).
MAX_SCENARIO_BYTES = 1 * 2**20
#: Deepest nesting of mappings and lists in a scenario file (the shipped ones nest 3 deep).
MAX_SCENARIO_DEPTH = 32
OPTIONS = ("inhouse", "single_vendor", "multi_vendor", "hybrid")


def _finite_values(x: Any) -> bool:
    """No NaN or infinity anywhere in a scenario value (numbers, lists and mappings of them)."""
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return True
    if isinstance(x, int | float):
        return math.isfinite(x)
    if isinstance(x, dict):
        return all(_finite_values(y) for y in x.values())
    if isinstance(x, list | tuple):
        return all(_finite_values(y) for y in x)
    return True


class ScoringSettings(BaseModel):
    """How vendors are scored (``sourcing.scoring.evaluate``)."""

    model_config = _STRICT
    method: str = Field("topsis", description="MCDA method: wsm, wpm, topsis, vikor, promethee, "
                        "electre, ...")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="Method options, e.g. {normalization: vector}.")
    weights: dict[str, float] | None = Field(
        None, description="Weight overrides in points by criterion id; others keep theirs.")
    aggregate: Literal["mean", "median", "geometric"] | None = Field(
        None, description="How several evaluators' scores combine (default: tender setting).")
    weighting: Literal["direct", "ahp"] | None = Field(
        None, description="Criterion weights: direct points or AHP judgments (default: tender setting).")
    price_formula: Literal["proportional", "linear", "reference"] | None = Field(
        None, description="Turn prices into points first (default: the method normalises price).")
    gates: bool = Field(True, description="Apply the tender's knock-out gates (false: rank every "
                        "vendor, a what-if).")
    smaa_samples: int = Field(10_000, ge=100, le=1_000_000,
                              description="Weight samples for SMAA rank acceptability.")

    @property
    def evaluate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``sourcing.scoring.evaluate`` for these settings."""
        return {"method": self.method, "aggregate": self.aggregate, "weighting": self.weighting,
                "price_formula": self.price_formula, "weight_points": self.weights, "gates": self.gates,
                **self.params}

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        bad = {k: w for k, w in (v or {}).items() if not (math.isfinite(w) and w >= 0)}
        if bad:
            raise ValueError("weights are points, finite and >= 0; not: "
                             + ", ".join(f"{k}: {w}" for k, w in bad.items()))
        return v

    @field_validator("params")
    @classmethod
    def _no_first_class_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        taken = {"method": "scoring.method", "weights": "scoring.weights",
                 "weight_points": "scoring.weights", "aggregate": "scoring.aggregate",
                 "weighting": "scoring.weighting", "price_formula": "scoring.price_formula",
                 "gates": "scoring.gates",
                 "n": "scoring.smaa_samples", "smaa_samples": "scoring.smaa_samples",
                 "seed": "seed"}
        clash = [k for k in v if k in taken]
        if clash:
            raise ValueError("method options only; " + "; ".join(
                f"{k} is set by {taken[k]}, not in scoring.params" for k in clash))
        bad = [k for k, x in v.items() if not _finite_values(x)]
        if bad:
            raise ValueError(f"{', '.join(bad)}: numbers must be finite (no .nan or .inf)")
        return v


class RiskSettings(BaseModel):
    """The risk-aware award (``sourcing.allocation.allocate_risk``) beside the cheapest one."""

    model_config = _STRICT
    enabled: bool = Field(True, description="Solve the risk-aware award, its frontier and the "
                          "value of a backup vendor (needs a feasible award).")
    lam: float = Field(1.0, ge=0, le=100, description="Weight of CVaR against expected cost.")
    alpha: float = Field(0.95, gt=0, lt=1, description="CVaR level: the mean of the worst 1 - alpha.")
    scenarios: int = Field(200, ge=10, le=5000, description="Sampled risk scenarios (SAA size).")
    frontier: tuple[float, ...] = Field((0.0, 1.0, 4.0), min_length=1,
                                        description="CVaR weights of the risk frontier.")
    backup: bool = Field(True, description="Price a backup vendor per lot (two solves per lot).")
    time_limit: float = Field(20.0, gt=0, description="Seconds per risk-aware solve.")


class AllocationSettings(BaseModel):
    """How lots are split between vendors (``sourcing.allocation.allocate``)."""

    model_config = _STRICT
    policy: dict[str, Any] = Field(default_factory=dict,
                                   description="Sourcing rules, fields of sourcing.allocation.Policy.")
    objective: str = Field("cost", description="cost, quality or blend.")
    solver: Literal["highs", "cbc"] = "highs"
    time_limit: float | None = Field(60.0, gt=0, description="Solver time limit, seconds.")
    mip_gap: float | None = Field(None, ge=0, le=1, description="Relative MIP gap accepted.")
    risk: RiskSettings = RiskSettings()
    frontier_points: int = Field(6, ge=2, le=50, description="Points on the cost-quality frontier.")
    price_to_win: bool = Field(True, description="Compute each bid's price to win for the report's "
                                                 "workbook (a few solves a bid).")

    @property
    def solve_kwargs(self) -> dict[str, Any]:
        """Solver keyword arguments shared by ``allocate``, ``frontier`` and ``constraint_costs``."""
        return {"solver": self.solver, "time_limit": self.time_limit, "mip_gap": self.mip_gap}

    def policy_model(self):
        """The policy as a validated ``sourcing.allocation.Policy``."""
        from .allocation import Policy

        return Policy(**self.policy)

    @field_validator("policy")
    @classmethod
    def _valid_policy(cls, v: dict[str, Any]) -> dict[str, Any]:
        from .allocation import Policy  # the stage owns its rules; checked here so a typo fails early

        try:
            Policy(**v)
        except PydanticError as err:
            raise ValueError("; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'policy'}: {e['msg']}"
                for e in err.errors())) from None
        except (TypeError, ValueError) as err:
            raise ValueError(str(err)) from None
        return v


class SimulationSettings(BaseModel):
    """How the sourcing options are simulated (``sourcing.simulation.simulate``)."""

    model_config = _STRICT
    n: int = Field(20_000, ge=100, le=10_000_000, description="Monte Carlo draws.")
    sampling: Literal["mc", "lhs", "sobol"] = "mc"
    budget: float | None = Field(None, gt=0, description="Budget over the contract horizon, in "
                                 "the tender's currency (undiscounted total).")
    options: tuple[Literal["inhouse", "single_vendor", "multi_vendor", "hybrid"], ...] = Field(
        OPTIONS, min_length=1, description="Sourcing options to simulate (at least one).")
    single_vendor: str | None = Field(
        None, description="Vendor of the single-vendor option; default: best-ranked vendor.")
    inhouse_lots: tuple[str, ...] = Field(
        (), description="Lots kept in-house in the hybrid option; default: the lot where "
        "in-house is cheapest relative to the award.")
    sobol_samples: int = Field(1024, ge=0, le=2 ** 16, description="Base samples N of the Sobol "
                               "indices of what decides the choice (a power of 2; 0: not computed).")
    assumptions: dict[str, Any] = Field(
        default_factory=dict,
        description="Risk and cost assumptions of the simulation by name (see "
        "sourcing.simulation.Assumptions): numbers, or distributions written as {pert: [low, "
        "mode, high]}, {triangular: [...]}, {uniform: [low, high]} or {lognormal_90: [p5, p95]}. "
        "Money is in the tender currency; unset money assumptions scale with the tender's size.")

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "budget_eur" in data:
            raise ValueError(f"budget_eur was renamed: write 'budget: {data['budget_eur']}' (the "
                             "budget over the contract in the tender's currency, whatever it is)")
        return data

    @field_validator("sobol_samples")
    @classmethod
    def _power_of_two(cls, v: int) -> int:
        if v and v & (v - 1):
            raise ValueError(f"a power of 2 (Sobol points), e.g. 512, 1024 or 4096; or 0; got {v}")
        return v

    @field_validator("assumptions")
    @classmethod
    def _valid_assumptions(cls, v: dict[str, Any]) -> dict[str, Any]:
        from .simulation.assumptions import parse_assumptions

        parse_assumptions(v)  # unknown names and bad values fail at load, with the valid names
        return v


class DecisionSettings(BaseModel):
    """How the recommended option is chosen (``sourcing.decision.decide``)."""

    model_config = _STRICT
    measure: Literal["p50", "mean", "p90"] = Field(
        "p50", description="Cost measure the options are ranked by (median by default).")
    max_p_over_budget: float | None = Field(
        None, ge=0, le=1, description="Risk appetite: highest acceptable probability of "
        "exceeding the budget (0.2 = 20 %); none = cost alone decides.")
    break_even: bool = Field(
        True, description="Find how far the key inputs (the two strongest drivers of the choice "
        "and the two heaviest weights) may move before the recommendation changes, for the "
        "board page (a few dozen pipeline evaluations).")


class Scenario(BaseModel):
    """A validated scenario: every parameter of one analysis run.

    Attributes
    ----------
    name : str
        Shown in report titles.
    tender : Path
        Tender folder or workbook (absolute once loaded).
    seed : int
        Seed of every random number in the run.
    scoring, allocation, simulation, decision
        Stage settings, see :class:`ScoringSettings`, :class:`AllocationSettings`,
        :class:`SimulationSettings`, :class:`DecisionSettings`.
    performance : Path, optional
        Folder with ticket, availability and invoice logs of the incumbent.
    tender_cells : dict
        Cells of the tender replaced for this run (:meth:`sourcing.Tender.with_cells`).
    performance_asof : str, optional
        Reporting instant of the performance data (default: the end of the ticket log).
    sweep : Path, optional
        A sweep file whose decision map the report shows (its page ``07_decision_map``).
    """

    model_config = _STRICT
    name: str = Field(..., min_length=1)
    description: str = ""
    tender: Path
    seed: StrictInt = Field(20261127, ge=0, description="A whole number written without quotes; "
                            "'12345' (text) and true (a yes/no) are refused, not converted.")
    scoring: ScoringSettings = ScoringSettings()
    allocation: AllocationSettings = AllocationSettings()
    simulation: SimulationSettings = SimulationSettings()
    decision: DecisionSettings = DecisionSettings()
    performance: Path | None = None
    tender_cells: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Tender cells replaced for this analysis, in the "
        "column's unit: table -> row id -> column -> value (vendors, criteria, lots, risk), and "
        "bids -> vendor id -> lot id -> column -> value; e.g. {risk: {V03: {failure_prob: "
        "0.08}}} or the dotted key tender_cells.risk.V03.failure_prob.")
    performance_asof: str | None = Field(
        None, description="Reporting instant of the performance data, e.g. '2026-10-31 23:59' "
        "(default: the end of the ticket log).")
    sweep: Path | None = Field(
        None, description="A sweep file (data/sweeps/*.yaml) whose decision map the report shows "
        "(sourcing.sweep; read by no stage of this scenario's run).")
    source: str = Field("", exclude=True, description="File the scenario was read from.")

    @field_validator("tender_cells")
    @classmethod
    def _cell_tables(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from .tender import CELL_TABLES

        unknown = [t for t in v if t not in CELL_TABLES]
        if unknown:
            raise ValueError(f"no tender cells in table(s) {', '.join(unknown)}; valid: "
                             f"{', '.join(CELL_TABLES)}")
        return v

    @field_validator("tender", "performance", "sweep")
    @classmethod
    def _exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.exists():
            raise ValueError(f"no such file or folder: {v}")
        return v

    @classmethod
    def load(cls, path: str | os.PathLike, **overrides: Any) -> Scenario:
        """Read and validate a scenario YAML file.

        Parameters
        ----------
        path : str or path-like
            The YAML file.
        **overrides
            Top-level keys or dotted keys (``simulation.n=1000``, given as
            ``**{"simulation.n": 1000}``) replacing the file's values, as notebook parameters do.
            ``None`` keeps the file's value.

        Raises
        ------
        ValidationError
            Naming the key and the file line of each problem.
        """
        path = Path(path)
        title = f"invalid scenario {path}"
        data, node = read_yaml_mapping(path, kind="scenario",
                                       keys="name, tender, seed, scoring, ...")
        lines = _line_index(node)
        try:
            _override(data, overrides)
        except _NotAMapping as err:
            key, part, found = err.args
            raise ValidationError([Problem(path.name, _line_of(lines, (part,)), part, str(found)[:200],
                                           f"must be a mapping to override {key}")],
                                  title=title) from None
        base = path.resolve().parent
        for key in ("tender", "performance", "sweep"):
            if isinstance(data.get(key), str):
                data[key] = str((base / data[key]).resolve())
        data["source"] = str(path)
        return cls.validate_dict(data, label=path.name, node=node)

    @classmethod
    def for_tender(cls, tender: str | os.PathLike, **overrides: Any) -> Scenario:
        """A scenario for the tender at *tender* with every other setting at its default, as the
        command line's subcommands build one from their options.

        *overrides* are dotted keys (``**{"scoring.method": "wsm"}``); ``None`` keeps the default.
        Errors name the key, in a scenario labelled "command line".
        """
        data: dict[str, Any] = {"name": Path(tender).stem or "tender",
                                "tender": str(Path(tender).resolve())}
        _override(data, overrides)
        return cls.validate_dict(data, label="command line")

    @classmethod
    def validate_dict(cls, data: dict[str, Any], *, label: str = "<scenario>",
                      node: yaml.Node | None = None) -> Scenario:
        """Validate a mapping; errors name the dotted key (and the line when *node* is given)."""
        try:
            return cls.model_validate(data)
        except PydanticError as err:
            lines = _line_index(node)  # once: 20,000 unknown keys must not cost 20,000 scans
            problems = []
            for e in err.errors():
                loc = ".".join(str(p) for p in e["loc"])
                value = e.get("input")
                shown = "" if isinstance(value, dict) else str(value)[:200]
                problems.append(Problem(label, _line_of(lines, e["loc"]), loc, shown, e["msg"]))
            raise ValidationError(problems, title=f"invalid scenario {label}") from None

    def line_of(self, key: str) -> int | None:
        """1-based line of the dotted *key* in the scenario's file (None when unknown)."""
        if not self.source or not Path(self.source).is_file():
            return None
        try:
            text = Path(self.source).read_text(encoding="utf-8-sig")
            if len(text) > MAX_SCENARIO_BYTES or _refuse_anchors_and_depth(text, ""):
                return None  # changed since it was loaded: no line rather than a risky parse
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except (OSError, ValueError, yaml.YAMLError):
            return None
        return _line_of(_line_index(node), tuple(key.split(".")))

    def to_yaml(self) -> str:
        """The scenario as YAML text (paths absolute)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def read_yaml_mapping(path: Path, *, kind: str, keys: str) -> tuple[dict[str, Any], yaml.Node]:
    """Read a settings file of *kind* (``scenario``, ``sweep``) safely: bounded size, UTF-8,
    no anchors or aliases, bounded depth, no duplicate key, a mapping at the top (*keys* names
    its usual keys in the error).  Returns the data and the composed tree (for lines of keys).

    Raises
    ------
    FileNotFoundError
        No file at *path*.
    ValidationError
        Naming the file and line of each problem.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no {kind} file at {path}")
    title = f"invalid {kind} {path}"
    size = path.stat().st_size
    if size > MAX_SCENARIO_BYTES:
        raise ValidationError([Problem(path.name, None, None, f"{size:,} bytes",
                                       f"file too large for a {kind}: at most "
                                       f"{MAX_SCENARIO_BYTES:,} bytes")], title=title)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValidationError([Problem(path.name, raw[: err.start].count(b"\n") + 1, None,
                                       repr(raw[err.start:err.start + 4])[2:-1],
                                       "file is not UTF-8: save it as UTF-8")],
                              title=title) from None
    try:
        refused = _refuse_anchors_and_depth(text, path.name)
        if refused:
            raise ValidationError(refused, title=title)
        # safe to compose now: no alias can expand, and the tree is shallow
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ValidationError([Problem(path.name, line, None, "", f"not valid YAML: {err}")],
                              title=title) from None
    duplicates = _duplicate_keys(node)
    if duplicates:  # YAML keeps the last silently: the first value would be lost unseen
        raise ValidationError([Problem(path.name, line, key, "", "duplicate key: give it once")
                               for key, line in duplicates], title=title)
    if not isinstance(data, dict):
        raise ValidationError([Problem(path.name, 1, None, "", f"a {kind} is a YAML mapping "
                                       f"of keys ({keys})")], title=title)
    return data, node


class _NotAMapping(Exception):
    """An override's parent key holds a value, not a mapping: (key, part, value found)."""


def _override(data: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Set dotted *overrides* (``simulation.n``) in *data*; ``None`` keeps what is there."""
    for key, value in overrides.items():
        if value is None:
            continue
        target = data
        *parents, last = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise _NotAMapping(key, part, target)
        target[last] = value


def _duplicate_keys(node: yaml.Node | None, prefix: str = "") -> list[tuple[str, int]]:
    """(dotted key, 1-based line) of every repeated key in the mappings of a composed YAML tree."""
    out: list[tuple[str, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = f"{prefix}{key.value}"
            if key.value in seen:
                out.append((name, key.start_mark.line + 1))
            seen.add(key.value)
            out += _duplicate_keys(value, f"{name}.")
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            out += _duplicate_keys(item, prefix)
    return out


def _refuse_anchors_and_depth(text: str, label: str) -> list[Problem]:
    """Problems for anchors, aliases and too-deep nesting, found from the parse events alone.

    A scenario has no use for ``&anchor`` / ``*alias``; refusing them before the tree is built
    stops alias bombs (a few hundred bytes expanding to gigabytes) and self-references
    (``foo: &a [*a]``); bounding the depth keeps the recursive composer far from Python's
    recursion limit.
    """
    problems: list[Problem] = []
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            problems.append(Problem(label, line, None, f"*{event.anchor}", "YAML aliases are not "
                                    "allowed in a scenario: write the value out"))
        elif getattr(event, "anchor", None) is not None:
            problems.append(Problem(label, line, None, f"&{event.anchor}", "YAML anchors are not "
                                    "allowed in a scenario: write the value out"))
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_SCENARIO_DEPTH:
                problems.append(Problem(label, line, None, "", f"nested more than "
                                        f"{MAX_SCENARIO_DEPTH} levels deep"))
                break
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if len(problems) >= 100:
            break
    return problems


def _line_index(node: yaml.Node | None) -> dict[tuple[str, ...], int]:
    """1-based line of every key (and list item) in a composed YAML tree, by its path.

    Paths are tuples of text: keys as written, list positions as ``"0"``, ``"1"``, ...; the
    first occurrence of a key wins.  Built in one walk, so looking up many errors stays linear.
    """
    index: dict[tuple[str, ...], int] = {}
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(node, ())] if node is not None else []
    while stack:
        current, path = stack.pop()
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                sub = (*path, str(key.value))
                index.setdefault(sub, key.start_mark.line + 1)
                stack.append((value, sub))
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                sub = (*path, str(i))
                index.setdefault(sub, item.start_mark.line + 1)
                stack.append((item, sub))
    return index


def _line_of(lines: dict[tuple[str, ...], int], loc: tuple[Any, ...]) -> int | None:
    """1-based line of the key at *loc* (closest existing parent), from :func:`_line_index`."""
    path = tuple(str(p) for p in loc)
    for k in range(len(path), 0, -1):
        if path[:k] in lines:
            return lines[path[:k]]
    return None
