"""Hypothesis strategies for command-line options of every subcommand.

Values known to be nonsense (a negative checkpoint interval, ``--tol nan``, ``--max-ntraj 0``)
make the case ``expect="error"``; a 255-character output name is valid (``expect="ok"``).
"""

from __future__ import annotations

from functools import partial

from fuzz_configs import ATOMS, BASE, NTRAJ, to_toml
from fuzz_exec import Case, check_fuel_json, check_run_json
from hypothesis import strategies as st

CONFIG = to_toml(BASE).encode()


def _pool(text: str) -> tuple[tuple[str, str], ...]:
    """``"value:verdict value:verdict"`` -> ((value, verdict), ...)."""
    return tuple(tuple(item.rsplit(":", 1)) for item in text.split())


# (value, verdict it deserves): "error" = nonsense, "ok" = fine, "any" = either is defensible
CHECKPOINT_EVERY = _pool("0:any -5:error nan:error inf:any 1e-9:ok 1e9:ok abc:error -inf:error")
MAX_NTRAJ = _pool("0:error -10:error 1:any 1000000000000000:any x:error 1e3:error")
TARGET_ERR = _pool("0:error nan:error -1:error 1:error 2:error 1e-300:any 0.5:ok inf:error")
BATCH_BLOCKS = _pool("0:error -1:error 1:ok 1000000000:any")
TOL = _pool("0:error nan:error -1:error inf:error 1:any 1e-300:any 1e-3:ok abc:error")
K = _pool("0:any -1:error nan:error inf:any 4:ok")
OMEGA = _pool("6:ok 0:error -6:error 710:any 1e300:any nan:error inf:error 1e-300:any 5e-324:any")
TB = _pool("1:ok 0:error 1e-300:any -1:error nan:error 1e300:any")
FUEL_N = (("", "error"),) + _pool(
    "10:ok -1:error 1..1000000:any 10..1:error a:error 1,,2:error 1e3:error 100000:ok 0:ok "
    "1..5:ok 1000000000000:any"
)
# (-o value, files to create, verdict): "{dir}" is the work directory
OUTPUTS = (
    ("out.npz", "ok"),
    ("new/sub/dir/out.npz", "ok"),
    ("x" * 251 + ".npz", "ok"),  # 255 characters: a valid file name
    ("y" * 300 + ".npz", "error"),
    ("", "error"),
    ("existing_dir", "error"),
    ("{dir}", "error"),
    ("/proc/forbidden.npz", "error"),
    ("ünïcødé out.npz", "ok"),
    ("out", "ok"),
    ("cfg.toml", "any"),  # the config itself, with --force only
)


def _worst(*verdicts: str) -> str:
    return "error" if "error" in verdicts else ("any" if "any" in verdicts else "ok")


@st.composite
def run_options(draw) -> Case:
    """``trajmaser run`` with a mix of checkpoint, precision-target and output options."""
    argv, parts, verdicts = ["run", "cfg.toml", "--quiet", "--json"], [], []
    out, v = draw(st.sampled_from(OUTPUTS))
    argv += ["-o", out]
    parts.append(f"-o {out[:20] + '...' if len(out) > 24 else out or repr(out)}")
    verdicts.append(v)
    files = [("cfg.toml", CONFIG)]
    if out == "existing_dir":
        files.append(("existing_dir/keep", b""))
    pool = {
        "--checkpoint-every": CHECKPOINT_EVERY,
        "--target-err": TARGET_ERR,
        "--max-ntraj": MAX_NTRAJ,
        "--batch-blocks": BATCH_BLOCKS,
    }
    for flag in draw(st.lists(st.sampled_from(sorted(pool)), unique=True, max_size=3)):
        value, v = draw(st.sampled_from(pool[flag]))
        argv += [f"{flag}={value}"]
        parts.append(f"{flag} {value}")
        verdicts.append(v)
    if "--max-ntraj" in " ".join(parts) and "--target-err" not in " ".join(parts):
        verdicts.append("any")  # a cap without a target: ignoring it is defensible
    for flag in draw(st.lists(st.sampled_from(("--force", "--restart", "--no-dm")), unique=True)):
        argv.append(flag)
        parts.append(flag)
    if out in ("{dir}", "existing_dir", "cfg.toml") and "--force" not in argv:
        verdicts.append("error")
    expect = _worst(*verdicts)
    check = partial(check_run_json, atoms=ATOMS, ntraj=NTRAJ)
    if "--target-err" in " ".join(parts):
        check = None  # the number of trajectories depends on the target
    return Case(
        "options: run",
        " ".join(parts),
        tuple(argv),
        tuple(files),
        expect,
        check=check if expect == "ok" else None,
    )


