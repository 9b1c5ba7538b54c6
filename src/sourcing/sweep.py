"""Scenario sweeps and tender portfolios: where does the recommendation flip?

A sweep file (YAML, validated like a scenario, errors located by key and line) names a base
scenario and axes of overrides; every point of the design is one scenario run through the same
pipeline stages (:func:`sourcing.pipeline.run_stages`), so a point re-runs only the stages its
overrides touch.  Example (the shipped sweeps are in ``data/sweeps/``)::

    name: Escalation against the spend cap
    scenario: ../scenarios/baseline.yaml       # relative to the sweep file
    seed: 20261207
    base: {simulation.n: 2000}                 # dotted overrides of every point
    design: grid                               # grid | points | lhs | sobol
    axes:
      - key: simulation.assumptions.wage_inflation
        values: [0.02, 0.04, 0.06]
      - key: allocation.policy.max_spend_share_pct
        values: [40, 60, 80, 100]

An axis has a ``key`` (a dotted scenario key; ``tender`` with a list of tender files; or a tender
cell written from its table, ``risk.V03.failure_prob``, which is the scenario key
``tender_cells.risk.V03.failure_prob``) and either ``values`` (``grid``: every combination;
``points``: the i-th values of all axes together) or ``range: [low, high]`` (``lhs``, ``sobol``:
``n`` points sampled by :mod:`scipy.stats.qmc` with the sweep seed; Sobol scrambled).

Seeds.  ``seeds: common`` (the default) runs every point with the sweep's seed: common random
numbers, so the difference between two points is the inputs', not Monte Carlo noise, the flip
boundary is sharp, and stages that read the seed but not the swept keys stay cached.
``seeds: per_point`` gives point *i* the seed ``SeedSequence(seed, spawn_key=(i,))`` (independent
noise per point).  Either way a point's numbers depend only on the sweep and its index, so they
are identical whatever the number of workers or the order of completion.

Execution (:func:`run_sweep`): in-process (``workers=0``) or on Dask (a ``LocalCluster`` of one
single-threaded process per core, or an existing cluster by address).  The base scenario's stages
are computed once on the client and shipped to every worker once (``scatter``, broadcast), so the
stages a point does not touch are cache hits.  Each completed point is written at once to the
store, ``<out>/store/point-NNNNNN.parquet`` (atomically), beside ``sweep.json`` (the digest of the
sweep's content): a rerun with ``resume=True`` computes only the missing points; a changed sweep
is refused against an old store.  A failing point records its error and the sweep goes on.  At the
end the decision table, the plots and a summary are published into *out* under the rules of every
result folder (:mod:`sourcing.outputs`: marker file, foreign files kept, the set swapped whole);
the store is part of the published set, and survives a kill at any moment.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from . import present as fmt
from .schemas import Problem, ValidationError

__all__ = ["DESIGNS", "Axis", "Sweep", "SweepResult", "decision_table", "flip_points",
           "flip_story", "run_sweep"]

#: How the axes make points.
DESIGNS = ("grid", "points", "lhs", "sobol")
#: Most points one sweep may hold (a grid multiplies its axes' lengths).
MAX_POINTS = 100_000
#: The folder of the results store below the output folder, and its digest file.
STORE, STORE_INFO = "store", "sweep.json"
#: Columns of figures in the decision table (tender currency over the contract; probability).
FIGURES = ("p50", "p90", "cvar95", "p_over_budget")
_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Located(ValueError):
    """A validation error that knows where it is: *loc* (keys and list positions) below the
    place it was raised, so the file's line can be named."""

    def __init__(self, message: str, loc: tuple = ()) -> None:
        super().__init__(message)
        self.loc = tuple(loc)


def _cell_tables() -> tuple[str, ...]:
    from .tender import CELL_TABLES

    return tuple(CELL_TABLES)


def scenario_key(key: str) -> str:
    """The scenario key an axis *key* sets: a tender cell (``risk.V03.failure_prob``, its table
    first) is ``tender_cells.risk.V03.failure_prob``; other keys are scenario keys as written."""
    return f"tender_cells.{key}" if key.split(".", 1)[0] in _cell_tables() else key


class Axis(BaseModel):
    """One swept input.

    Attributes
    ----------
    key : str
        Dotted scenario key (``simulation.assumptions.wage_inflation``, ``scoring.weights.C16``,
        ``allocation.policy.max_spend_share_pct``), ``tender`` (tender files) or a tender cell
        (``risk.V03.failure_prob``).  Values are in the key's own unit (percent keys in percent,
        probabilities and assumptions as fractions, money in the tender currency).
    values : list, optional
        The values of a ``grid`` or ``points`` design.
    range : (float, float), optional
        Low and high of an ``lhs`` or ``sobol`` design.
    label : str, optional
        How the input is called in sentences and plots (default: from the key).
    """

    model_config = _STRICT
    key: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
    values: tuple[Any, ...] | None = Field(None, min_length=1, max_length=MAX_POINTS)
    range: tuple[float, float] | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _values_or_range(self) -> Axis:
        if (self.values is None) == (self.range is None):
            raise _Located("give either values: [...] or range: [low, high]", ("key",))
        if self.range is not None and not self.range[0] < self.range[1]:
            raise _Located(f"low must be below high; got {list(self.range)}", ("range",))
        if self.key == "tender" and self.range is not None:
            raise _Located("a tender axis lists tender files under values", ("range",))
        return self


