"""Small helpers for the benchmarks: timing with median/min/max, running a command
with its peak memory, machine information."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass
class Timing:
    """Wall-clock median/min/max over repeats, and the median CPU time when known
    (on a shared machine the CPU time shows what the code itself costs)."""

    median: float
    min: float
    max: float
    n: int
    cpu: float | None = None

    @classmethod
    def of(cls, values, cpu=None) -> "Timing":
        values = list(values)
        c = statistics.median(list(cpu)) if cpu else None
        return cls(statistics.median(values), min(values), max(values), len(values), c)

    def __str__(self) -> str:
        text = fmt_s(self.median) if self.n == 1 else f"{fmt_s(self.median)} [{fmt_s(self.min)}, {fmt_s(self.max)}]"
        if self.cpu is not None:
            text += f" (cpu {fmt_s(self.cpu)})"
        return text


def fmt_s(x: float) -> str:
    if x < 0.01:
        return f"{x * 1000:.2f} ms"
    if x < 1:
        return f"{x * 1000:.0f} ms"
    return f"{x:.2f} s"


def timed(fn, repeats: int) -> Timing:
    out, cpu = [], []
    for _ in range(max(1, repeats)):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return Timing.of(out, cpu)


def children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


_PEAK = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
    "e = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(e, u.ru_maxrss, r.returncode, u.ru_utime + u.ru_stime)\n"
    "sys.stderr.write(r.stderr[-4000:])\n"
)


def peak_run(cmd: list[str], env: dict | None = None) -> tuple[float, float, int, str, float]:
    """Run ``cmd`` in a wrapper process: (seconds, peak RSS in MB of the command, return code,
    stderr, CPU seconds of the command)."""
    r = subprocess.run([sys.executable, "-c", _PEAK, *cmd], capture_output=True, text=True,
                       env={**os.environ, **(env or {})})
    secs, kb, rc, cpu = r.stdout.split()
    return float(secs), int(kb) / 1024, int(rc), r.stderr, float(cpu)


def run_json(code: str, *args: str) -> dict:
    """Run ``python -c code args`` in a fresh process; return the JSON object it prints last."""
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"benchmark process failed:\n{r.stderr[-4000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def dealgraph_cmd() -> list[str]:
    exe = shutil.which("dealgraph")
    return [exe] if exe else [sys.executable, "-c", "from dealgraph.cli import main; main()"]


def load_avg() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine_info() -> dict:
    import networkx
    import numba
    import numpy
    import pandas
    import pyarrow

    cpu = platform.processor() or "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} logical cores",
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "libraries": f"numpy {numpy.__version__}, pandas {pandas.__version__}, pyarrow {pyarrow.__version__}, "
                     f"numba {numba.__version__}, networkx {networkx.__version__}",
        "load average at start": load_avg(),
    }
