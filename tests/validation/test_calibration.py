"""Calibration at a small scale: with the exact reference the verdict says DISAGREE in about
α of the runs (tolerance: 3 binomial standard deviations).  The full-size study with its
table is benchmarks/bench_validation.py."""

from dataclasses import replace

import numpy as np

from trajmaser.agreement import compare_batches
from trajmaser.compare import dm_references
from trajmaser.params import InitialField, Model, RunParams
from trajmaser.validate import run_batches

MODEL = Model(
    pe=0.4,
    omega=1.0,
    g=1.2,
    gamma=0.5,
    kappa=0.3,
    tau=1.0,
    rate=0.4,
    nbar_bath=0.2,
    statistics="poisson",
    initial=InitialField("vacuum"),
)
RUN = RunParams(atoms=30, ntraj=1024, samples=10, burn_in=10, block_size=1024)


def test_false_alarm_rate_with_the_exact_reference():
    alpha, runs = 0.1, 60
    refs = None
    alarms = 0
    for seed in range(runs):
        result, data = run_batches(MODEL, replace(RUN, seed=500 + seed))
        if refs is None:
            refs = dm_references(MODEL, result.times, result.arrival_index)
        rep = compare_batches(data, refs, alpha=alpha, flips=1000)
        assert rep["tested"] > 20
        alarms += not rep["ok"]
    sd = np.sqrt(runs * alpha * (1 - alpha))
    assert abs(alarms - runs * alpha) <= 3 * sd, f"{alarms} alarms in {runs} runs"
