"""The what-if in JupyterLab: :func:`explore` builds sliders and live results with ipywidgets.

The controls are the criterion weights (grouped by criterion group, shown as shares of 100 %,
with a slider for each group as a whole),
the ranking method, the gates, the policy's main rules and the four assumption multipliers; the
outputs are the ranking with its stability bands, the contribution chart, the award with its cost
and binding rules, and the sourcing options with the recommendation.  The ranking follows a
slider as it moves (a re-rank takes milliseconds); the award, the simulation and the chart wait
until the sliders have been still for *debounce* seconds, then update once.  A button writes the
state as a scenario file, another re-optimises the risk-aware award for the current state.

Every number and sentence comes from :mod:`sourcing.whatif` and :mod:`sourcing.narrative`; this
module only lays them out.  Widgets can be set from Python (``explorer.weight_sliders["C16"]
.value = 40``) as a user would move them, which is how it is tested.
"""

from __future__ import annotations

import io
import os
import threading
from typing import Any

from . import present as fmt
from .whatif import MULTIPLIERS, State, WhatIf

__all__ = ["Explorer", "explore"]

#: Policy controls: rule -> (label, least, most, step, value meaning "no rule").
POLICY_CONTROLS: dict[str, tuple[str, float, float, float, float]] = {
    "max_vendors_per_lot": ("Most vendors per lot", 1, 6, 1, 6),
    "min_vendors_per_lot": ("Least vendors per lot", 1, 4, 1, 1),
    "min_share_pct": ("Least share of a lot (%)", 0, 50, 5, 0),
    "max_share_pct": ("Most share of a lot (%)", 10, 100, 5, 100),
    "max_spend_share_pct": ("Most spend with one vendor (%)", 10, 100, 5, 100),
    "quality_floor": ("Quality floor per lot (0-100)", 0, 100, 5, 0),
}


#: Half a slider step (0.1 point): a value within it of the state's is the slider's rounding.
_RESOLUTION = 0.0005 + 1e-12


def explore(scenario: Any, *, draws: int | None = 10_000, debounce: float = 0.4,
            state: State | None = None, cache: Any = None, run_dir: Any = None,
            **overrides: Any) -> Explorer:
    """The what-if explorer of *scenario* (a file or a :class:`~sourcing.Scenario`).

    Parameters
    ----------
    scenario : Scenario or path
    draws : int, optional
        Simulation draws per option while exploring (10,000 answer in well under a second on the
        samples); the saved scenario keeps its own.
    debounce : float
        Seconds the sliders must be still before the award and the simulation update; 0
        updates at once (scripts and tests).
    state : State, optional
        Start from this state instead of the scenario's.
    cache : sourcing.cache.StageCache, optional
        Where stage results are found and kept; default the user's cache folder, as the
        notebooks use it (:func:`sourcing.pipeline.open_run`), so the scenario's own results
        computed by a notebook are not computed again.
    run_dir : path, optional
        A report's run folder: its stages are read from there (the cache).
    **overrides
        Dotted scenario keys for a scenario file (``seed=7``, ``**{"simulation.n": 1000}``),
        as the notebooks' parameters give them; ``None`` keeps the file's value.

    Returns
    -------
    Explorer
        Displays itself in a notebook cell.
    """
    from .cache import StageCache, user_cache
    from .scenario import Scenario

    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario, **overrides)
    if cache is None:
        cache = StageCache(run_dir) if run_dir is not None else StageCache(user_cache() / "stages",
                                                                             trim=True)
    return Explorer(WhatIf(scenario, draws=draws, cache=cache), debounce=debounce, state=state)