class Sweep(BaseModel):
    """A validated sweep file.

    Attributes
    ----------
    name : str
    scenario : Path
        The base scenario file (relative to the sweep file; absolute once loaded).
    seed : int, optional
        The sweep seed (default: the base scenario's).
    seeds : {"common", "per_point"}
        Every point on the sweep seed (common random numbers, the default), or one seed per point
        from ``SeedSequence(seed, spawn_key=(index,))``.
    design : {"grid", "points", "lhs", "sobol"}
    n : int, optional
        Points of an ``lhs`` or ``sobol`` design (a power of 2 for Sobol).
    axes : list of Axis
    base : dict
        Dotted overrides of the base scenario applied to every point (``simulation.n: 2000``).
    stages : tuple of str
        Stages each point computes (with what they need); default ``decide``.
    """

    model_config = _STRICT
    name: str = Field(..., min_length=1)
    description: str = ""
    scenario: Path
    seed: StrictInt | None = Field(None, ge=0)
    seeds: Literal["common", "per_point"] = "common"
    design: Literal["grid", "points", "lhs", "sobol"] = "grid"
    n: int | None = Field(None, ge=2, le=MAX_POINTS)
    axes: tuple[Axis, ...] = Field(..., min_length=1, max_length=32)
    base: dict[str, Any] = Field(default_factory=dict)
    stages: tuple[str, ...] = ("decide",)
    source: str = Field("", exclude=True)

    @field_validator("scenario")
    @classmethod
    def _exists(cls, v: Path) -> Path:
        if not v.is_file():
            raise ValueError(f"no scenario file at {v}")
        return v

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from .pipeline import STAGES

        unknown = [s for s in v if s not in STAGES]
        if unknown or not v:
            raise ValueError(f"unknown stage(s) {', '.join(unknown) or '(none given)'}; valid: "
                             f"{', '.join(STAGES)}")
        return v

    @field_validator("axes")
    @classmethod
    def _known_keys(cls, v: tuple[Axis, ...]) -> tuple[Axis, ...]:
        from .scenario import Scenario

        keys = [a.key for a in v]
        for i, k in enumerate(keys):
            if k in keys[:i]:
                raise _Located(f"each key once; {k} is also axis {keys.index(k) + 1}", (i, "key"))
        valid = sorted(set(Scenario.model_fields) - {"source", "name", "description"})
        for i, a in enumerate(v):
            head = a.key.split(".", 1)[0]
            if head not in valid and head not in _cell_tables():
                tables = ", ".join(_cell_tables())
                raise _Located(f"unknown key {head!r}; valid: a scenario key ({', '.join(valid)}) "
                               f"or a tender cell <table>.<row>.<column> (tables: {tables}; "
                               "bids.<vendor>.<lot>.<column>)",
                               (i, "key"))
        return v

    @model_validator(mode="after")
    def _design_fits(self) -> Sweep:
        sampled = self.design in ("lhs", "sobol")
        for i, a in enumerate(self.axes):
            if sampled and a.range is None:
                raise _Located(f"a {self.design} design samples range: [low, high] on every axis",
                               ("axes", i, "values"))
            if not sampled and a.values is None:
                raise _Located(f"a {self.design} design lists values: [...] on every axis",
                               ("axes", i, "range"))
        if sampled and self.n is None:
            raise _Located(f"a {self.design} design needs n, the number of points", ("design",))
        if not sampled and self.n is not None:
            raise _Located(f"n is for lhs and sobol designs; a {self.design} design takes its "
                           "points from the axes' values", ("n",))
        if self.design == "sobol" and self.n & (self.n - 1):
            raise _Located(f"n of a sobol design is a power of 2 (e.g. 64, 128, 256); got {self.n}",
                           ("n",))
        if self.design == "points":
            sizes = {a.key: len(a.values) for a in self.axes}
            if len(set(sizes.values())) > 1:
                raise _Located("a points design gives every axis the same number of values; got "
                               + ", ".join(f"{k}: {n}" for k, n in sizes.items()), ("axes",))
        if self.design == "grid" and math.prod(len(a.values) for a in self.axes) > MAX_POINTS:
            raise _Located(f"the grid has more than {MAX_POINTS:,} points", ("axes",))
        return self

    # ------------------------------------------------------------------ reading
    @classmethod
    def load(cls, path: str | os.PathLike, *, seed: int | None = None) -> Sweep:
        """Read and validate a sweep YAML file (and its base scenario with the base overrides);
        *seed* replaces the file's sweep seed (a notebook parameter; ``None`` keeps it).

        Raises
        ------
        FileNotFoundError
            No file at *path*.
        ValidationError
            Naming the key and the file line of each problem (a problem of the base scenario
            names the scenario file).
        """
        from pydantic import ValidationError as PydanticError

        from .scenario import _line_index, _line_of, read_yaml_mapping

        path = Path(path)
        data, node = read_yaml_mapping(path, kind="sweep", keys="name, scenario, axes, design, ...")
        folder = path.resolve().parent
        if isinstance(data.get("scenario"), str):
            data["scenario"] = str((folder / data["scenario"]).resolve())
        for axis in data.get("axes") or ():
            if isinstance(axis, dict) and axis.get("key") == "tender" and isinstance(
                    axis.get("values"), list):
                axis["values"] = [str((folder / v).resolve()) if isinstance(v, str) else v
                                  for v in axis["values"]]
        if isinstance(data.get("base"), dict) and isinstance(data["base"].get("tender"), str):
            data["base"]["tender"] = str((folder / data["base"]["tender"]).resolve())
        data["source"] = str(path)
        if seed is not None:
            data["seed"] = seed
        try:
            sweep = cls.model_validate(data)
        except PydanticError as err:
            lines = _line_index(node)
            problems = []
            errors = err.errors()
            for e in errors:
                if e["type"] == "too_short" and any(
                        o["loc"][:len(e["loc"])] == e["loc"] and o is not e for o in errors):
                    continue  # a list whose item failed is not also "too short"
                where = (e.get("ctx") or {}).get("error")
                loc = tuple(p for p in e["loc"] if not str(p).startswith("function-"))
                loc += getattr(where, "loc", ())
                value = e.get("input")
                shown = "" if isinstance(value, dict | list) else str(value)[:200]
                msg = e["msg"].removeprefix("Value error, ")
                problems.append(Problem(path.name, _line_of(lines, loc), ".".join(map(str, loc)),
                                        shown, msg))
            raise ValidationError(problems, title=f"invalid sweep {path}") from None
        try:
            sweep.base_scenario()
        except ValidationError as err:
            raise ValidationError([Problem(p.source, p.row if p.column not in sweep.base else
                                           _line_of(_line_index(node), ("base", p.column)),
                                           p.column, p.value, p.rule) for p in err.problems],
                                  title=f"invalid sweep {path}: its base scenario") from None
        return sweep

    def base_scenario(self):
        """The base scenario: the scenario file with the sweep's ``base`` overrides and seed."""
        from .scenario import Scenario

        scenario = Scenario.load(self.scenario, **{scenario_key(k): v for k, v in self.base.items()})
        if self.seed is not None and self.seed != scenario.seed:
            scenario = scenario.model_copy(update={"seed": self.seed})
        return scenario

    @property
    def keys(self) -> list[str]:
        """The swept keys, as written in the file (one column each in :meth:`points`)."""
        return [a.key for a in self.axes]

    def axis(self, key: str) -> Axis:
        """The axis of *key*."""
        for a in self.axes:
            if a.key == key:
                return a
        raise KeyError(f"no axis {key!r}; valid: {', '.join(self.keys)}")

    # ------------------------------------------------------------------ points
    def points(self) -> pd.DataFrame:
        """The points of the design: index ``point`` (0, 1, ...), one column per swept key.

        ``grid``: every combination, the last axis varying fastest; ``points``: the i-th value of
        every axis; ``lhs`` / ``sobol``: ``n`` points of :mod:`scipy.stats.qmc` seeded by the
        sweep seed (Sobol scrambled), scaled to each axis's range.
        """
        keys = self.keys
        if self.design == "grid":
            rows = list(itertools.product(*(a.values for a in self.axes)))
        elif self.design == "points":
            rows = list(zip(*(a.values for a in self.axes), strict=True))
        else:
            from scipy.stats import qmc

            rng = np.random.default_rng(self.sweep_seed)
            d = len(self.axes)
            sampler = (qmc.LatinHypercube(d, rng=rng) if self.design == "lhs"
                       else qmc.Sobol(d, scramble=True, rng=rng))
            unit = sampler.random(self.n)
            lo = np.array([a.range[0] for a in self.axes])
            hi = np.array([a.range[1] for a in self.axes])
            rows = [tuple(float(x) for x in r) for r in qmc.scale(unit, lo, hi)]
        frame = pd.DataFrame(rows, columns=keys)
        frame.index.name = "point"
        return frame

    @cached_property
    def sweep_seed(self) -> int:
        """The sweep seed: the file's, else the base scenario's."""
        if self.seed is not None:
            return self.seed
        from .scenario import Scenario

        return Scenario.load(self.scenario).seed if self.scenario.is_file() else 0

    def point_seed(self, index: int) -> int:
        """Seed of point *index*: the sweep seed (``common``) or
        ``SeedSequence(seed, spawn_key=(index,)).generate_state(1)[0]`` (``per_point``)."""
        if self.seeds == "common":
            return self.sweep_seed
        return int(np.random.SeedSequence(self.sweep_seed, spawn_key=(int(index),))
                   .generate_state(1)[0])

    def point_overrides(self, index: int, row: pd.Series | dict) -> dict[str, Any]:
        """Dotted scenario overrides of point *index* (its row of :meth:`points`), seed included
        (a swept ``seed`` is the point's seed)."""
        out = {scenario_key(k): _plain(v) for k, v in dict(row).items()}
        out.setdefault("seed", self.point_seed(index))
        return out

    def point_values(self, index: int, points: pd.DataFrame | None = None) -> dict[str, Any]:
        """The swept values of point *index*, each in its column's own type (a whole number stays
        whole beside a fraction)."""
        points = self.points() if points is None else points
        return {k: _plain(points.at[index, k]) for k in points.columns}

    def point_scenario(self, index: int):
        """The scenario of point *index*: the base scenario with the point's overrides and seed
        (what :func:`run_sweep` runs there)."""
        from .scenario import Scenario

        data = self.base_scenario().model_dump(mode="json")
        data["source"] = str(self.scenario)
        for key, value in self.point_overrides(index, self.point_values(index)).items():
            _set(data, key, value)
        return Scenario.validate_dict(data, label=f"{Path(self.source).name or 'sweep'} point {index}")

    def digest(self) -> str:
        """Digest of what the sweep computes: the validated file, the base scenario's content
        and the fingerprints of the tenders and performance data it reads.  A store made for
        another digest is refused."""
        from .cache import digest, file_fingerprint

        base = self.base_scenario()
        tenders = [base.tender] + ([Path(v) for v in self.axis("tender").values]
                                   if "tender" in self.keys else [])
        return digest({"sweep": self.model_dump(mode="json"), "base": base.model_dump(mode="json"),
                       "tenders": [file_fingerprint(t) for t in tenders],
                       "performance": file_fingerprint(base.performance)})


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    """Set the dotted *key* of a dumped scenario (a parent left at None becomes a mapping:
    ``scoring.weights.C16`` on a scenario without weight overrides)."""
    *parents, last = key.split(".")
    node = data
    for part in parents:
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict):
            raise ValueError(f"{key}: {part} holds a value, not a mapping of settings")
    node[last] = value


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value a YAML file would give."""
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------- one point
def _seed_cache(entries: dict[str, tuple[str, Any]]):
    """A memory cache holding the base scenario's stage entries (the scattered ones)."""
    from .cache import StageCache

    cache = StageCache()
    for name, (key, entry) in entries.items():
        cache.put(name, key, entry)
    return cache


