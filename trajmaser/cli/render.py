"""Output of the command line: JSON (strict, non-finite as null) or text."""

from __future__ import annotations

import json
import math


def emit(payload, as_json: bool, text: str) -> None:
    """Print ``payload`` as strict JSON (NaN and ±inf become null) or ``text`` for people."""
    if as_json:
        print(json.dumps(finite(payload), indent=2, allow_nan=False))
    else:
        print(text)


def finite(obj):
    """``obj`` with numpy scalars made plain and non-finite floats replaced by None."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy scalar or array
        obj = obj.tolist()
        if isinstance(obj, list):
            return [finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# ---------------------------------------------------------------- summaries
_STEADY = (  # (key, label, digits) of a steady block, each with its error
    ("n_mean", "n", 5),
    ("mandel_q", "Mandel Q", 4),
    ("g2", "g2(0)", 4),
    ("Tf_over_Tb", "Tf/Tb", 5),
    ("efficiency", "efficiency", 5),
)
DM_KEYS = ("n_mean", "n_var", "mandel_q", "g2", "Tf_over_Tb", "efficiency")
"""The density-matrix values shown beside the trajectories."""


def _pm(value: float, err: float, digits: int) -> str:
    return f"{value:.{digits}f} +- {err:.{digits}f}"


def steady_text(summary: dict, ref: dict | None = None, dm_note: str | None = None) -> str:
    """A single run's steady state: both blocks with errors, the clicks, the density matrix."""
    lines = [f"trajectories: {summary['ntraj']}   atom passages: {summary['passages']}"]
    for block, what in (("time", "continuous-time average"), ("arrival", "just before atoms")):
        s = summary["steady"][block]
        lines.append(f"steady state, {block} block ({what}):")
        for key, label, digits in _STEADY:
            line = f"  {label:11s}{_pm(s[key], s[key + '_err'], digits)}"
            if key == "n_mean":
                line += f"   (Var n = {s['n_var']:.5f})"
            if key in ("mandel_q", "g2") and not s["q_reliable"]:
                line += "   unreliable: two-photon states barely sampled"
            if ref is not None and key in ref[block]:
                r, err = ref[block][key], s[key + "_err"]
                z = f"z = {(s[key] - r) / err:+.2f}" if err > 0 else "z undefined"
                line += f"   | density matrix {r:.{digits}f} ({z})"
            lines.append(line)
    c = summary["clicks"]
    lines.append("atoms leaving the cavity (detected):")
    lines.append(f"  p_e        {_pm(c['p_e'], c['p_e_err'], 5)}   (found excited)")
    lines.append(f"  Mandel Q_a {_pm(c['mandel_q'], c['mandel_q_err'], 5)}   (excited-atom counts)")
    if dm_note:
        lines.append(f"density matrix: {dm_note}")
    return "\n".join(lines)


def sweep_text(axes, rows: list[dict], refs: list | None = None) -> str:
    """The sweep table: one row per point, labelled columns (values ± errors)."""
    cols = [("n (time)", "time", "n_mean", 5), ("Tf/Tb (time)", "time", "Tf_over_Tb", 5),
            ("Tf/Tb (arrival)", "arrival", "Tf_over_Tb", 5),
            ("Mandel Q (time)", "time", "mandel_q", 4), ("p_e", None, "p_e", 5)]  # fmt: skip
    width = {a: max(len(a), 6) + 2 for a in axes}
    head = "".join(f"{a:>{width[a]}s}" for a in axes) + f"{'ntraj':>9s}"
    head += "".join(f"{label:>22s}" for label, *_ in cols)
    head += f"{'Tf/Tb (dm, time)':>18s}" if refs is not None else ""
    out = [head]
    for i, r in enumerate(rows):
        line = "".join(f"{r[a]!s:>{width[a]}s}" for a in axes) + f"{r['ntraj']:>9d}"
        if r["ntraj"]:
            for _, block, key, digits in cols:
                src = r["clicks"] if block is None else r["steady"][block]
                err = src[key + "_err"]
                line += f"{_pm(src[key], err, digits):>22s}"
            if refs is not None:
                ref = refs[i]
                line += f"{ref['time']['Tf_over_Tb']:>18.5f}" if ref else f"{'-':>18s}"
            if not r["steady"]["time"]["q_reliable"]:
                line += "   (Q unreliable: n >= 2 barely sampled)"
        line += "   (not stationary: see warning)" if r.get("stationarity_warning") else ""
        out.append(line)
    return "\n".join(out)


def series_text(series: dict) -> str:
    """The time series: n, Tf/Tb and Mandel Q with errors at every record."""
    out = []
    for block, key, label in (("time", "t", "t (s)"), ("arrival", "atom", "atom")):
        s = series[block]
        out.append(f"{label:>12s} {'n':>20s} {'Tf/Tb':>22s} {'Mandel Q':>20s}")
        for i, x in enumerate(s[key]):
            out.append(
                f"{x:>12.6g} {s['n_mean'][i]:>10.5f} +- {s['n_mean_err'][i]:<7.5f}"
                f"{s['Tf_over_Tb'][i]:>12.5f} +- {s['Tf_over_Tb_err'][i]:<7.5f}"
                f"{s['mandel_q'][i]:>10.4f} +- {s['mandel_q_err'][i]:<7.4f}"
            )
        out.append("")
    return "\n".join(out)
