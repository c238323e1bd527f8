"""Prints the table of scripts/spiral/compare.sh: every run of both, medians and ratios (markdown)."""
import glob
import json
import os
import statistics
import sys

out = sys.argv[1]
ours = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out, "ours-*", "spiral.json")))]
theirs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out, "tdq-*.json")))]


def column(rows, key):
    return [r[key] for r in rows if r.get(key) is not None]


print("| run | NeuralOde ms/iter (wall) | NeuralOde ms/iter (CPU) | NeuralOde final loss | torchdiffeq ms/iter (wall) | torchdiffeq ms/iter (CPU) | torchdiffeq final loss |")
print("|---|---|---|---|---|---|---|")
for i in range(max(len(ours), len(theirs))):
    o = ours[i] if i < len(ours) else {}
    t = theirs[i] if i < len(theirs) else {}
    print("| {} | {:.2f} | {:.2f} | {:.4f} | {:.2f} | {:.2f} | {:.4f} |".format(
        i + 1,
        1e3 * o.get("secondsPerIteration", float("nan")), 1e3 * o.get("cpuSecondsPerIteration", float("nan")), o.get("finalLoss", float("nan")),
        1e3 * t.get("seconds_per_iteration", float("nan")), 1e3 * t.get("cpu_seconds_per_iteration", float("nan")), t.get("final_loss") or float("nan")))

ow, oc, ol = (statistics.median(column(ours, k)) for k in ("secondsPerIteration", "cpuSecondsPerIteration", "finalLoss"))
tw, tc, tl = (statistics.median(column(theirs, k)) for k in ("seconds_per_iteration", "cpu_seconds_per_iteration", "final_loss"))
print("| **median** | **{:.2f}** | **{:.2f}** | **{:.4f}** | **{:.2f}** | **{:.2f}** | **{:.4f}** |".format(1e3 * ow, 1e3 * oc, ol, 1e3 * tw, 1e3 * tc, tl))
print()
print("time per iteration, torchdiffeq / NeuralOde (medians): {:.2f}x wall, {:.2f}x CPU; final loss NeuralOde / torchdiffeq: {:.2f}".format(tw / ow, tc / oc, ol / tl))
print("iterations: {} (ours), {} (torchdiffeq); forward calls per iteration (ours, median): {:.1f}; backward: {:.1f}".format(
    ours[0]["iterationsRun"], theirs[0]["iterations"],
    statistics.median(column(ours, "forwardCallsPerIteration")), statistics.median(column(ours, "backwardCallsPerIteration"))))
