"""Run the trajmaser CLI on one hostile input and say what happened.

Shared by the property-based tests of this folder and by ``benchmarks/reliability_report.py``.
A `Case` is one command line plus the files it needs; `run_case` runs it in a fresh process
group (as ``python -m trajmaser.cli``, with a Python stack dump on SIGUSR2), under a hard
timeout and memory / file-size limits so that a runaway input cannot hurt the machine, and
returns an `Outcome` whose ``verdict`` is one of `VERDICTS`.  A process still running at the
timeout after using half of it in CPU time (see `finish`) is first asked for its stack
(SIGUSR2), then sent SIGTERM; if it is still alive after `TERM_GRACE` seconds it does not
stop on SIGTERM and its group is killed.

Every example costs a CLI start (about 2-4 s), so the tests draw few, fixed examples
(`fuzz_settings`): ``TRAJMASER_FUZZ_EXAMPLES=N`` draws N per test instead and
``TRAJMASER_FUZZ_RANDOM=1`` new ones on every run (the failing input is printed).
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings

import trajmaser

REPO = Path(trajmaser.__file__).resolve().parents[1]
TIMEOUT = 30.0
TERM_GRACE = 3.0
STARVED_LIMIT = 3.0  # a process starved of CPU is a hang only after this many timeouts
MEMORY_LIMIT = 4 << 30  # bytes of address space per process
FILE_LIMIT = 512 << 20  # largest file a case may write
ALLOWED = frozenset({0, 2})

VERDICTS = (
    "ok",
    "clear error",
    "vague error",
    "silently accepted",
    "refused valid input",
    "wrong answer",
    "traceback",
    "crash",
    "hang",
    "work lost",
)
#: The CLI's catch-all messages: an unforeseen exception (a traceback in all but form) and a
#: MemoryError nobody planned for.
UNEXPECTED = "(unexpected; TRAJMASER_TRACEBACK=1 shows where"
OUT_OF_MEMORY = "out of memory; make the problem smaller"
#: Verdicts that are failures (everything but a run that worked and a clear refusal).
FAILURES = frozenset(VERDICTS) - {"ok", "clear error"}


def fuzz_settings(default: int) -> settings:
    """Hypothesis settings of a CLI fuzz test: ``default`` examples, no shrinking."""
    return settings(
        max_examples=int(os.environ.get("TRAJMASER_FUZZ_EXAMPLES", "0")) or default,
        deadline=None,
        derandomize=os.environ.get("TRAJMASER_FUZZ_RANDOM") != "1",
        database=None,
        phases=(Phase.explicit, Phase.generate),  # a shrink would rerun slow subprocesses
        suppress_health_check=list(HealthCheck),
    )


# `python -m trajmaser.cli ARGS`, plus a stack dump on SIGUSR2 (trajmaser does not use it)
BOOT = (
    "import faulthandler, runpy, signal, sys; "
    "faulthandler.register(signal.SIGUSR2, all_threads=False); "
    "sys.argv[0] = 'trajmaser'; runpy.run_module('trajmaser.cli', run_name='__main__')"
)


@dataclass(frozen=True)
class Case:
    """One command line of ``trajmaser`` and the files it needs.

    ``argv`` are the arguments after ``trajmaser``; ``{dir}`` in them is replaced by the work
    directory.  ``expect`` is ``"ok"`` (a valid input: must run, status 0), ``"error"`` (an
    invalid one: must be refused, status 2) or ``"any"``.  ``mentions``: strings a clear
    refusal must contain (e.g. the option to use).  ``check(workdir, stdout) -> str | None``
    inspects a successful run and returns a problem (a wrong answer) or None.
    """

    cls: str
    what: str
    argv: tuple[str, ...]
    files: tuple[tuple[str, bytes], ...] = ()
    expect: str = "any"
    statuses: frozenset = ALLOWED
    mentions: tuple[str, ...] = ()
    timeout: float = TIMEOUT
    ranks: int = 1
    check: Callable[[Path, str], str | None] | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        files = ", ".join(f"{name} ({len(data)} bytes)" for name, data in self.files)
        argv = " ".join(self.argv)
        return f"Case({self.cls}: {self.what!r}; trajmaser {argv[:300]}; files: {files or '-'})"


@dataclass
class Ran:
    """A finished (or killed) process."""

    returncode: int | None
    stdout: str
    stderr: str
    elapsed: float
    timed_out: bool = False
    ignores_sigterm: bool = False
    stack: str = ""


@dataclass
class Outcome:
    """What a case gave: ``verdict`` (one of `VERDICTS`) and ``detail`` (cause or message)."""

    case: Case
    verdict: str
    detail: str
    ran: Ran

    @property
    def failed(self) -> bool:
        return self.verdict in FAILURES

    def report(self) -> str:
        """A few lines for an assertion message."""
        tail = "\n".join(self.ran.stderr.strip().splitlines()[-25:])
        return (
            f"[{self.case.cls}] {self.case.what}\n  trajmaser {' '.join(self.case.argv)[:400]}\n"
            f"  -> {self.verdict}: {self.detail} (exit {self.ran.returncode}, "
            f"{self.ran.elapsed:.1f} s)\n--- stderr ---\n{tail}"
        )


# ---------------------------------------------------------------- processes
def child_env(extra: dict | None = None) -> dict:
    """Environment of a child: this checkout first on PYTHONPATH, no MPI launcher variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "TRAJMASER_MPI"))}
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + path if path else "")
    env.update(PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.update(MKL_NUM_THREADS="1", COLUMNS="100")
    env.update(extra or {})
    return env


def cli_command(argv, ranks: int = 1) -> list[str]:
    """``python -m trajmaser.cli ARGV`` (with the stack-dump hook), under mpiexec if ranks > 1."""
    cmd = [sys.executable, "-c", BOOT, *argv]
    return cmd if ranks == 1 else ["mpiexec", "-n", str(ranks), *cmd]


def _limits(file_limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG

    return apply


def start(cmd, cwd: Path, *, env: dict | None = None, file_limit: int = FILE_LIMIT):
    """Start ``cmd`` in its own process group with the resource limits; pipes for output."""
    return subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env or child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
        preexec_fn=_limits(file_limit),
    )


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by the live processes of group ``pgid``."""
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def finish(proc: subprocess.Popen, t0: float, timeout: float) -> Ran:
    """Wait for ``proc``; a hang is probed (stack, SIGTERM), then killed.

    A hang is a process still running ``timeout`` s after ``t0`` that has used at least half
    of that in CPU time (a process starved by a busy machine gets more time), or one still
    running at `STARVED_LIMIT` times ``timeout``.
    """
    deadline = t0 + timeout
    while True:
        try:
            out, err = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
            return Ran(proc.returncode, out, err, time.monotonic() - t0)
        except subprocess.TimeoutExpired:
            pass
        elapsed = time.monotonic() - t0
        if elapsed >= STARVED_LIMIT * timeout or group_cpu_seconds(proc.pid) >= timeout / 2:
            break
        deadline = time.monotonic() + 1.0
    _signal_group(proc, signal.SIGUSR2)  # Python stack of every process in the group
    time.sleep(0.5)
    _signal_group(proc, signal.SIGTERM)
    ignores = False
    try:
        out, err = proc.communicate(timeout=TERM_GRACE)
    except subprocess.TimeoutExpired:
        ignores = True
        _signal_group(proc, signal.SIGKILL)
        out, err = proc.communicate()
    _signal_group(proc, signal.SIGKILL)  # leftovers (e.g. MPI proxies)
    return Ran(proc.returncode, out, err, elapsed, True, ignores, _stack_part(err))


def run_cli(argv, cwd: Path, *, timeout: float = TIMEOUT, ranks: int = 1, **kw) -> Ran:
    """Run ``trajmaser ARGV`` in ``cwd`` to completion or timeout."""
    t0 = time.monotonic()
    return finish(start(cli_command(argv, ranks), cwd, **kw), t0, timeout)


def _stack_part(stderr: str) -> str:
    i = stderr.find("(most recent call first)")
    return stderr[i:] if i >= 0 else ""


# ---------------------------------------------------------------- verdicts
_FRAME = re.compile(r'File "([^"]+)", line (\d+),? in (\S+)')


def where(stack_text: str, innermost_last: bool = True) -> str:
    """``path:function`` of the innermost trajmaser frame in a traceback or stack dump."""
    frames = [(f, fn) for f, _, fn in _FRAME.findall(stack_text)]
    if not innermost_last:
        frames = frames[::-1]
    own = [(f, fn) for f, fn in frames if "/trajmaser/" in f.replace(os.sep, "/")]
    chosen = own[-1] if own else (frames[-1] if frames else None)
    if chosen is None:
        return "?"
    path = chosen[0].replace(os.sep, "/")
    path = "trajmaser/" + path.rsplit("/trajmaser/", 1)[1] if "/trajmaser/" in path else path
    return f"{path}:{chosen[1]}"


def traceback_cause(stderr: str) -> str:
    """``ExceptionType @ trajmaser/file.py:function`` for the last traceback in ``stderr``."""
    text = stderr[stderr.rfind("Traceback (most recent call last)") :]
    lines = text.splitlines()[1:]
    exc = next((ln for ln in lines if ln.strip() and not ln[0].isspace()), "?")
    return f"{exc.split(':')[0].strip()} @ {where(text)}"


def _first_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if "error" in ln.lower()]
    text = lines[0] if lines else (stderr.strip().splitlines() or [""])[-1]
    return text[:300]


def classify(case: Case, ran: Ran, workdir: Path) -> tuple[str, str]:
    """(verdict, detail) of a finished case; see `VERDICTS`."""
    if ran.timed_out:
        how = (
            f"no exit {TERM_GRACE:g} s after SIGTERM" if ran.ignores_sigterm else "SIGTERM ends it"
        )
        return "hang", f"no result after {ran.elapsed:.0f} s ({how}) in {where(ran.stack, False)}"
    if "Traceback (most recent call last)" in ran.stderr:
        return "traceback", traceback_cause(ran.stderr)
    if UNEXPECTED in ran.stderr:  # the CLI's one line for an exception nobody foresaw
        return "traceback", _first_error(ran.stderr)
    rc = ran.returncode
    if rc not in case.statuses:
        return "crash", f"exit status {rc}: {_first_error(ran.stderr)}"
    if rc == 2:
        message = _first_error(ran.stderr)
        if case.expect == "ok":
            return "refused valid input", message
        missing = [m for m in case.mentions if m not in ran.stderr]
        if OUT_OF_MEMORY in ran.stderr:  # names neither the key nor the size
            return "vague error", message
        if not ran.stderr.strip() or missing:
            return "vague error", f"{message} (does not mention {', '.join(missing)})"
        return "clear error", message
    if case.expect == "error":  # 0, or 1 from `compare`: an answer computed from nonsense
        return "silently accepted", f"exit status {rc}"
    if rc == 0 and case.check is not None:
        problem = case.check(workdir, ran.stdout)
        if problem:  # "hang: ...", "traceback: ..." from a follow-up command, else wrong
            head, _, rest = problem.partition(": ")
            return (head, rest) if head in VERDICTS else ("wrong answer", problem)
    return "ok", ""


def run_case(case: Case, workdir: Path) -> Outcome:
    """Write the case's files into ``workdir``, run it and classify the result."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name, data in case.files:
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    argv = [a.replace("{dir}", str(workdir)) for a in case.argv]
    ran = run_cli(argv, workdir, timeout=case.timeout, ranks=case.ranks)
    verdict, detail = classify(case, ran, workdir)
    return Outcome(case, verdict, detail, ran)


# ---------------------------------------------------------------- checks of answers
def check_run_json(workdir: Path, stdout: str, *, atoms: int, ntraj: int) -> str | None:
    """Problems in ``trajmaser run --json`` output: atom count and finite, sane numbers."""
    try:
        summary = json.loads(stdout)
    except json.JSONDecodeError as exc:
        return f"--json output is not JSON ({exc})"
    if summary.get("ntraj") != ntraj:
        return f"ntraj = {summary.get('ntraj')} in the summary, {ntraj} requested"
    # Regular pumping: exactly `atoms` per trajectory.  Random arrivals (poisson, binomial)
    # keep coming until the run length T = atoms / r is covered (the record convention), so
    # there a trajectory has at least `atoms` passages.
    passages, want = summary.get("passages"), atoms * ntraj
    cfg = workdir / "cfg.toml"
    regular = (
        not cfg.exists()
        or "statistics" not in cfg.read_text()
        or (
            '"statistics" = "regular"' in cfg.read_text()
            or 'statistics = "regular"' in cfg.read_text()
        )
    )
    if not isinstance(passages, int) or (passages != want if regular else passages < want):
        return f"{passages} atom passages simulated, atoms x ntraj = {want}"
    for block in ("time", "arrival"):
        n = summary["steady"][block]["n_mean"]
        if not (isinstance(n, (int, float)) and math.isfinite(n) and n >= 0):
            return f"steady ({block}) n_mean = {n!r}"
    return None


def check_fuel_json(workdir: Path, stdout: str) -> str | None:
    """Problems in ``trajmaser fuel --json`` output: pe in [0, 1], inversion flag = sign of Tq."""
    try:
        rows = json.loads(stdout)
    except json.JSONDecodeError as exc:
        return f"--json output is not JSON ({exc})"
    for row in rows if isinstance(rows, list) else [rows]:
        pe, tq = row["pe"], row["Tq_over_Tb"]
        if not 0.0 <= pe <= 1.0:
            return f"N = {row['N']}: pe = {pe} outside [0, 1]"
        if tq is not None and row["inverted"] != (tq < 0):
            return f"N = {row['N']}: inverted = {row['inverted']} but Tq/Tb = {tq}"
        if "negative" in row.get("note", "") and tq is not None and tq > 0:
            return f"N = {row['N']}: note says negative Tq, Tq/Tb = {tq}"
    return None