class Explorer:
    """Sliders and live results over a :class:`~sourcing.whatif.WhatIf` (see :func:`explore`).

    Attributes
    ----------
    whatif : WhatIf
    state : State
        The state the controls show.
    weight_sliders, group_sliders, policy_sliders, multiplier_sliders : dict
        The controls by criterion id, criterion group (groups of two or more criteria), policy
        rule and multiplier name.
    method, gates, save_name, save_button, reoptimise_button : ipywidgets
    ranking, award, options, status : ipywidgets.HTML
    chart : ipywidgets.Image
        The contribution chart (PNG).
    widget : ipywidgets.Box
        The whole explorer.
    """

    def __init__(self, whatif: WhatIf, *, debounce: float = 0.4, state: State | None = None) -> None:
        import ipywidgets as W

        self.whatif = whatif
        self.state = state or whatif.start
        self.debounce = float(debounce)
        self._timer: threading.Timer | None = None
        self._quiet = False
        tender = whatif.tender
        self.currency = tender.currency
        crit = tender.criteria
        self.weight_sliders: dict[str, Any] = {}
        self._group_labels: dict[str, Any] = {}
        groups = []
        self.group_sliders: dict[str, Any] = {}
        weight = {"min": 0.0, "max": 100.0, "step": 0.1, "readout_format": ".1f",
                  "continuous_update": True}
        for group, members in whatif.groups.items():
            head = W.HTML()
            self._group_labels[group] = head
            rows = [head]
            if len(members) > 1:  # the group as a whole; its criteria keep their parts of it
                g, row = _labelled(W.FloatSlider(**weight), f"{fmt.group_title(group)}, in all")
                g.observe(self._on_group(members), names="value")
                self.group_sliders[group] = g
                rows.append(row)
            for c in members:
                s, row = _labelled(W.FloatSlider(**weight), str(crit.at[c, "name"]))
                s.observe(self._on_weight(c), names="value")
                self.weight_sliders[c] = s
                rows.append(row)
            groups.append(W.VBox(rows))
        from .scoring import METHODS

        self.method = W.Dropdown(options=[(m.upper(), m) for m in METHODS], value=self.state.method,
                                 description="Method")
        self.method.observe(self._on_method, names="value")
        self.gates = W.Checkbox(value=self.state.gates, description="Apply the knock-out gates")
        self.gates.observe(lambda ch: self._change(self.state.with_gates(ch["new"])), names="value")
        self.policy_sliders: dict[str, Any] = {}
        policy_rows = []
        n_vendors = len(tender.vendor_ids)
        for rule, (label, lo, hi, step, off) in POLICY_CONTROLS.items():
            if rule.endswith("vendors_per_lot"):
                hi = off = max(int(hi), n_vendors) if rule.startswith("max") else off
                s = W.IntSlider(min=int(lo), max=int(hi), step=int(step), continuous_update=False)
            else:
                s = W.FloatSlider(min=lo, max=hi, step=step, readout_format=".0f",
                                  continuous_update=False)
            s, row = _labelled(s, label)
            s.observe(self._on_policy(rule, off), names="value")
            self.policy_sliders[rule] = s
            policy_rows.append(row)
        self.multiplier_sliders: dict[str, Any] = {}
        multiplier_rows = []
        for name, (label, _) in MULTIPLIERS.items():
            s, row = _labelled(W.FloatSlider(min=0.0, max=3.0, step=0.1, readout_format=".1f",
                                             continuous_update=False), f"{label} \u00d7")
            s.observe(self._on_multiplier(name), names="value")
            self.multiplier_sliders[name] = s
            multiplier_rows.append(row)
        self.save_name = W.Text(value="what-if.yaml", description="File")
        self.save_button = W.Button(description="Save as scenario", icon="save")
        self.save_button.on_click(lambda _: self.save(self.save_name.value))
        self.reoptimise_button = W.Button(description="Re-optimise the risk-aware award",
                                          layout=W.Layout(width="20rem"))
        self.reoptimise_button.on_click(lambda _: self.reoptimise())
        box = {"width": "100%", "min_width": "0", "overflow": "auto"}  # wide tables scroll inside
        self.status = W.HTML(layout=W.Layout(**box))
        self.ranking = W.HTML(layout=W.Layout(**box))
        self.chart = W.Image(format="png", layout=W.Layout(max_width="42rem"))
        self.award = W.HTML(layout=W.Layout(**box))
        self.options = W.HTML(layout=W.Layout(**box))
        note = W.HTML(str(fmt.paragraph(
            "Weights are shares of 100%: moving one rescales the others in proportion, so they "
            "always sum to 100%. The ranking follows the slider; the award and the options "
            "update when the sliders are still.")))
        controls = W.VBox([note, *groups, W.HTML("<h4>Method and gates</h4>"), self.method,
                           self.gates, W.HTML("<h4>Policy</h4>"), *policy_rows,
                           W.HTML("<h4>Assumptions (times the scenario's)</h4>"), *multiplier_rows,
                           W.HBox([self.save_name, self.save_button]), self.reoptimise_button])
        controls.layout = W.Layout(width="27rem", min_width="27rem")
        results = W.VBox([self.status, self.ranking, self.chart, self.award, self.options],
                         layout=W.Layout(flex="1 1 30rem", min_width="24rem", width="0",
                                         padding="0 0 0 1rem", overflow="hidden"))
        self.widget = W.HBox([controls, results], layout=W.Layout(flex_flow="row wrap",
                                                                  width="100%"))
        self._show_state()
        self._update_ranking()
        self._update_slow()

    # ------------------------------------------------------------------ display
    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # ------------------------------------------------------------------ programmatic changes
    def set_state(self, state: State) -> None:
        """Show *state*: the controls move to it and the results update (as if the user moved
        them)."""
        self.state = state
        self._show_state()
        self._update_ranking()
        self._schedule()

    def save(self, path: str | os.PathLike, *, force: bool = False) -> Any:
        """Write the current state as a scenario file (:meth:`WhatIf.save`); says where, or why
        not, in the status line.  Returns the path written, or None."""
        try:
            target = self.whatif.save(self.state, path, force=force)
        except (OSError, ValueError) as err:
            self.status.value = str(fmt.paragraph(f"Not saved: {err}"))
            return None
        self.status.value = str(fmt.paragraph(
            f"Saved as {target.name}: render it with sourcing report --scenario {target.name}"))
        return target

    def reoptimise(self) -> None:
        """Solve the risk-aware award for the current state, then update the options."""
        self.status.value = str(fmt.paragraph("Re-optimising the risk-aware award..."))
        self.whatif.reoptimise(self.state)
        self._update_slow()

    # ------------------------------------------------------------------ reactions
    def _on_weight(self, criterion: str):
        def react(change):
            share = float(change["new"]) / 100.0
            # a slider snapping the value it was given to its 0.1-point grid is no change
            if self._quiet or abs(share - float(self.state.weights[criterion])) < _RESOLUTION:
                return
            self._change(self.state.with_weight(criterion, share))
        return react

    def _on_group(self, members: list[str]):
        def react(change):
            share = float(change["new"]) / 100.0
            now = sum(float(self.state.weights[c]) for c in members)
            if self._quiet or abs(share - now) < _RESOLUTION:
                return
            self._change(self.state.with_group_weight(members, share))
        return react

    def _on_method(self, change) -> None:
        if self._quiet:
            return
        method = change["new"]
        params = dict(self.whatif.start.params) if method == self.whatif.start.method else {}
        self._change(self.state.with_method(method, **params))

    def _on_policy(self, rule: str, off: float):
        def react(change):
            value = change["new"]
            slider = self.policy_sliders[rule]
            now = self.state.policy.get(rule)
            if self._quiet or (now is not None and _snapped(now, slider) == value):
                return  # the slider showing the rule on its grid, not a change of it
            self._change(self.state.with_policy(**{rule: None if value == off else value}))
        return react

    def _on_multiplier(self, name: str):
        def react(change):
            slider = self.multiplier_sliders[name]
            if self._quiet or _snapped(self.state.multipliers.get(name, 1.0), slider) == change["new"]:
                return
            self._change(self.state.with_multiplier(name, float(change["new"])))
        return react

    def _change(self, state: State) -> None:
        self.state = state
        self._show_state()
        self._update_ranking()
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.debounce <= 0:
            self._update_slow()
            return
        self._timer = threading.Timer(self.debounce, self._update_slow)
        self._timer.daemon = True
        self._timer.start()

    # ------------------------------------------------------------------ drawing
    def _show_state(self) -> None:
        """Move the controls to the state without reacting to the moves."""
        self._quiet = True
        try:
            s = self.state
            for c, slider in self.weight_sliders.items():
                slider.value = round(100.0 * float(s.weights.get(c, 0.0)), 1)
            for group, members in self.whatif.groups.items():
                total = sum(float(s.weights.get(c, 0.0)) for c in members)
                self._group_labels[group].value = str(fmt.html(
                    "<b>{}</b> &middot; {} in all", fmt.group_title(group), fmt.percent(total)))
                if group in self.group_sliders:
                    self.group_sliders[group].value = round(100.0 * total, 1)
            self.method.value = s.method
            self.gates.value = s.gates
            for rule, slider in self.policy_sliders.items():
                off = POLICY_CONTROLS[rule][4] if not rule.startswith("max_vendors") else slider.max
                value = s.policy.get(rule)
                slider.value = off if value is None else min(max(value, slider.min), slider.max)
            for name, slider in self.multiplier_sliders.items():
                slider.value = float(s.multipliers.get(name, 1.0))
        finally:
            self._quiet = False

    def _update_ranking(self) -> None:
        from .narrative import method_name, ranking_story

        w, s = self.whatif, self.state
        try:
            ev = w.ranking(s)
            bands = w.stability(s)
        except ValueError as err:
            self.ranking.value = str(fmt.paragraph(f"No ranking: {err}"))
            return
        parts = [fmt.heading(3, "Ranking"),
                 fmt.paragraph(" ".join(ranking_story(ev, method=s.method)))]
        changes = w.changes(s)
        if changes:
            parts.insert(1, fmt.bullets(changes))
        parts.append(ranking_table(ev, bands))
        parts.append(fmt.paragraph(
            f"Green band: the range of each weight within which {w.names(bands.top)} stays first "
            f"by {method_name(bands.method)} (the others rescaled in proportion)."))
        self.ranking.value = str(fmt.Markup("").join(parts))

    def _update_slow(self) -> None:
        from .narrative import award_story, binding_story, options_story

        w, s, names = self.whatif, self.state, self.whatif.names
        try:
            self.chart.value = _png(lambda ax: w.ranking(s).plot(ax=ax))
        except ValueError:
            self.chart.value = b""
        try:
            award = w.award(s)
            text = award_story(award, names=names) + binding_story(award, names=names)
            self.award.value = str(fmt.heading(3, "Least-cost award")
                                            + fmt.bullets(text))
            out = w.outcome(s)
            summary = fmt.table(out.summary, dict.fromkeys(("mean", "p50", "p90", "cvar95"), "money")
                                | {"p_over_budget": "percent", "p_cheapest": "percent"},
                                currency=self.currency, index_label="Option")
            lines = options_story(out.decision)
            if not out.risk_award_current:
                lines.append("The risk-aware award is the one optimised for an earlier state; "
                             "re-optimise it for these settings.")
            self.options.value = str(fmt.heading(3, "Sourcing options over the contract")
                                     + fmt.html('<div style="overflow-x:auto;font-size:92%">{}</div>',
                                                summary) + fmt.bullets(lines))
            self.status.value = ""
        except ValueError as err:
            self.options.value = str(fmt.paragraph(f"No result: {err}"))