@st.composite
def dm_options(draw) -> Case:
    value, v = draw(st.sampled_from(TOL))
    argv = ["dm", "cfg.toml", f"--tol={value}"] + draw(
        st.lists(st.sampled_from(("--json", "--distribution")), unique=True)
    )
    return Case("options: dm", f"--tol {value}", tuple(argv), (("cfg.toml", CONFIG),), v)


@st.composite
def fuel_options(draw) -> Case:
    """``trajmaser fuel`` with numbers and N lists from the pools, or free floats."""
    argv, parts, verdicts = ["fuel", "--json"], [], []
    model = draw(st.sampled_from(("star", "spin", "bogus")))
    argv.append(f"--model={model}")
    verdicts.append("error" if model == "bogus" else "ok")
    free = st.floats(allow_nan=True, allow_infinity=True).map(lambda x: (repr(x), "any"))
    pools = {"--N": FUEL_N, "--omega": OMEGA, "--Tb": TB}
    for flag in draw(
        st.lists(
            st.sampled_from(("--N", "--omega", "--Tb", "--J", "--lam")),
            unique=True,
            min_size=1,
            max_size=3,
        )
    ):
        value, v = draw(st.one_of(st.sampled_from(pools[flag]), free) if flag in pools else free)
        argv.append(f"{flag}={value}")
        parts.append(f"{flag} {value}")
        verdicts.append(v)
    return Case(
        "options: fuel",
        f"--model {model} " + " ".join(parts),
        tuple(argv),
        expect=_worst(*verdicts),
        check=check_fuel_json,
    )


REFERENCES = (
    ("missing.csv", None, "error"),
    ("ref.csv", b"", "error"),
    ("ref.csv", b"time,n_mean\n", "error"),
    ("ref.csv", b"a,b,c\n1,2,3\n", "error"),
    ("ref.csv", b"time,n_mean\n0,nan\n1,inf\n", "error"),
    ("ref.csv", b"\x00\xff garbage\n", "error"),
    ("ref.npy", b"\x93NUMPY garbage", "error"),
    ("ref.npy", b"", "error"),
)


@st.composite
def result_options(draw, result: bytes) -> Case:
    """``summary`` and ``compare`` options on a valid result file."""
    files = [("res.npz", result)]
    command = draw(st.sampled_from(("summary", "compare")))
    argv, parts, verdicts = [command, "res.npz"], [], ["ok"]
    if command == "summary":
        flags = draw(st.lists(st.sampled_from(("--json", "--dm", "--series")), unique=True))
        argv += flags
        parts += flags
    else:
        value, v = draw(st.sampled_from(K))
        argv.append(f"--k={value}")
        parts.append(f"--k {value}")
        verdicts.append(v)
        if draw(st.booleans()):
            name, data, v = draw(st.sampled_from(REFERENCES))
            argv += ["--reference", name]
            parts.append(f"--reference {name}={data[:12] if data is not None else 'missing'}")
            verdicts.append(v)
            if data is not None:
                files.append((name, data))
        plot = draw(st.sampled_from((None, "p.png", "{dir}", "/proc/p.png", "nodir/p.png")))
        if plot:
            argv += ["--plot", plot]
            parts.append(f"--plot {plot}")
            verdicts.append("ok" if plot == "p.png" else "any")
    return Case(
        f"options: {command}",
        " ".join(parts) or "(none)",
        tuple(argv),
        tuple(files),
        _worst(*verdicts),
        statuses=frozenset({0, 1, 2}),
    )