def _point_frame(index: int, keys: Sequence[str], row: dict[str, Any], results: dict[str, Any] | None,
                 error: str | None) -> pd.DataFrame:
    """The rows of one point in the decision table: one per simulated option (one row with the
    error and no figures when the point failed)."""
    from .pipeline import board_summary

    cols = ["point", *keys, "option", "currency", *FIGURES, "recommended_option", "awarded_vendors",
            "error"]
    if results is None:
        rec = dict.fromkeys(cols)
        rec.update({"point": index, **row, "error": error})
        return _typed(pd.DataFrame([rec], columns=cols), keys)
    summary = board_summary(results["simulate"].simulation)
    decision, award, tender = results["decide"], results["award"], results["tender"]
    names = fmt.Names.of(tender)
    vendors = ", ".join(names(v) for v in award.vendors) if award.feasible else ""
    records = []
    for option, figures in summary.iterrows():
        rec = {"point": index, **row, "option": str(option), "currency": tender.currency}
        rec.update({c: float(figures[c]) if c in figures.index else float("nan") for c in FIGURES})
        rec.update({"recommended_option": decision.recommended, "awarded_vendors": vendors,
                    "error": None})
        records.append(rec)
    return _typed(pd.DataFrame(records, columns=cols), keys)


def _typed(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Fixed column types, so every point's Parquet file has the same schema."""
    frame["point"] = frame["point"].astype("int64")
    for c in FIGURES:
        frame[c] = frame[c].astype("float64")
    for c in ("option", "currency", "recommended_option", "awarded_vendors", "error"):
        frame[c] = frame[c].astype("string")
    for k in keys:
        if frame[k].map(lambda v: isinstance(v, str)).any():
            frame[k] = frame[k].astype("string")
        else:
            frame[k] = pd.to_numeric(frame[k]).astype("float64")
    return frame


def run_point(index: int, overrides: dict[str, Any], row: dict[str, Any], *, base: dict[str, Any],
              entries: dict[str, tuple[str, Any]], stages: Sequence[str],
              label: str = "sweep") -> pd.DataFrame:
    """Run one point: the base scenario (dumped, *base*) with *overrides*, through *stages*, the
    stages it does not touch taken from *entries* (stage -> (key, entry) of the base run).

    Returns the point's rows of the decision table; an error (a bad value, a stage that fails)
    is recorded in the ``error`` column, in words, never raised.
    """
    from .scenario import Scenario

    try:
        data = json.loads(json.dumps(base))
        for key, value in overrides.items():
            _set(data, key, value)
        scenario = Scenario.validate_dict(data, label=f"{label} point {index}")
        from .pipeline import run_stages

        results, info = run_stages(scenario, stages, cache=_seed_cache(entries))
        frame = _point_frame(index, list(row), row, results, None)
        frame.attrs["computed"] = list(info["computed"])  # not stored: which stages ran here
        return frame
    except Exception as err:  # a failing point is recorded and the sweep goes on
        text = str(err).strip() or type(err).__name__
        return _point_frame(index, list(row), row, None, text.splitlines()[0][:500]
                            if not isinstance(err, ValidationError) else _one_line(err))


def _one_line(err: ValidationError) -> str:
    return "; ".join(f"{p.column or p.source}: {p.value + ': ' if p.value else ''}{p.rule}"
                     for p in err.problems[:5])[:500]


# ---------------------------------------------------------------------- the store
def _store_info(store: Path) -> dict | None:
    try:
        data = json.loads((store / STORE_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _point_path(store: Path, index: int) -> Path:
    return store / f"point-{index:06d}.parquet"


def _done(store: Path) -> set[int]:
    out = set()
    for p in store.glob("point-*.parquet"):
        stem = p.stem.removeprefix("point-")
        if stem.isdigit() and p.is_file() and not p.is_symlink():
            out.add(int(stem))
    return out


def _write_point(store: Path, index: int, frame: pd.DataFrame) -> None:
    """Write one point's rows atomically (a temp name, then ``os.replace``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .outputs import _umask

    table = pa.Table.from_pandas(frame, preserve_index=False)
    fd, tmp = tempfile.mkstemp(prefix=".point-", suffix=".tmp", dir=store)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # as any other output (mkstemp makes 0600)
        os.replace(tmp, _point_path(store, index))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _open_store(out: Path, sweep: Sweep, digest: str, *, resume: bool, force: bool) -> Path:
    """The store below *out*, created or checked: a store of another sweep is refused, and one of
    this sweep is continued only with *resume*."""
    from .outputs import OutputError, _check_folder, _restore_interrupted, _umask, _write_marker

    store = out / STORE
    _restore_interrupted(out)  # a publish killed mid-swap set the folder (and its store) aside
    _check_folder(out, force=force)  # not ours and not forced: refused before any work
    if store.is_symlink():
        raise OutputError(f"{store} is a symbolic link; nothing was changed: a sweep writes its "
                          "store itself, give another --out")
    info = _store_info(store) if store.is_dir() else None
    if store.exists() and info is None:
        raise OutputError(f"{store} exists but is not a sweep store of sourcing; nothing was "
                          "changed: give another --out")
    if info is not None:
        if info.get("digest") != digest:
            raise OutputError(
                f"{out} holds the results of another sweep ({info.get('name', '?')}, or this file "
                "before it changed); nothing was changed: give another --out for the changed "
                "sweep (the old results stay where they are)")
        done = len(_done(store))
        if not resume and done:
            raise OutputError(f"{out} already holds {done:,} of the points of this sweep: --resume "
                              "continues it (only the missing points are computed), or give "
                              "another --out")
        return store
    store.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sweep-", suffix=".tmp", dir=store)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"tool": "sourcing", "name": sweep.name, "digest": digest,
                   "points": int(len(sweep.points()))}, fh, indent=1)
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, store / STORE_INFO)
    # the store is a result set of ours on its own: its files are never foreign to *out*
    _write_marker(store, {STORE_INFO})
    return store


def read_store(store: str | os.PathLike) -> pd.DataFrame:
    """Every stored point's rows, sorted by point and option order (the decision table)."""
    import pyarrow.parquet as pq

    store = Path(store)
    frames = [pq.read_table(_point_path(store, i)).to_pandas() for i in sorted(_done(store))]
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    for c in table.columns:  # text as plain Python strings, missing as None (as every table)
        if pd.api.types.is_string_dtype(table[c]) and table[c].dtype != object:
            table[c] = table[c].astype(object).where(table[c].notna(), None)
    return table


# ---------------------------------------------------------------------- running
@dataclass
class SweepResult:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    sweep : Sweep
    table : DataFrame
        The decision table (:func:`decision_table`): one row per point and option.
    out : Path
        The output folder.
    computed : list of int
        Points computed by this call (the others were in the store).
    failed : dict
        Point -> error, for the points that failed.
    currency : str
        The base tender's currency (money in the table).
    baseline : dict
        The base scenario's value of each swept key (None where it has none).
    measure : str
        The cost measure of the recommendation (``p50``, ``mean`` or ``p90``).
    names : sourcing.present.Names
        Vendor, lot and criterion names of the base tender.
    seconds : float
        Wall time of this call.
    stages_run : dict
        Point -> the stages computed for it (the others were the base run's, shipped once to
        every worker, or an earlier point's).
    """

    sweep: Sweep
    table: pd.DataFrame
    out: Path
    computed: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    currency: str = ""
    baseline: dict[str, Any] = field(default_factory=dict)
    measure: str = "p50"
    names: Any = None
    seconds: float = 0.0
    stages_run: dict[int, list[str]] = field(default_factory=dict)

    def shares(self) -> pd.Series:
        """Share of the (successful) points in which each option is recommended."""
        return recommendation_shares(self.table)

    def stories(self) -> list[str]:
        """One sentence per flip of a 1-D sweep (empty for more axes)."""
        if len(self.sweep.keys) != 1:
            return []
        return [flip_story(self.table, self.sweep.keys[0], currency=self.currency,
                           names=self.names, measure=self.measure,
                           label=self.sweep.axes[0].label)]

    def summary(self) -> dict[str, Any]:
        """Plain figures of the sweep: points, failed ones and why, recommendation shares."""
        reasons: dict[str, int] = {}
        for text in self.failed.values():
            reasons[text] = reasons.get(text, 0) + 1
        points = int(self.table["point"].nunique()) if len(self.table) else 0
        return {"sweep": self.sweep.name, "design": self.sweep.design, "points": points,
                "computed_now": len(self.computed), "failed": len(self.failed),
                "failures": [{"error": e, "points": n} for e, n in
                             sorted(reasons.items(), key=lambda kv: -kv[1])],
                "recommended_share": {k: float(v) for k, v in self.shares().items()},
                "flips": self.stories(), "currency": self.currency, "seeds": self.sweep.seeds}

    def story(self) -> list[str]:
        """The sweep in sentences: points and failures (and why), how often each option is
        recommended, and for one axis where the recommendation flips."""
        s = self.summary()
        lines = [f"Sweep {self.sweep.name}: {fmt.count(s['points'], 'point')} "
                 f"({self.sweep.design} design), {fmt.count(s['failed'], 'failed point')}."]
        for f in s["failures"]:
            lines.append(f"{fmt.count(f['points'], 'point')} failed: {f['error']}")
        for option, share in s["recommended_share"].items():
            lines.append(f"{option} is recommended in {fmt.percent(share)} of the points.")
        return lines + s["flips"]

    def summary_text(self) -> str:
        """The summary in words (``summary.txt``)."""
        return "\n".join(self.story()) + "\n"

    def labels(self) -> dict[str, str]:
        """How each swept key reads (:func:`axis_label`)."""
        return {k: axis_label(k, self.sweep.axis(k).label, names=self.names) for k in self.sweep.keys}

    def points_table(self) -> pd.DataFrame:
        """One row per point for reading: the swept values in words and the recommended option
        (or the error)."""
        rows = []
        ok = recommended_by_point(self.table).set_index("point")["recommended_option"]
        errors = self.failed
        for point in sorted(self.table["point"].unique()):
            first = self.table[self.table["point"] == point].iloc[0]
            row = {"point": int(point) + 1}
            for key, what in self.labels().items():
                value = first[key]
                row[what] = (axis_value(float(value), axis_unit(key), self.currency)
                             if isinstance(value, int | float | np.number) else fmt.text(
                                 Path(str(value)).name if key == "tender" else value))
            row["recommended"] = (fmt.text(ok.get(point) or "no option") if point not in errors
                                  else f"failed: {errors[int(point)]}")
            rows.append(row)
        return pd.DataFrame(rows).set_index("point")

    def plot(self, kind: str = "map", *, ax: Any = None) -> Any:
        """Draw the decision map (``map``), the tornado (``tornado``) or the recommendation
        shares (``share``) of the sweep; returns the Axes."""
        from .plots.sweep import plot_decision_map, plot_recommendation_share, plot_sweep_tornado

        keys, table, labels = self.sweep.keys, self.table, self.labels()
        units = {k: axis_unit(k) for k in keys}
        if kind == "map":
            limits = {a.key: a.range for a in self.sweep.axes if a.range is not None}
            return plot_decision_map(table, keys[0], keys[1] if len(keys) > 1 else None, ax=ax,
                                     baseline=self.baseline, labels=labels, units=units,
                                     currency=self.currency, measure=self.measure, limits=limits)
        if kind == "tornado":
            return plot_sweep_tornado(table, keys, ax=ax, labels=labels, currency=self.currency,
                                      measure=self.measure, option=_baseline_option(self))
        if kind == "share":
            return plot_recommendation_share(table, ax=ax)
        raise ValueError(f"unknown plot {kind!r}; valid: map, tornado, share")


def _base_entries(scenario: Any, stages: Sequence[str]) -> tuple[dict[str, tuple[str, Any]], dict]:
    """The base scenario's stages, computed once on the client: stage -> (key, entry)."""
    from .cache import StageCache
    from .pipeline import run_stages

    cache = StageCache()
    results, info = run_stages(scenario, stages, cache=cache)
    entries = {}
    for name, key in info["keys"].items():
        found, entry = cache.get(name, key)
        if found:
            entries[name] = (key, entry)
    return entries, results


def run_sweep(sweep: Sweep | str | os.PathLike, *, out: str | os.PathLike,
              scheduler: str | None = None, workers: int | None = None, resume: bool = False,
              force: bool = False, progress: bool = False, figures: bool = True,
              limit: int | None = None,
              on_point: Callable[[int], None] | None = None) -> SweepResult:
    """Run every point of *sweep* into the store below *out*, then publish the decision map.

    Parameters
    ----------
    sweep : Sweep or path
        The sweep (or its YAML file).
    out : path
        Output folder: the store (``store/``), the decision table (``decision_table.csv``,
        ``decision_map.xlsx``), the plots (PNG) and ``summary.txt`` / ``summary.json``.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``).
    workers : int, optional
        Worker processes of the local cluster (default: the machine's cores); ``0`` runs the
        points in this process without Dask (the same numbers).
    resume : bool
        Continue a store of this sweep: only its missing points are computed.
    force : bool
        Write into a folder holding files sourcing did not write (they are kept).
    progress : bool
        Show a progress bar (tqdm).
    figures : bool
        Draw the plots.
    limit : int, optional
        Compute at most this many missing points, then stop before publishing (tests, batches).
    on_point : callable, optional
        Called with each point index once it is stored.

    Returns
    -------
    SweepResult
    """
    t0 = time.perf_counter()
    if not isinstance(sweep, Sweep):
        sweep = Sweep.load(sweep)
    if workers is not None and workers < 0:
        raise ValueError(f"workers is 0 (in this process) or more; got {workers}")
    out = Path(out).absolute()
    digest = sweep.digest()
    store = _open_store(out, sweep, digest, resume=resume, force=force)
    points = sweep.points()
    todo = [i for i in points.index if i not in _done(store)]
    if limit is not None:
        todo = todo[:limit]
    base = sweep.base_scenario()
    entries, base_results = _base_entries(base, sweep.stages)
    dumped = base.model_dump(mode="json")
    dumped["source"] = str(sweep.scenario)
    label = Path(sweep.source).name or "sweep"
    rows = {int(i): sweep.point_values(i, points) for i in todo}
    tasks = [(i, sweep.point_overrides(i, row), row) for i, row in rows.items()]
    computed: list[int] = []
    ran: dict[int, list[str]] = {}

    def stored(index: int, frame: pd.DataFrame) -> None:
        ran[index] = list(frame.attrs.pop("computed", []))
        _write_point(store, index, frame)
        computed.append(index)
        if on_point is not None:
            on_point(index)

    bar = _progress(len(tasks), sweep.name) if progress else None
    if tasks and workers == 0 and scheduler is None:
        for index, overrides, row in tasks:
            stored(index, run_point(index, overrides, row, base=dumped, entries=entries,
                                    stages=sweep.stages, label=label))
            if bar is not None:
                bar.update()
    elif tasks:
        _run_dask(tasks, stored, base=dumped, entries=entries, stages=sweep.stages, label=label,
                  scheduler=scheduler, workers=workers, bar=bar, tag=digest[:12])
    if bar is not None:
        bar.close()
    tender = base_results["tender"]
    result = SweepResult(sweep, pd.DataFrame(), out, computed=computed, stages_run=ran,
                         currency=tender.currency,
                         baseline=_baseline(sweep, dumped, base_results.get("simulate")),
                         measure=base.decision.measure, names=fmt.Names.of(tender))
    if limit is not None and len(_done(store)) < len(points):
        result.table = read_store(store)
        result.failed = _failures(result.table)
        result.seconds = time.perf_counter() - t0
        return result
    result.table = decision_table(store)
    result.failed = _failures(result.table)
    _publish(result, store, force=force, figures=figures)
    result.seconds = time.perf_counter() - t0
    return result


def _progress(total: int, name: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"sweep {name}", unit="point")


def _run_dask(tasks, stored, *, base, entries, stages, label, scheduler, workers, bar, tag) -> None:
    """Run *tasks* on a Dask cluster; each result is stored on the client as it completes."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        shipped = client.scatter(entries, broadcast=True)  # once per worker, not once per point
        futures = [client.submit(run_point, index, overrides, row, base=base, entries=shipped,
                                 stages=tuple(stages), label=label,
                                 key=f"sweep-{tag}-point-{index}",
                                 pure=False)
                   for index, overrides, row in tasks]
        by_key = {f.key: i for f, (i, _, _) in zip(futures, tasks, strict=True)}
        for future in as_completed(futures):
            stored(by_key[future.key], future.result())
            future.release()
            if bar is not None:
                bar.update()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _failures(table: pd.DataFrame) -> dict[int, str]:
    if not len(table):
        return {}
    bad = table[table["error"].notna()]
    return {int(p): str(e) for p, e in zip(bad["point"], bad["error"], strict=True)}


def _baseline(sweep: Sweep, dumped: dict, simulated: Any = None) -> dict[str, Any]:
    """The base scenario's value of each swept key: as the scenario sets it, else the tender's
    cell or the simulation's assumption (a distribution's most likely value); None where there
    is no single value."""
    from .pipeline import _value

    out = {}
    for key in sweep.keys:
        value = _value(dumped, scenario_key(key))
        parts = key.split(".")
        if value is None and simulated is not None and parts[:2] == ["simulation", "assumptions"]:
            value = _typical(getattr(simulated.assumptions, parts[-1], None))
        out[key] = value if isinstance(value, int | float | str) and not isinstance(value, bool) else None
    if any(v is None for k, v in out.items() if k.split(".", 1)[0] in _cell_tables()):
        out.update(_cell_baseline(sweep, dumped, out))
    return out


def _typical(value: Any) -> float | None:
    """A number for an assumption: itself, a constant's value, or a distribution's mode."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    for attr in ("value", "mode"):
        if isinstance(getattr(value, attr, None), int | float):
            return float(getattr(value, attr))
    return None


def _cell_baseline(sweep: Sweep, dumped: dict, found: dict) -> dict[str, Any]:
    """The tender's own value of each swept tender cell."""
    from .io import read_tender

    try:
        tender = read_tender(dumped["tender"])
    except Exception:  # the baseline marker is a nicety: no marker rather than a failed sweep
        return {}
    out = {}
    for key, value in found.items():
        table, *row = key.split(".")
        if value is not None or table not in _cell_tables() or len(row) < 2:
            continue
        *row, column = row
        try:
            out[key] = float(tender.cell(table, tuple(row), column))
        except (ValueError, TypeError):  # no such cell: no marker (the sweep says so itself)
            continue
    return out


def _publish(result: SweepResult, store: Path, *, force: bool, figures: bool) -> None:
    """Publish the decision table, the plots and the summary into *out*, with the store linked
    into the new set so the swap keeps it (a kill at any moment leaves a complete store)."""
    from .outputs import MARKER, Sheet, _write_marker, staged, write_tables

    table = result.table
    money = {c: "money" for c in ("p50", "p90", "cvar95")}
    currencies = set(table["currency"].dropna()) if "currency" in table else set()
    sheets = {"decision_table": Sheet(table, {**money, "p_over_budget": "percent"},
                                      # a portfolio of tenders in several currencies: per row
                                      currency=result.currency if len(currencies) <= 1 else None)}
    shares = result.shares().rename("share").rename_axis("option").reset_index()
    sheets["recommended_share"] = Sheet(shares, {"share": "percent"})
    _write_marker(store, {p.name for p in store.iterdir() if p.is_file() and p.name != MARKER})
    with staged(result.out, force=force) as folder:
        write_tables({"decision_table": sheets["decision_table"]}, folder)
        write_tables(sheets, folder / "decision_map.xlsx")
        (folder / "summary.json").write_text(json.dumps(result.summary(), indent=1,
                                                        ensure_ascii=False), encoding="utf-8")
        (folder / "summary.txt").write_text(result.summary_text(), encoding="utf-8")
        if figures and len(table) and table["error"].isna().any():
            _figures(result, folder)
        _link_tree(store, folder / STORE)


def _link_tree(source: Path, target: Path) -> None:
    """Hard links of every file of *source* in *target* (copies across file systems)."""
    target.mkdir(parents=True, exist_ok=True)
    for p in source.iterdir():
        if p.is_file() and not p.is_symlink() and not p.name.startswith(".point-"):
            try:
                os.link(p, target / p.name)
            except OSError:
                shutil.copy2(p, target / p.name)


def _figures(result: SweepResult, folder: Path) -> None:
    import matplotlib.pyplot as plt

    kinds = {"decision_map.png": "map", "recommendation_share.png": "share"}
    if any(pd.api.types.is_float_dtype(result.table[k]) for k in result.sweep.keys):
        kinds["tornado.png"] = "tornado"
    for name, kind in kinds.items():
        fig, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
        result.plot(kind, ax=ax)
        fig.savefig(folder / name, dpi=110, format="png")
        plt.close(fig)


def _baseline_option(result: SweepResult) -> str | None:
    """The option recommended most often (the tornado's subject)."""
    shares = result.shares()
    return str(shares.index[0]) if len(shares) else None


# ---------------------------------------------------------------------- decision maps
def decision_table(source: str | os.PathLike | SweepResult) -> pd.DataFrame:
    """The tidy decision table: one row per point and option.

    Columns: ``point``, each swept key, ``option``, ``currency`` (the point's tender's),
    ``p50``, ``p90``, ``cvar95`` (that currency over the contract), ``p_over_budget``
    (probability), ``recommended_option`` (the option's name), ``awarded_vendors`` (names of
    the least-cost award's vendors, ``", "``-joined) and ``error`` (the failure of a point,
    which has no figures).

    Parameters
    ----------
    source : path or SweepResult
        A sweep's output folder, its store folder, or a result.
    """
    if isinstance(source, SweepResult):
        return source.table
    path = Path(source)
    store = path if (path / STORE_INFO).is_file() else path / STORE
    if not (store / STORE_INFO).is_file():
        raise FileNotFoundError(f"no sweep store in {path} (run sourcing sweep first)")
    table = read_store(store)
    if len(table):
        order = {o: k for k, o in enumerate(dict.fromkeys(table["option"].dropna()))}
        table = (table.assign(_o=table["option"].map(order).fillna(-1))
                 .sort_values(["point", "_o"], kind="stable").drop(columns="_o")
                 .reset_index(drop=True))
    return table


def recommended_by_point(table: pd.DataFrame) -> pd.DataFrame:
    """One row per successful point: the point, its swept values and the recommended option."""
    ok = table[table["error"].isna()]
    keys = [c for c in table.columns if c not in
            ("option", "currency", *FIGURES, "recommended_option", "awarded_vendors", "error")]
    return ok.drop_duplicates("point")[keys + ["recommended_option"]].reset_index(drop=True)


def recommendation_shares(table: pd.DataFrame) -> pd.Series:
    """Share of the successful points in which each option is recommended, largest first."""
    if not len(table):
        return pd.Series(dtype=float)
    rec = recommended_by_point(table)["recommended_option"].fillna("no option")
    return rec.value_counts(normalize=True).sort_values(ascending=False, kind="stable")


@dataclass(frozen=True)
class Flip:
    """Where a 1-D sweep's recommendation changes: between *low* and *high* (adjacent values of
    the key), estimated at *at* (where the two options' costs cross, linearly; else the middle)."""

    low: float
    high: float
    at: float
    before: str
    after: str


def flip_points(table: pd.DataFrame, key: str, *, measure: str = "p50") -> list[Flip]:
    """The flips of the recommendation along *key* (the other keys, if any, held as they are in
    the table), in increasing order of *key*.

    The flip value is where the *measure* of the two options (``p50``, ``p90``; a column of
    *table*) crosses between the two points, by linear interpolation, when both have it and
    their difference changes sign; else the middle of the two values.
    """
    rec = recommended_by_point(table)
    if key not in rec.columns:
        raise KeyError(f"no column {key!r}; valid: {', '.join(rec.columns[1:-1])}")
    rec = rec.assign(recommended_option=rec["recommended_option"].fillna("no option"))
    rec = rec.sort_values(key, kind="stable").reset_index(drop=True)
    ok = table[table["error"].isna()]
    flips = []
    for a, b in zip(rec.index[:-1], rec.index[1:], strict=True):
        before, after = rec.at[a, "recommended_option"], rec.at[b, "recommended_option"]
        lo, hi = float(rec.at[a, key]), float(rec.at[b, key])
        if before == after or lo == hi:
            continue
        at = (lo + hi) / 2
        col = measure if measure in table.columns else "p50"
        try:
            def cost(point: int, option: str, col: str = col) -> float:
                rows = ok[(ok["point"] == point) & (ok["option"] == option)]
                return float(rows[col].iloc[0])

            pa_, pb_ = int(rec.at[a, "point"]), int(rec.at[b, "point"])
            d0 = cost(pa_, before) - cost(pa_, after)
            d1 = cost(pb_, before) - cost(pb_, after)
            if d0 < 0 < d1:  # the recommended one is cheaper at lo, costlier at hi
                at = lo + (hi - lo) * (-d0) / (d1 - d0)
        except (IndexError, ValueError, ZeroDivisionError):
            pass
        flips.append(Flip(lo, hi, at, str(before), str(after)))
    return flips


def axis_unit(key: str) -> str:
    """Unit of a swept key, for words and plots: ``percent`` (values in percent), ``fraction``
    (probabilities, shares and rates written as fractions), ``money``, ``points`` or ``number``."""
    from .simulation.assumptions import ASSUMPTION_INFO

    parts = key.split(".")
    last = parts[-1]
    if len(parts) == 3 and parts[:2] == ["simulation", "assumptions"] and last in ASSUMPTION_INFO:
        unit = ASSUMPTION_INFO[last][1]
        return unit if unit in ("fraction", "money") else "number"
    if last.endswith("_pct"):
        return "percent"
    if key == "simulation.budget" or last in ("unit_price", "onboarding_cost", "exit_cost",
                                             "inhouse_unit_cost", "reference_price"):
        return "money"
    if last.endswith(("_prob", "_share")) or last == "failure_prob":
        return "fraction"
    if parts[:2] == ["scoring", "weights"]:
        return "points"
    return "number"


#: How tender columns read in sentences (others: the column name in words).
_COLUMN_WORDS = {"failure_prob": "failure probability", "sla_breach_prob": "SLA breach probability",
                 "unit_price": "unit price", "incident_rate": "incident rate",
                 "security_score": "security score", "annual_demand": "annual demand"}


def axis_label(key: str, label: str | None = None, *, names: Any = None) -> str:
    """How a swept key reads (``wage inflation``, ``the weight of Evaluated annual price``,
    ``failure probability of Acme``); *label* when given."""
    from .simulation.assumptions import ASSUMPTION_INFO

    if label:
        return label
    parts = key.split(".")

    def name(x: str) -> str:
        return str(names(x)) if callable(names) else x

    if len(parts) == 3 and parts[:2] == ["simulation", "assumptions"] and parts[2] in ASSUMPTION_INFO:
        return ASSUMPTION_INFO[parts[2]][0][0].lower() + ASSUMPTION_INFO[parts[2]][0][1:]
    if parts[:2] == ["scoring", "weights"] and len(parts) == 3:
        return f"the weight of {name(parts[2])}"
    if parts[0] in _cell_tables() and len(parts) >= 3:
        column = _COLUMN_WORDS.get(parts[-1], parts[-1].replace("_", " "))
        return f"{column} of {' / '.join(name(p) for p in parts[1:-1])}"
    if key == "tender":
        return "the tender"
    return fmt.label(parts[-1]).lower()


def axis_value(x: float, unit: str, currency: str) -> str:
    """A value of a swept key in words (through :mod:`sourcing.present`)."""
    if unit == "percent":
        return fmt.percent(x, of=100, decimals=1)
    if unit == "fraction":
        return fmt.percent(x, decimals=1)
    if unit == "money":  # a unit price (GBP 20.35) reads to the penny, a total in k or M
        return fmt.money(x, currency, exact=abs(x) < 1000, decimals=2 if abs(x) < 1000 else None)
    if unit == "points":
        return f"{fmt.number(x, decimals=1)} points"
    return fmt.number(x, decimals=2)


def flip_story(table: pd.DataFrame, key: str, *, currency: str, names: Any = None,
               measure: str = "p50", label: str | None = None) -> str:
    """Where the recommendation of a 1-D sweep flips, in one sentence, e.g. "Multi-vendor is
    recommended while in-house wage inflation per year stays below 4.4%; above it, In-house is
    (swept from 0% to 8.0%)."

    Values through :mod:`sourcing.present` (percents as percents, money in *currency*); option
    names as the table has them.
    """
    unit, what = axis_unit(key), axis_label(key, label, names=names)
    rec = recommended_by_point(table)
    if not len(rec):
        return f"No point of the sweep over {what} ran: see the errors in the summary."
    if not pd.api.types.is_numeric_dtype(rec[key]):  # tender files, or other text: by value
        shown = rec[key].map(lambda v: Path(str(v)).name if key == "tender" else str(v))
        groups = shown.groupby(rec["recommended_option"].fillna("no option"), sort=False)
        return "; ".join(f"{option} is recommended for {fmt.listing(list(values))}"
                         for option, values in groups) + "."
    ordered = rec.sort_values(key, kind="stable")
    lo, hi = float(ordered[key].iloc[0]), float(ordered[key].iloc[-1])

    def v(x: float) -> str:
        return axis_value(x, unit, currency)

    flips = flip_points(table, key, measure=measure)
    first = str(ordered["recommended_option"].fillna("no option").iloc[0])
    if not flips:
        return (f"{first} is recommended over the whole range swept, {what} from {v(lo)} to "
                f"{v(hi)}: the recommendation does not flip.")
    parts = [f"{first} is recommended while {what} stays below {v(flips[0].at)}"]
    for f, nxt in zip(flips, [*flips[1:], None], strict=True):
        if nxt is None:
            parts.append(f"above it, {f.after} is (swept from {v(lo)} to {v(hi)})")
        else:
            parts.append(f"{f.after} from there to {v(nxt.at)}")
    return "; ".join(parts) + "."