def ranking_table(evaluation: Any, bands: Any) -> Any:
    """Rank, vendor, score and each vendor's lead in an HTML table, then the weights with their
    stability bands drawn as bars (0 to 100 % of the weight, the band in green)."""
    names = evaluation.names
    order = evaluation.ranks.sort_values(kind="stable").index
    rows = [fmt.html("<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                     str(int(evaluation.ranks[v])), str(names.get(v, v)),
                     fmt.number(evaluation.scores[v], decimals=3)) for v in order]
    table = fmt.html('<table class="sourcing"><thead><tr><th>Rank</th><th>Vendor</th>'
                     '<th class="num">Score</th></tr></thead><tbody>{}</tbody></table>',
                     fmt.Markup("").join(rows))
    cn = evaluation.conventions.get("criterion_names", {})
    bars = []
    for c, r in bands.intervals.iterrows():
        lo, hi, w = float(r["lower"]), float(r["upper"]), float(r["weight"])
        bars.append(fmt.html(
            '<tr><td>{}</td><td class="num">{}</td><td style="width:14rem"><div style="position:'
            'relative;height:8px;background:#eee"><div style="position:absolute;left:{}%;width:{}%;'
            'height:8px;background:#5cb85c"></div><div style="position:absolute;left:{}%;width:2px;'
            'height:8px;background:#1d1d1f"></div></div></td><td>{} to {}</td></tr>',
            str(cn.get(c, c)), fmt.percent(w), f"{100 * lo:.2f}", f"{100 * max(hi - lo, 0.004):.2f}",
            f"{100 * w:.2f}", fmt.percent(lo), fmt.percent(hi)))
    band_table = fmt.html('<table class="sourcing"><thead><tr><th>Criterion</th><th class="num">'
                          'Weight</th><th>Stability band</th><th>Holds from</th></tr></thead>'
                          '<tbody>{}</tbody></table>', fmt.Markup("").join(bars))
    return table + band_table


def _labelled(slider: Any, label: str) -> tuple[Any, Any]:
    """*slider* with *label* beside it, wrapping on two lines rather than cut."""
    import ipywidgets as W

    slider.layout = W.Layout(width="14rem")
    text = W.HTML(str(fmt.html('<span style="line-height:1.2">{}</span>', label)),
                  layout=W.Layout(width="12rem"))
    return slider, W.HBox([text, slider], layout=W.Layout(align_items="center"))


def _snapped(value: float, slider: Any) -> float:
    """*value* as *slider* shows it: on its grid of steps, within its range."""
    steps = round((float(value) - slider.min) / slider.step)
    return min(max(slider.min + steps * slider.step, slider.min), slider.max)


def _png(draw) -> bytes:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    try:
        draw(ax)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        return buf.getvalue()
    finally:
        plt.close(fig)
