"""Hypothesis strategies for TOML run configurations: valid, broken, extreme and not TOML at all.

Every strategy draws a `fuzz_exec.Case` (a ``trajmaser run`` or ``trajmaser dm`` command with
its config file).  The pools below hold the values a hostile user reaches for first (zero,
negative, denormal, 710 (e^710 overflows), 1e300, 10**15, non-finite, wrong types); the
strategies mix them with freely drawn numbers, strings and bytes.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass
from functools import partial

from fuzz_exec import Case, check_run_json
from hypothesis import strategies as st

ATOMS, NTRAJ = 20, 20
BASE = {
    "fuel": {"model": "star", "N": 10, "omega": 6.0, "J": 0.8, "lam": 1.0},
    "cavity": {
        "Omega": 314159265358.9793,
        "Q": 2e10,
        "g": 157079.63267948966,
        "gamma": 209.2300707290802,
        "tau": 9.5e-6,
        "initial": "thermal",
    },
    "pump": {"statistics": "regular", "Nex": 6500},
    "run": {
        "atoms": ATOMS,
        "ntraj": NTRAJ,
        "samples": 5,
        "burn_in": 10,
        "seed": 1,
        "block_size": 10,
    },
}
NUMERIC_KEYS = {
    "fuel": ("N", "omega", "J", "lam", "Tb"),
    "cavity": ("Omega", "Q", "g", "gamma", "tau", "detuning", "nbar_bath"),
    "pump": ("Nex",),
    "run": tuple("atoms ntraj samples burn_in seed block_size detector_efficiency nmax".split()),
}
OTHER_KEYS = {
    "fuel": ("model", "Tq", "pe", "coherence"),
    "cavity": ("kappa", "initial"),
    "pump": ("statistics", "rate", "p"),
    "run": ("method",),
}
INF, NAN = math.inf, math.nan


def _number(text: str) -> int | float:
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


# e^710 overflows a double; 1e300 squared overflows; 10**15 trajectories is years of work
EXTREMES = tuple(
    _number(t)
    for t in "0 -1 -0.0 5e-324 1e-300 1e-12 0.5 1.5 710 2e5 1e6 1e8 1e9 1e12 1000000000000000 "
    "9223372036854775807 -9223372036854775808 1e300 1.7e308 inf -inf nan".split()
)


@dataclass(frozen=True)
class Raw:
    """A TOML value written verbatim (dates and times, which have no Python literal here)."""

    text: str


WRONG_TYPES = ("abc", "", "1e3", "6.0", True, False, [1, 2], [], {"x": 1}, [[1], "a"])
WRONG_TYPES += (Raw("1979-05-27T07:32:00Z"), Raw("07:32:00"), "ünïcødé ✓")
INITIALS = ("", " thermal") + tuple(
    "thermal vacuum fock:0 fock:3 fock:-1 fock: fock:1e3 fock:100000000000 coherent:0 "
    "coherent:1 coherent:-2 coherent:1e6 coherent:inf coherent:nan coherent: coherent:1+1j "
    "squeezed:1 THERMAL thermal:1".split()
)
SWEEP_KEYS = ("", ".") + tuple(
    "fuel.N fuel.omega cavity.g cavity.Q cavity.detuning run.seed run.atoms pump.statistics "
    "pump.Nex cavity.initial N g omega seed fuel.bogus nosuch fuel.N.x sweep.x".split()
)
SWEEP_SPECS = tuple(
    "1..4 4..1 0..100000000 1..2000 -5..-1 1e3..1e4 0..1:1e-8 0..1:0 0..1:-1 1..3:0.5 a..b .. "
    "1.. 5 nan..inf 0..1e300:1 0..2000".split()
)


# ---------------------------------------------------------------- TOML text
def toml_value(v) -> str:
    """One TOML value (floats keep full precision; inf and nan as TOML spells them)."""
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no TOML for {v!r}")


def to_toml(raw: dict) -> str:
    """TOML text of a config mapping: top-level scalars first, then one table per section."""
    lines = [
        f"{json.dumps(k)} = {toml_value(v)}" for k, v in raw.items() if not isinstance(v, dict)
    ]
    for sec, table in raw.items():
        if isinstance(table, dict):
            lines.append(f"\n[{json.dumps(sec) if sec in ('', '.') else sec}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def config_case(cls, what, raw_or_bytes, *, command="run", expect="any", check=None) -> Case:
    """A `Case` running ``trajmaser COMMAND cfg.toml`` (``run`` writes ``out.npz``)."""
    data = raw_or_bytes if isinstance(raw_or_bytes, bytes) else to_toml(raw_or_bytes).encode()
    argv = (
        ("run", "cfg.toml", "-o", "out.npz", "--quiet", "--json")
        if command == "run"
        else ("dm", "cfg.toml", "--json")
    )
    return Case(cls, f"{command}: {what}", argv, (("cfg.toml", data),), expect, check=check)


def _base() -> dict:
    return copy.deepcopy(BASE)


def _fmt(v) -> str:
    return v.text if isinstance(v, Raw) else repr(v)


# ---------------------------------------------------------------- strategies
numbers = st.one_of(
    st.sampled_from(EXTREMES),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
any_value = st.one_of(numbers, st.sampled_from(WRONG_TYPES), st.text(max_size=12))
commands = st.sampled_from(("run", "run", "run", "dm"))
numeric_slot = st.sampled_from([(s, k) for s, keys in NUMERIC_KEYS.items() for k in keys])
any_slot = st.sampled_from(
    [(s, k) for d in (NUMERIC_KEYS, OTHER_KEYS) for s, keys in d.items() for k in keys]
)


@st.composite
def extreme_numbers(draw) -> Case:
    """One or two numeric keys set to extreme or non-finite numbers."""
    raw, parts = _base(), []
    for _ in range(draw(st.integers(1, 2))):
        sec, key = draw(numeric_slot)
        value = draw(numbers)
        raw[sec][key] = value
        parts.append(f"{sec}.{key} = {_fmt(value)}")
    return config_case("config: extreme numbers", "; ".join(parts), raw, command=draw(commands))


@st.composite
def wrong_types(draw) -> Case:
    """A key set to a value of the wrong type (string, bool, array, table, date, ...)."""
    raw = _base()
    sec, key = draw(any_slot)
    value = draw(st.one_of(st.sampled_from(WRONG_TYPES), st.text(max_size=12), numbers))
    raw[sec][key] = value
    return config_case(
        "config: wrong types", f"{sec}.{key} = {_fmt(value)}", raw, command=draw(commands)
    )


@st.composite
def key_faults(draw) -> Case:
    """Missing, unknown and misplaced keys and tables; top-level scalars; empty tables."""
    raw = _base()
    kind = draw(
        st.sampled_from(
            (
                "drop key",
                "drop table",
                "unknown key",
                "unknown table",
                "table as scalar",
                "top-level key",
                "empty table",
            )
        )
    )
    sec = draw(st.sampled_from(("fuel", "cavity", "pump", "run")))
    if kind == "drop key":
        key = draw(st.sampled_from(sorted(raw[sec])))
        del raw[sec][key]
        what = f"no {sec}.{key}"
    elif kind == "drop table":
        del raw[sec]
        what = f"no [{sec}]"
    elif kind == "unknown key":
        key = draw(
            st.one_of(
                st.sampled_from(("omgea", "Nex", "q", "N ", "ntraj", "")),
                st.text(min_size=1, max_size=8),
            )
        )
        raw[sec][key] = draw(any_value)
        what = f"{sec}.{key!r} added"
    elif kind == "unknown table":
        name = draw(st.sampled_from(("fuels", "Run", "output", "mpi", "sweep2")))
        raw[name] = {"x": 1}
        what = f"[{name}] added"
    elif kind == "table as scalar":
        sec = draw(st.sampled_from(("fuel", "cavity", "pump", "run", "sweep")))
        raw[sec] = draw(any_value)
        raw = {sec: raw.pop(sec), **raw}  # scalars must come before the tables
        what = f"top-level {sec} = {_fmt(raw[sec])}"
    elif kind == "top-level key":
        key = draw(st.sampled_from(("seed", "ntraj", "model", "version")))
        raw = {key: draw(any_value), **raw}
        what = f"top-level {key} = {_fmt(raw[key])}"
    else:
        raw[sec] = {}
        what = f"empty [{sec}]"
    return config_case("config: missing/unknown keys", what, raw, command=draw(commands))


@st.composite
def initial_fields(draw) -> Case:
    """``[cavity] initial`` strings, valid and not."""
    text = draw(
        st.one_of(
            st.sampled_from(INITIALS),
            st.builds(lambda n: f"fock:{n}", st.integers(-10, 10**15)),
            st.builds(lambda a: f"coherent:{a!r}", st.floats(allow_nan=True, allow_infinity=True)),
            st.text(max_size=12),
        )
    )
    raw = _base()
    raw["cavity"]["initial"] = text
    return config_case("config: initial field", f"initial = {text!r}", raw, command=draw(commands))


@st.composite
def sweeps(draw) -> Case:
    """``[sweep]`` tables: lists, ranges (some huge), bad keys, several axes."""
    raw = _base()
    table, parts = {}, []
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(SWEEP_KEYS))
        spec = draw(
            st.one_of(
                st.sampled_from(SWEEP_SPECS),
                st.lists(
                    st.one_of(st.integers(0, 12), numbers, st.sampled_from(WRONG_TYPES)), max_size=4
                ),
                st.sampled_from((5, 1.5, {}, True)),
            )
        )
        table[key] = spec
        parts.append(f"{key} = {_fmt(spec)}")
    raw["sweep"] = table
    return config_case("config: sweeps", "; ".join(parts), raw, command=draw(commands))


def _mangle(text: bytes, kind: str, draw) -> tuple[bytes, str]:
    if kind == "BOM":
        return b"\xef\xbb\xbf" + text, "UTF-8 BOM"
    if kind == "CRLF":
        return text.replace(b"\n", b"\r\n"), "CRLF line ends"
    if kind == "truncated":
        n = draw(st.integers(0, len(text) - 1))
        return text[:n], f"truncated to {n} bytes"
    if kind == "garbage":
        blob = draw(st.binary(min_size=1, max_size=200))
        return blob, f"{len(blob)} random bytes"
    if kind == "NUL":
        n = draw(st.integers(0, len(text)))
        return text[:n] + b"\x00" + text[n:], f"NUL byte at {n}"
    if kind == "latin-1":
        return text.replace(b'"star"', b'"st\xe4r"'), "non-UTF-8 byte"
    if kind == "UTF-16":
        return text.decode().encode("utf-16"), "UTF-16 encoded"
    return b"", "empty file"


@st.composite
def file_bytes(draw) -> Case:
    """The config file's bytes: BOM, CRLF, truncation, random bytes, NUL, other encodings."""
    kind = draw(
        st.sampled_from(
            ("BOM", "CRLF", "truncated", "garbage", "NUL", "latin-1", "UTF-16", "empty")
        )
    )
    data, what = _mangle(to_toml(_base()).encode(), kind, draw)
    expect = "ok" if kind in ("BOM", "CRLF") else "any"
    check = partial(check_run_json, atoms=ATOMS, ntraj=NTRAJ) if expect == "ok" else None
    command = draw(commands)
    return config_case(
        "config: file bytes",
        what,
        data,
        command=command,
        expect=expect,
        check=check if command == "run" else None,
    )


CONFIG_STRATEGIES = {
    "config: extreme numbers": extreme_numbers(),
    "config: wrong types": wrong_types(),
    "config: missing/unknown keys": key_faults(),
    "config: initial field": initial_fields(),
    "config: sweeps": sweeps(),
    "config: file bytes": file_bytes(),
}
