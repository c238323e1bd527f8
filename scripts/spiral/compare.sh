#!/usr/bin/env bash
# The spiral demo side by side with torchdiffeq's examples/ode_demo.py (unchanged), interleaved, 1 thread each.
#
#   bash scripts/spiral/compare.sh <torchdiffeq source folder> [runs 7] [iterations 2000] [backprop|adjoint]
#
# Needs Debian's /usr/bin/python3 with python3-torch, python3-scipy and libopenblas0-openmp, and a Release build of
# the demo (dotnet build NeuralOde.sln -c Release). Run i uses --seed i for ours (ode_demo draws its own batches
# unseeded). Results: $OUT (default /tmp/spiral-compare), then the table of scripts/spiral/summarize.py.
set -euo pipefail
tdq=$1
runs=${2:-7}
iterations=${3:-2000}
mode=${4:-backprop}
out=${OUT:-/tmp/spiral-compare}
here=$(cd "$(dirname "$0")/../.." && pwd)
dll=$here/src/Demo/bin/Release/net10.0/NeuralOde.Demo.dll
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX} OMP_NUM_THREADS=1 PYTHONPATH=$tdq
adjoint=()
if [[ $mode == adjoint ]]; then adjoint=(--adjoint); fi
mkdir -p "$out"
rm -rf "${out:?}"/ours-* "${out:?}"/tdq-*

ours() {
    dotnet "$dll" spiral --iterations "$iterations" --threads 1 --seed "$1" --gradient "$mode" --out "$out/ours-$1" > "$out/ours-$1.log"
}

theirs() {
    /usr/bin/python3 "$here/scripts/spiral/ode_demo_timed.py" "$tdq/examples/ode_demo.py" \
        --niters "$iterations" --test_freq "$iterations" "${adjoint[@]}" > "$out/tdq-$1.json"
}

for i in $(seq 1 "$runs"); do
    echo "run $i/$runs, load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
    # Alternate who goes first, so that a drift in the machine's load favours neither.
    if (( i % 2 )); then ours "$i"; theirs "$i"; else theirs "$i"; ours "$i"; fi
done
echo "end, load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
/usr/bin/python3 "$here/scripts/spiral/summarize.py" "$out"
