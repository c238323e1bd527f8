"""Runs torchdiffeq's examples/ode_demo.py unchanged, on 1 thread, and reports what the spiral demo reports.

Usage: ode_demo_timed.py <path to ode_demo.py> [ode_demo's own options, e.g. --niters 2000 --test_freq 2000 --adjoint]

Prints one JSON line: seconds per iteration (the time between the ends of consecutive optimizer steps, iterations
2..N; run it with --test_freq equal to --niters so that the only evaluation comes after the last step), the same in
the thread's CPU time, and the last "Total Loss" the script printed.
torchdiffeq must be importable (PYTHONPATH).
"""
import contextlib
import io
import json
import re
import runpy
import sys
import time

import torch

torch.set_num_threads(1)
stamps = []
cpu_stamps = []
original_step = torch.optim.RMSprop.step


def timed_step(self, *args, **kwargs):
    result = original_step(self, *args, **kwargs)
    stamps.append(time.perf_counter())
    cpu_stamps.append(time.thread_time())
    return result


torch.optim.RMSprop.step = timed_step
path = sys.argv[1]
sys.argv = [path] + sys.argv[2:]
captured = io.StringIO()
with contextlib.redirect_stdout(captured):
    runpy.run_path(path, run_name="__main__")
losses = [float(m) for m in re.findall(r"Total Loss ([0-9.eE+-]+)", captured.getvalue())]
print(json.dumps({
    "library": "torchdiffeq",
    "iterations": len(stamps),
    "seconds_per_iteration": (stamps[-1] - stamps[0]) / (len(stamps) - 1),
    "cpu_seconds_per_iteration": (cpu_stamps[-1] - cpu_stamps[0]) / (len(cpu_stamps) - 1),
    "final_loss": losses[-1] if losses else None,
    "threads": torch.get_num_threads(),
    "torch": torch.__version__,
}))
