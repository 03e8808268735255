"""Validate a density-matrix solver against exact quantum trajectories, from Python.

::

    import trajmaser
    report = trajmaser.validate("runs/quick.toml", my_solver)   # my_solver(times) -> [Qobj]
    print(report.verdict); report.plot("check.png")

See :func:`validate` and docs/VALIDATION.md for the statistics.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, replace

import numpy as np

from trajmaser.agreement import ALPHA
from trajmaser.batchmeans import FAMILIES, BatchMeans, batch_means_from_moments, batch_means_of
from trajmaser.params import Model, RunParams
from trajmaser.results import NBATCH, Result

BATCHES = NBATCH


def batch_seeds(seed: int, batches: int) -> list[int]:
    """Root seeds of the independent batch runs, spawned from ``seed``."""
    ss = np.random.SeedSequence(seed, spawn_key=(0x7A11D,))
    return [int(s) for s in ss.generate_state(batches, dtype=np.uint32)]


def run_batches(
    model: Model, run: RunParams, batches: int = BATCHES, *, map=map
) -> tuple[Result, dict[str, BatchMeans]]:
    """Run the trajectories of ``run`` and return the total and the per-batch means.

    Results carry batch sums (``Result.batch_means``, NBATCH = 32 batches of trajectories
    i mod 32), so with that many batches one run gives them directly (and is bitwise the run of
    ``trajmaser run``).  Otherwise, or for another number of batches, the
    ``run.ntraj`` trajectories are split into ``batches`` independent runs with seeds
    spawned from ``run.seed`` (:func:`batch_seeds`).

    Returns
    -------
    (Result, dict)
        The summed result and family name → :class:`~trajmaser.agreement.BatchMeans`.
    """
    from trajmaser.trajectories import simulate

    if run.ntraj < batches:
        raise ValueError(f"need ntraj >= {batches} (one trajectory per batch), got {run.ntraj}")
    if batches == BATCHES:  # results keep batch sums (NBATCH batches)
        res = simulate(model, run, map=map)
        found = batch_means_of(res)
        if found is not None:
            return res, found
    sizes = np.full(batches, run.ntraj // batches)
    sizes[: run.ntraj % batches] += 1
    parts = [
        simulate(
            model,
            replace(run, ntraj=int(n), seed=s, block_size=min(run.block_size, int(n))),
            map=map,
        )
        for n, s in zip(sizes, batch_seeds(run.seed, batches), strict=True)
    ]
    data = {f: batch_means_from_moments([getattr(r, f) for r in parts]) for f in FAMILIES}
    total = functools.reduce(operator.add, parts)
    return total, data


# ------------------------------------------------------------------ the report
@dataclass(frozen=True)
class ValidationReport:
    """Outcome of :func:`validate`: the verdict, the statistics and the per-point z.

    Attributes
    ----------
    ok : bool
        True when the solver agrees with the trajectories at family-wise level ``alpha``.
    verdict : str
        One line: AGREE / DISAGREE, the p-value and, on disagreement, what failed by how much.
    p_value, alpha : float
        Calibrated p-value (smallest over the tests, Bonferroni over several tests) and level.
    tests : dict
        Test name ("series", "stationarity") → the :func:`trajmaser.compare.compare_result`
        report (statistics, ``points`` with traj / err / ref / z per record point).
    results : dict
        Test name → the trajectory :class:`~trajmaser.results.Result`.
    label : str
        Name of the reference in plots.
    """

    ok: bool
    verdict: str
    p_value: float
    alpha: float
    tests: dict
    results: dict
    label: str = "reference"

    def __str__(self) -> str:
        from trajmaser.compare import format_report

        parts = [f"== {name}\n{format_report(rep)}" for name, rep in self.tests.items()]
        return "\n".join(parts + [self.verdict])

    def __repr__(self) -> str:
        return f"<ValidationReport {self.verdict}>"

    def to_dict(self) -> dict:
        """Plain-data view (numpy arrays kept; ``trajmaser.cli.render.finite`` makes JSON)."""
        return {
            "ok": self.ok,
            "verdict": self.verdict,
            "p_value": self.p_value,
            "alpha": self.alpha,
            "tests": self.tests,
        }

    def plot(self, path=None):
        """Figure of every test (see :func:`plot_report`); saved to ``path`` when given."""
        figs = [plot_report(rep, label=self.label, title=name) for name, rep in self.tests.items()]
        if path is not None:
            for i, fig in enumerate(figs):
                target = path if i == 0 else _suffixed(path, list(self.tests)[i])
                fig.savefig(target, dpi=120)
        return figs[0] if len(figs) == 1 else figs


def _suffixed(path, name: str):
    from pathlib import Path

    p = Path(path)
    return p.with_name(f"{p.stem}_{name}{p.suffix}")


def plot_report(rep: dict, *, label: str = "reference", title: str | None = None):
    """See :func:`trajmaser.report_plot.plot_report`."""
    from trajmaser.report_plot import plot_report as _plot

    return _plot(rep, label=label, title=title)


# ------------------------------------------------------------------ the entry point
def _resolve(config_or_model, run: RunParams | None, overrides: dict) -> tuple[Model, RunParams]:
    from pathlib import Path

    from trajmaser.config import Config, load_config

    if isinstance(config_or_model, (str, Path)):
        config_or_model = load_config(config_or_model)
    if isinstance(config_or_model, Config):
        if config_or_model.sweep:
            raise ValueError("validate() takes a single-point configuration, not a sweep")
        model, base = config_or_model.model(), config_or_model.run
    elif isinstance(config_or_model, Model):
        model, base = config_or_model, RunParams()
    else:
        raise TypeError(
            f"expected a Config, a TOML path or a Model, got {type(config_or_model).__name__}"
        )
    run = base if run is None else run
    return model, replace(run, **{k: v for k, v in overrides.items() if v is not None})


def _initial_from(model: Model, state) -> Model:
    """The model with the cavity starting in ``state`` (Qobj, p(n) or density matrix)."""
    from trajmaser.references import initial_field

    return replace(model, initial=initial_field(state))


def validate(
    config_or_model,
    solver=None,
    *,
    steady=None,
    arrivals=None,
    initial=None,
    run: RunParams | None = None,
    ntraj: int | None = None,
    atoms: int | None = None,
    samples: int | None = None,
    burn_in: int | None = None,
    seed: int | None = None,
    alpha: float = ALPHA,
    label: str = "reference",
    map=map,
) -> ValidationReport:
    """Run exact trajectories and test a density-matrix solver against them.

    Parameters
    ----------
    config_or_model : Config, str, Path or Model
        The physics (and, for a config, the run settings).
    solver : callable, optional
        ``solver(times)`` → the cavity state at each time (s; the first atom enters at t = 0):
        a list of qutip ``Qobj`` (density matrices or kets), of p(n) arrays or of density
        matrices, or one array of p(n) rows.
    steady : Qobj or array, optional
        A claimed steady state just before an atom arrives.  Stationarity test: trajectories
        start in it (``burn_in`` = 0) and every arrival record and the arrival average must
        stay equal to it.
    arrivals : callable, optional
        ``arrivals(indices)`` → the cavity just before atoms ``indices``; compared too.
    initial : Qobj or array, optional
        Initial cavity state of the series test (default: the configuration's).
    run, ntraj, atoms, samples, burn_in, seed
        Run settings (``run`` replaces the configuration's; keywords override fields).
    alpha : float
        Family-wise false-alarm level of the whole validation.
    label : str
        Name of the reference in plots.
    map : callable
        Map over trajectory blocks (serial by default).

    Returns
    -------
    ValidationReport
    """
    if solver is None and steady is None:
        raise ValueError(
            "give solver (a time-series solver), steady (a claimed steady state), or both"
        )
    model, run = _resolve(
        config_or_model,
        run,
        dict(ntraj=ntraj, atoms=atoms, samples=samples, burn_in=burn_in, seed=seed),
    )
    each = alpha / ((solver is not None) + (steady is not None))
    tests, results = {}, {}
    if solver is not None:
        m = model if initial is None else _initial_from(model, initial)
        tests["series"], results["series"] = _series_test(m, run, solver, arrivals, each, map)
    if steady is not None:
        tests["stationarity"], results["stationarity"] = _stationarity_test(
            model, run, steady, each, map
        )
    return _combine(tests, results, alpha, label)


def _series_test(model: Model, run: RunParams, solver, arrivals, alpha: float, map):
    """Trajectories from the initial state against ``solver(times)`` (and ``arrivals``)."""
    from trajmaser.compare import compare_result, reference_from_rows
    from trajmaser.references import states_to_rows

    result, data = run_batches(model, run, map=map)
    t = np.asarray(result.times, dtype=float)
    refs = {"time": reference_from_rows(states_to_rows(solver(t.copy()), t), t)}
    if arrivals is not None:
        k = np.asarray(result.arrival_index)
        rows = states_to_rows(arrivals(k.copy()), k, "arrivals output")
        refs["arrival"] = reference_from_rows(rows, k)
    return compare_result(result, reference=refs, alpha=alpha, batches=data), result


def _stationarity_test(model: Model, run: RunParams, steady, alpha: float, map):
    """Trajectories started in the claimed steady state must stay in it at every arrival."""
    from trajmaser.compare import compare_result, reference_from_rows
    from trajmaser.references import state_to_distribution

    p = state_to_distribution(steady, "steady state")
    result, data = run_batches(_initial_from(model, steady), replace(run, burn_in=0), map=map)
    k = np.asarray(result.arrival_index)
    refs = {
        "arrival": reference_from_rows(np.tile(p, (k.size, 1)), k),
        "steady_arrival": reference_from_rows([p]),
    }
    return compare_result(result, reference=refs, alpha=alpha, batches=data), result


def _combine(tests: dict, results: dict, alpha: float, label: str) -> ValidationReport:
    """One verdict over one or two tests (Bonferroni: each at α / number of tests)."""
    k = len(tests)
    p_value = min(1.0, k * min(rep["p_value"] for rep in tests.values()))
    ok = all(rep["ok"] for rep in tests.values())
    if k == 1:
        verdict = next(iter(tests.values()))["verdict"]
    else:
        verdict = (
            ("AGREE" if ok else "DISAGREE") + f" at family-wise alpha = {alpha:g} "
            f"(p = {p_value:.3g}, Bonferroni over {k} tests): "
            + "; ".join(f"{name}: {rep['verdict']}" for name, rep in tests.items())
        )
    return ValidationReport(
        ok=ok,
        verdict=verdict,
        p_value=p_value,
        alpha=alpha,
        tests=tests,
        results=results,
        label=label,
    )
