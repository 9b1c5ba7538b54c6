"""Walking weights: a self-contained HTML page whose sliders re-rank the vendors in the browser.

:func:`walk_data` takes an :class:`~sourcing.scoring.Evaluation` and returns what the page
embeds: the admitted vendors, the ranked criteria with their groups and weights, and the matrix
the method works from -- min-max-normalised values for WSM, the normalised matrix and the
criteria's directions for TOPSIS, the single-criterion net flows for PROMETHEE (whose net flow
is linear in the weights).  A tender ranked by another method is re-ranked with WSM, and the page
says so.  :func:`walk_page` writes the page: inline style and script, no network access; the
script recomputes the scores exactly as :func:`sourcing.scoring.rank` does (tested in a real
browser against it, to 1e-9), the ties as it breaks them, and each weight's stability interval
as :func:`sourcing.scoring.weight_stability` scans it (closed form for WSM and PROMETHEE, grid of
201 points and bisection to 1e-6 for TOPSIS), drawn on the weight's slider.  For PROMETHEE it
draws the GAIA plane (:func:`sourcing.scoring.gaia`) with the decision stick moving with the
weights.

Moving one weight rescales the others in proportion, so the weights always sum to 100 %.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from . import present as fmt

__all__ = ["WALK_METHODS", "walk_data", "walk_page"]

#: Methods the page recomputes itself; any other is re-ranked with WSM.
WALK_METHODS = ("wsm", "topsis", "promethee")

_LABELS = {"wsm": "the weighted sum (WSM)", "topsis": "TOPSIS", "promethee": "PROMETHEE II"}


def walk_data(evaluation: Any, *, groups: dict[str, str] | None = None) -> dict[str, Any]:
    """What the walking-weights page embeds, as plain JSON-ready data.

    Parameters
    ----------
    evaluation : sourcing.scoring.Evaluation
        The ranking (its ``matrix``, ``objectives``, ``weights``, ``details``, ``names``).
    groups : dict, optional
        Criterion id -> group name, to group the sliders.

    Returns
    -------
    dict
        ``method`` (one of :data:`WALK_METHODS`), ``ranked_by`` (the evaluation's method),
        ``params``, ``vendors`` (ids), ``vendor_names``, ``criteria`` (ids), ``criterion_names``,
        ``groups``, ``objectives`` (+1 more is better, -1 less), ``weights`` (sum 1), ``matrix``
        (vendors x criteria, as the method uses it), ``higher_is_better`` and, for PROMETHEE,
        ``gaia`` (points, axes, delta).
    """
    from .scoring import gaia, net_flows
    from .scoring.methods import minmax_normalize, vector_normalize

    conv = evaluation.conventions
    ranked_by = str(conv.get("method", "wsm"))
    method = ranked_by if ranked_by in WALK_METHODS else "wsm"
    # the criteria of a group side by side (in the order the groups first appear), so each
    # group has one heading above its sliders
    index = list(evaluation.weights.index)
    first = {}
    for c in index:
        first.setdefault((groups or {}).get(c, ""), len(first))
    index.sort(key=lambda c: first[(groups or {}).get(c, "")])
    crits = [str(c) for c in index]
    x = evaluation.matrix[index].to_numpy(float)
    obj = np.where(evaluation.objectives.reindex(index).to_numpy() == "max", 1.0, -1.0)
    params: dict[str, Any] = {}
    if method == "wsm":
        matrix = minmax_normalize(x, obj)
    elif method == "topsis":
        params["normalization"] = str(conv.get("normalization", "vector"))
        if params["normalization"] == "minmax":
            lo, hi = x.min(axis=0), x.max(axis=0)
            matrix = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
        else:
            matrix = vector_normalize(x)
    else:
        matrix = net_flows(evaluation)[index].to_numpy(float)
    names = evaluation.names
    cnames = conv.get("criterion_names", {})
    data: dict[str, Any] = {
        "method": method, "ranked_by": ranked_by, "params": params,
        "vendors": [str(v) for v in evaluation.matrix.index],
        "vendor_names": [str(names.get(v, v)) for v in evaluation.matrix.index],
        "criteria": crits, "criterion_names": [str(cnames.get(c, c)) for c in crits],
        "groups": [fmt.group_title((groups or {}).get(c, "")) for c in crits],
        "objectives": obj.tolist(), "weights": evaluation.weights[index].astype(float).tolist(),
        "matrix": matrix.tolist(), "higher_is_better": True,
    }
    if method == "promethee":
        plane = gaia(net_flows(evaluation)[index], evaluation.weights[index])
        data["gaia"] = {"points": plane.alternatives.to_numpy().tolist(),
                        "axes": plane.criteria.to_numpy().tolist(), "delta": plane.delta}
    return data


def _json_for_script(data: dict[str, Any]) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment (every ``<``, ``>``, ``&``
    escaped as a JSON unicode escape)."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def walk_page(evaluation: Any, *, title: str, groups: dict[str, str] | None = None,
              scenario: str = "") -> str:
    """The walking-weights page for *evaluation*, self-contained HTML (see the module notes).

    Parameters
    ----------
    evaluation : sourcing.scoring.Evaluation
    title : str
        The tender's name (escaped).
    groups : dict, optional
        Criterion id -> group name.
    scenario : str
        The scenario's name, shown under the title.
    """
    data = walk_data(evaluation, groups=groups)
    ranked_by = str(evaluation.conventions.get("method_label", data["ranked_by"].upper()))
    if data["method"] == data["ranked_by"]:
        how = fmt.html("The ranking below is recomputed in your browser by {}, the method of the "
                       "vendor ranking page, from the scores embedded in this page.",
                       _LABELS[data["method"]])
    else:
        how = fmt.html("The tender is ranked by {}, which this page cannot recompute; it re-ranks "
                       "with {} on the same criteria and normalised scores, so at the starting "
                       "weights its order can differ from the vendor ranking page.",
                       ranked_by, _LABELS[data["method"]])
    intro = [
        fmt.paragraph("Move a weight: the others rescale in proportion, so the weights always sum "
                      "to 100%. The green band on each slider is the range of that weight within "
                      "which the vendor now ranked first stays first (the others rescaled as you "
                      "move it)."),
        fmt.paragraph(how, " Nothing is sent anywhere: the page works offline."),
    ]
    gaia_part = fmt.Markup("")
    if "gaia" in data:
        gaia_part = fmt.html(
            '<h2>GAIA plane</h2><p class="note">Vendors as points, criteria as grey axes (the '
            'longer ones named; point at an axis for its name), the weights as the red decision '
            'stick: the further a vendor lies along the stick, the higher its net flow. '
            'The plane keeps {} of the information in the net flows.</p>'
            '<svg id="gaia" viewBox="-1.3 -1.3 2.6 2.6" width="100%" role="img" '
            'aria-label="GAIA plane"></svg>', fmt.percent(data["gaia"]["delta"]))
    return str(fmt.html(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'; img-src data:">'
        '<title>Walk the weights - {}</title><style>{}</style></head>\n<body>\n'
        '<h1>Walk the weights</h1><p class="meta">{}{}</p>{}'
        '<noscript><p>This page needs JavaScript to move the weights.</p></noscript>'
        '<div class="walk"><div id="sliders"></div><div><p id="verdict" class="recommend"></p>'
        '<table class="sourcing" id="ranking"><thead><tr><th>Rank</th><th>Vendor</th>'
        '<th class="num">Score</th><th>Change</th></tr></thead><tbody></tbody></table>'
        '<button id="reset" type="button">Back to the tender\'s weights</button>{}</div></div>'
        '<script type="application/json" id="walk-data">{}</script><script>{}</script>'
        '</body></html>\n',
        title, fmt.Markup(_STYLE), title, f" \u00b7 scenario {scenario}" if scenario else "",
        fmt.Markup("").join(intro), gaia_part, fmt.Markup(_json_for_script(data)),
        fmt.Markup(_SCRIPT)))


_STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:70rem;
margin:2rem auto;padding:0 1rem;line-height:1.45;color:#1d1d1f}
h1{margin-bottom:.1rem}.meta{color:#555;margin-top:0}
.walk{display:grid;grid-template-columns:minmax(22rem,1fr) minmax(20rem,1fr);gap:2rem}
.walk>div:last-child{position:sticky;top:0;align-self:start;max-height:100vh;overflow:auto}
.note{font-size:.9rem;color:#444}#gaia{max-width:30rem;display:block}
.group{margin:.8rem 0 .3rem;font-weight:600;color:#333}
.slider{margin:.35rem 0}.slider label{display:flex;justify-content:space-between;font-size:.92rem}
.slider input{width:100%;margin:0}.band{position:relative;height:6px;background:#eee;border-radius:3px}
.band span{position:absolute;top:0;height:6px;background:#5cb85c;border-radius:3px}
.recommend{font-size:1.05rem;background:#eef4fb;border-left:4px solid #2f6db5;padding:.6rem .9rem}
table.sourcing{border-collapse:collapse;margin:.8rem 0;width:100%}
table.sourcing th,table.sourcing td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.up{color:#1e7b34}.down{color:#b03a2e}
button{font:inherit;padding:.35rem .8rem}svg text{font-size:.055px}"""

# The page's engine: the same arithmetic as sourcing.scoring (methods.py, sensitivity.py).
_SCRIPT = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("walk-data").textContent);
  var m = D.vendors.length, n = D.criteria.length, X = D.matrix, OBJ = D.objectives;
  var start = D.weights.slice(), w = D.weights.slice();

  function scores(wt) {
    var s = new Array(m), i, j, t = 0;
    for (j = 0; j < n; j++) t += wt[j];
    var q = wt.map(function (x) { return x / t; });
    if (D.method === "topsis") {
      var best = [], worst = [];
      for (j = 0; j < n; j++) {
        var hi = -Infinity, lo = Infinity;
        for (i = 0; i < m; i++) { hi = Math.max(hi, X[i][j]); lo = Math.min(lo, X[i][j]); }
        best.push(OBJ[j] > 0 ? hi : lo); worst.push(OBJ[j] > 0 ? lo : hi);
      }
      for (i = 0; i < m; i++) {
        var dp = 0, dm = 0;
        for (j = 0; j < n; j++) {
          var v = X[i][j] * q[j], a = v - best[j] * q[j], b = v - worst[j] * q[j];
          dp += a * a; dm += b * b;
        }
        dp = Math.sqrt(dp); dm = Math.sqrt(dm);
        s[i] = dp + dm > 0 ? dm / (dp + dm) : 0;
      }
      return s;
    }
    for (i = 0; i < m; i++) {  // WSM and PROMETHEE II: linear in the weights
      var sum = 0;
      for (j = 0; j < n; j++) sum += q[j] * X[i][j];
      s[i] = sum;
    }
    return s;
  }

  function ranks(s) {  // 1 = best; within 1e-9 of the score scale: a tie, the lowest rank
    var order = s.map(function (_, i) { return i; });
    order.sort(function (a, b) { return (s[b] - s[a]) || (a - b); });
    var tol = 1e-9 * Math.max(1, Math.max.apply(null, s.map(Math.abs)));
    var r = new Array(m), rank = 1;
    for (var k = 0; k < m; k++) {
      if (k > 0 && s[order[k - 1]] - s[order[k]] > tol) rank = k + 1;
      r[order[k]] = rank;
    }
    return r;
  }

  function at(wt, k, t) {  // weight k at t, the others rescaled in proportion
    var rest = 0, j, out = new Array(n);
    for (j = 0; j < n; j++) if (j !== k) rest += wt[j];
    for (j = 0; j < n; j++) {
      out[j] = j === k ? t : (1 - t) * (rest > 0 ? wt[j] / rest : 1 / (n - 1));
    }
    return out;
  }

  function stability(wt) {  // [lower, upper] of each weight keeping the first vendor first
    var s0 = scores(wt), r0 = ranks(s0), top = r0.indexOf(1), out = [], j, k;
    for (k = 0; k < n; k++) {
      if (D.method !== "topsis") {  // closed form, as weight_stability does for a linear score
        var b = scores(at(wt, k, 0)), a = scores(at(wt, k, 1)), lo = 0, hi = 1;
        for (j = 0; j < m; j++) {
          if (j === top) continue;
          var c0 = b[top] - b[j], c1 = (a[top] - b[top]) - (a[j] - b[j]);
          if (Math.abs(c1) < 1e-15) continue;
          var root = -c0 / c1;
          if (c1 > 0 && root > lo && root <= wt[k] + 1e-12) lo = root;
          else if (c1 < 0 && root < hi && root >= wt[k] - 1e-12) hi = root;
        }
        out.push([Math.max(lo, 0), Math.min(hi, 1)]);
        continue;
      }
      var holds = function (t) { return ranks(scores(at(wt, k, t)))[top] === 1; };
      var bounds = [];
      [-1, 1].forEach(function (dir) {
        var good = wt[k], bad = null, g;
        for (g = 0; g <= 200; g++) {
          var t = dir < 0 ? (200 - g) / 200 : g / 200;
          if (dir < 0 ? t >= wt[k] : t <= wt[k]) continue;
          if (!holds(t)) { bad = t; break; }
          good = t;
        }
        if (bad === null) { bounds.push(dir < 0 ? 0 : 1); return; }
        while (Math.abs(bad - good) > 1e-6) {
          var mid = 0.5 * (good + bad);
          if (holds(mid)) good = mid; else bad = mid;
        }
        bounds.push(good);
      });
      out.push(bounds);
    }
    return out;
  }

  function pct(x) {
    var v = Math.round(x * 1000) / 10;
    return (v % 1 === 0 ? v.toFixed(0) : v.toFixed(1)) + "%";
  }

  var root = document.getElementById("sliders"), inputs = [], shown = [], bands = [];
  var group = null;
  D.criteria.forEach(function (c, j) {
    if (D.groups[j] && D.groups[j] !== group) {
      group = D.groups[j];
      var h = document.createElement("div"); h.className = "group"; h.textContent = group;
      root.appendChild(h);
    }
    var box = document.createElement("div"); box.className = "slider";
    var label = document.createElement("label");
    var name = document.createElement("span"); name.textContent = D.criterion_names[j];
    var value = document.createElement("span");
    label.appendChild(name); label.appendChild(value);
    var input = document.createElement("input");
    input.type = "range"; input.min = 0; input.max = 1000; input.step = 1;
    input.setAttribute("aria-label", D.criterion_names[j]);
    input.dataset.criterion = c;
    var band = document.createElement("div"); band.className = "band";
    var fill = document.createElement("span"); band.appendChild(fill);
    box.appendChild(label); box.appendChild(input); box.appendChild(band);
    root.appendChild(box);
    inputs.push(input); shown.push(value); bands.push(fill);
    input.addEventListener("input", function () { setWeight(j, input.value / 1000); });
  });

  var startScores = scores(start), startRanks = ranks(startScores);
  var first = startRanks.indexOf(1);

  function draw() {
    var s = scores(w), r = ranks(s), iv = stability(w), j;
    for (j = 0; j < n; j++) {
      inputs[j].value = Math.round(w[j] * 1000);
      shown[j].textContent = pct(w[j]);
      bands[j].style.left = (100 * iv[j][0]) + "%";
      bands[j].style.width = (100 * Math.max(iv[j][1] - iv[j][0], 0.004)) + "%";
    }
    var order = s.map(function (_, i) { return i; });
    order.sort(function (a, b) { return (r[a] - r[b]) || (a - b); });
    var body = document.querySelector("#ranking tbody");
    body.textContent = "";
    order.forEach(function (i) {
      var tr = document.createElement("tr"); tr.dataset.vendor = D.vendors[i];
      var moved = startRanks[i] - r[i];
      [String(r[i]), D.vendor_names[i], s[i].toFixed(3),
       moved > 0 ? "\u25b2 " + moved : moved < 0 ? "\u25bc " + (-moved) : ""].forEach(function (t, k) {
        var td = document.createElement("td"); td.textContent = t;
        if (k === 2) td.className = "num";
        if (k === 3) td.className = moved > 0 ? "up" : "down";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var top = r.indexOf(1), tied = r.filter(function (x) { return x === 1; }).length;
    document.getElementById("verdict").textContent = (tied > 1 ? tied + " vendors tie for first place" :
      D.vendor_names[top] + " ranks first") + (top === first && tied === 1 ?
      ", as at the tender's weights." : "; at the tender's weights " + D.vendor_names[first] + " does.");
    if (D.gaia) drawGaia();
    window.sourcingWalk.last = {weights: w.slice(), scores: s, ranks: r, intervals: iv};
  }

  function drawGaia() {
    var svg = document.getElementById("gaia"), NS = "http://www.w3.org/2000/svg";
    svg.textContent = "";
    var P = D.gaia.points, A = D.gaia.axes, reach = 0, j, i;
    P.forEach(function (p) { reach = Math.max(reach, Math.abs(p[0]), Math.abs(p[1])); });
    reach = reach || 1;
    var alen = 0; A.forEach(function (a) { alen = Math.max(alen, Math.hypot(a[0], a[1])); });
    var k = 1 / reach, ka = 0.9 / Math.max(alen, 1e-12);
    function el(tag, attrs, text) {
      var e = document.createElementNS(NS, tag);
      for (var key in attrs) e.setAttribute(key, attrs[key]);
      if (text) e.textContent = text;
      svg.appendChild(e); return e;
    }
    for (j = 0; j < n; j++) {  // the longer axes are labelled; every axis names itself on hover
      var axis = el("line", {x1: 0, y1: 0, x2: A[j][0] * ka, y2: -A[j][1] * ka, stroke: "#999",
                             "stroke-width": 0.006});
      var tip = document.createElementNS(NS, "title"); tip.textContent = D.criterion_names[j];
      axis.appendChild(tip);
      if (Math.hypot(A[j][0], A[j][1]) >= 0.5 * alen) {
        el("text", {x: A[j][0] * ka * 1.06, y: -A[j][1] * ka * 1.06, fill: "#666", "text-anchor": "middle"},
           D.criterion_names[j]);
      }
    }
    var t = w.reduce(function (a, b) { return a + b; }, 0), su = 0, sv = 0;
    for (j = 0; j < n; j++) { su += w[j] / t * A[j][0]; sv += w[j] / t * A[j][1]; }
    var sl = Math.hypot(su, sv), ks = sl > 0 ? 0.95 / sl : 0;
    el("line", {x1: 0, y1: 0, x2: su * ks, y2: -sv * ks, stroke: "#c0392b", "stroke-width": 0.02,
                id: "stick"});
    for (i = 0; i < m; i++) {
      el("circle", {cx: P[i][0] * k, cy: -P[i][1] * k, r: 0.025, fill: "#2f6db5"});
      el("text", {x: P[i][0] * k + 0.035, y: -P[i][1] * k + 0.015, fill: "#1d1d1f"}, D.vendor_names[i]);
    }
  }

  function setWeight(k, t) { w = at(w, k, Math.min(Math.max(t, 0), 1)); draw(); }
  function setWeights(wt) {
    var t = wt.reduce(function (a, b) { return a + b; }, 0);
    w = wt.map(function (x) { return x / t; }); draw();
  }
  document.getElementById("reset").addEventListener("click", function () { w = start.slice(); draw(); });
  window.sourcingWalk = {setWeight: setWeight, setWeights: setWeights, scores: scores, ranks: ranks,
                         stability: stability, data: D};
  draw();
})();
"""
