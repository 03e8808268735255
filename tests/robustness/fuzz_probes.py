"""The named inputs of the hostile-user review (issue 11), as cases for the census.

The generators reach these only by chance; the census runs each of them every time, so its
counts can be read against the review's list.
"""

from __future__ import annotations

import copy
from functools import partial

from fuzz_configs import ATOMS, BASE, NTRAJ, config_case, to_toml
from fuzz_exec import Case, check_fuel_json, check_run_json
from fuzz_files import CKPT_CONFIG
from fuzz_physics import ATOMS as ATOMS_P
from fuzz_physics import NTRAJ as NTRAJ_P
from fuzz_physics import check_answer

CLS = "issue 11 probes"
PAPER_CHECK = partial(check_run_json, atoms=ATOMS, ntraj=NTRAJ)


def _with(**changes) -> dict:
    """BASE with ``section__key`` changes (``None`` deletes it; ``section`` alone replaces it)."""
    raw = copy.deepcopy(BASE)
    for name, value in changes.items():
        sec, _, key = name.partition("__")
        if not key:
            raw[sec] = value
        elif value is None:
            raw[sec].pop(key, None)
        else:
            raw.setdefault(sec, {})[key] = value
    return raw


def _physics(**changes) -> dict:
    """Small run of the paper's case at the paper's pump rate r = 6500 κ (not Nex: κ varies)."""
    raw = _with(pump={"statistics": "regular", "rate": 6500 * 314159265358.9793 / 2e10})
    raw = _with(**{"pump": raw["pump"], **changes})
    raw["run"].update(atoms=ATOMS_P, ntraj=NTRAJ_P, samples=6, burn_in=15, block_size=500)
    return raw


def config_probes() -> list[Case]:
    c = partial(config_case, CLS)
    answer = partial(check_answer, k=5.0)
    return [
        c(
            "Q = 2e5 (kappa*tau = 15, strong damping)",
            _physics(cavity__Q=2e5),
            expect="ok",
            check=answer,
        ),
        c(
            "vacuum field, g = 0 (zero error)",
            _physics(cavity__g=0.0, cavity__initial="vacuum"),
            expect="ok",
            check=answer,
        ),
        c(
            "detuning = 1e8 rad/s (dm step after the run)",
            _physics(cavity__detuning=1e8),
            expect="ok",
            check=answer,
        ),
        c(
            "inverted fuel pe = 0.8",
            _physics(fuel={"model": "state", "omega": 6.0, "pe": 0.8}),
            expect="ok",
            check=answer,
        ),
        c("fuel.omega = 710", _with(fuel__omega=710.0)),
        c("fuel.omega = 1e-300", _with(fuel__omega=1e-300)),
        c("fuel.Tb = 1e-300", _with(fuel__Tb=1e-300)),
        c("fuel.N = 1e9", _with(fuel__N=10**9)),
        c("run.ntraj = 10**15", _with(run__ntraj=10**15)),
        c("run.atoms = 1e12", _with(run__atoms=10**12)),
        c("samples = atoms = 1e6", _with(run__atoms=10**6, run__samples=10**6)),
        c('initial = "coherent:1e6"', _with(cavity__initial="coherent:1e6")),
        c("cavity.detuning = 1e300", _with(cavity__detuning=1e300)),
        c("cavity.g = 1e300", _with(cavity__g=1e300)),
        c("cavity.gamma = 1e300", _with(cavity__gamma=1e300)),
        c(
            '[sweep] "run.seed" = "0..100000000" (1e8 points)',
            {**BASE, "sweep": {"run.seed": "0..100000000"}},
        ),
        c(
            "[sweep] 2000 x 2000 points",
            {**BASE, "sweep": {"run.seed": "1..2000", "fuel.N": "1..2000"}},
        ),
        c("top-level sweep = 5", {"sweep": 5, **BASE}),
        c("UTF-8 BOM", b"\xef\xbb\xbf" + to_toml(BASE).encode(), expect="ok", check=PAPER_CHECK),
        c("the paper's case, 20 atoms (atom count)", _with(), expect="ok", check=PAPER_CHECK),
        c("dm: fuel.omega = 710", _with(fuel__omega=710.0), command="dm"),
        c("dm: cavity.detuning = 1e300", _with(cavity__detuning=1e300), command="dm"),
    ]


def option_probes() -> list[Case]:
    cfg = (("cfg.toml", to_toml(BASE).encode()),)
    run = ("run", "cfg.toml", "-o", "out.npz", "--quiet")

    def opt(what, argv, expect="error", files=cfg, **kw):
        return Case(CLS, what, tuple(argv), files, expect, **kw)

    return [
        *(opt(f"dm --tol {v}", ["dm", "cfg.toml", f"--tol={v}"]) for v in ("0", "nan", "-1")),
        *(
            opt(f"run --checkpoint-every {v}", [*run, f"--checkpoint-every={v}"])
            for v in ("-5", "nan")
        ),
        *(
            opt(f"run --max-ntraj {v}", [*run, "--target-err=0.5", f"--max-ntraj={v}"])
            for v in ("0", "-10")
        ),
        opt("run -o <255-character name>", ["run", "cfg.toml", "-o", "x" * 251 + ".npz"], "ok"),
        opt("fuel --omega -6", ["fuel", "--omega=-6", "--json"], "any", (), check=check_fuel_json),
    ]


def file_probes(artifacts: dict[str, bytes]) -> list[Case]:
    ckpt_cfg = ("ckpt.toml", CKPT_CONFIG)
    resume = ("run", "ckpt.toml", "-o", "out.npz", "--quiet", "--no-dm")
    mention = ("out.ckpt.npz", "--restart")

    def f(what, argv, files, **kw):
        return Case(CLS, what, tuple(argv), tuple(files), "error", **kw)

    res = artifacts["result"]
    return [
        f("summary on an empty .npz", ["summary", "r.npz"], [("r.npz", b"")]),
        f("summary on a truncated .npz", ["summary", "r.npz"], [("r.npz", res[: len(res) // 2])]),
        f(
            "summary on a checkpoint",
            ["summary", "r.ckpt.npz"],
            [("r.ckpt.npz", artifacts["checkpoint"])],
        ),
        f(
            "resume from an empty checkpoint",
            resume,
            [ckpt_cfg, ("out.ckpt.npz", b"")],
            mentions=mention,
        ),
        f(
            "resume from a truncated checkpoint",
            resume,
            [ckpt_cfg, ("out.ckpt.npz", artifacts["checkpoint"][:-100])],
            mentions=mention,
        ),
        f(
            "resume from a result file as checkpoint",
            resume,
            [ckpt_cfg, ("out.ckpt.npz", res)],
            mentions=mention,
        ),
    ]
