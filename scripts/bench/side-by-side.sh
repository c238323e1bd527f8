#!/usr/bin/env bash
# NeuralOde's bench beside the anchors (torchdiffeq and torchode through ../shared/anchors), interleaved, 1 thread,
# then summarize.py's side-by-side table, the commit and the load average.
#
#   bash scripts/bench/side-by-side.sh [--problems LIST] [--methods LIST] [--modes LIST] [--repeats N]
#                                      [--tols LIST] [--rounds N] [--out DIR]
#
#   --problems  comma list of shared problems            default mlp_d64_h64_b1024,stiff_d16_b1024
#   --methods   comma list in torchdiffeq's spelling     default dopri5   (also tsit5, bosh3, adaptive_heun, rk4,
#               euler, midpoint; each library runs those it has)
#   --modes     comma list of fwd, bptt, adjoint         default fwd      (gradients: MLP problems only)
#   --repeats   timed repeats per case and library       default 7        (at least 7 for a number to quote; every
#               library then applies the anchors' rule: a case whose repeats would take under 0.25 s gets more, at most 30)
#   --tols      rtol:atol pairs for our adaptive runs    default 1e-3:1e-6,1e-6:1e-9 (the anchors always run both)
#   --rounds    interleaved rounds; each case's last round is the one summarized, earlier ones are kept in DIR
#               default 1
#   --out       results folder                          default /tmp/side-by-side
#
# Needs: a Release build of the demo (dotnet build NeuralOde.sln -c Release); Debian's /usr/bin/python3 with
# python3-torch, python3-numpy, python3-scipy, python3-sortedcontainers and libopenblas0-openmp (anchors README);
# the anchors folder ($ANCHORS, default ../shared/anchors beside the repository); the libraries' sources, either as
# work trees ($TORCHDIFFEQ_SRC, $TORCHODE_SRC, each with a COMMIT file) or as bare git mirrors ($TORCHDIFFEQ_MIRROR,
# $TORCHODE_MIRROR), which this script extracts into DIR/src as the anchors README does.
# Both sides read the same problem files when $BENCH_DATA is set; otherwise ours reads testdata/bench and theirs
# ../shared/bench (copies with the same sha256 in problem.json).
set -euo pipefail

problems=mlp_d64_h64_b1024,stiff_d16_b1024
methods=dopri5
modes=fwd
repeats=7
tols=1e-3:1e-6,1e-6:1e-9
rounds=1
out=/tmp/side-by-side
while [[ $# -gt 0 ]]; do
    case $1 in
        --problems) problems=$2; shift 2 ;;
        --methods) methods=$2; shift 2 ;;
        --modes) modes=$2; shift 2 ;;
        --repeats) repeats=$2; shift 2 ;;
        --tols) tols=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "side-by-side.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ $repeats =~ ^[1-9][0-9]*$ ]] || { echo "side-by-side.sh: --repeats must be a positive integer; got '$repeats'" >&2; exit 2; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "side-by-side.sh: --rounds must be a positive integer; got '$rounds'" >&2; exit 2; }
if (( repeats < 7 )); then echo "side-by-side.sh: warning: $repeats repeats; quote only medians of at least 7" >&2; fi

here=$(cd "$(dirname "$0")/../.." && pwd)
anchors=$(cd "${ANCHORS:-$here/../shared/anchors}" && pwd)
dll=$here/src/Demo/bin/Release/net10.0/NeuralOde.Demo.dll
python=/usr/bin/python3
[[ -f $dll ]] || { echo "side-by-side.sh: $dll is missing: dotnet build NeuralOde.sln -c Release" >&2; exit 1; }
[[ -f $anchors/summarize.py ]] || { echo "side-by-side.sh: no summarize.py in $anchors (set ANCHORS)" >&2; exit 1; }
mkdir -p "$out/runs"
rm -f "$out"/runs/*.json

# The libraries' sources: work trees as given, or extracted from bare mirrors.
extract() { # extract VAR MIRROR_VAR PACKAGE
    local var=$1 mirror_var=$2 package=$3
    if [[ -n ${!var:-} ]]; then return; fi
    local mirror=${!mirror_var:-}
    [[ -n $mirror ]] || { echo "side-by-side.sh: set $var (a work tree) or $mirror_var (a bare git mirror)" >&2; exit 1; }
    local target=$out/src/$package
    rm -rf "$target" && mkdir -p "$target"
    git --git-dir="$mirror" archive HEAD "$package" LICENSE | tar -x -C "$target"
    git --git-dir="$mirror" rev-parse HEAD > "$target/COMMIT"
    export "$var=$target"
}
extract TORCHDIFFEQ_SRC TORCHDIFFEQ_MIRROR torchdiffeq
extract TORCHODE_SRC TORCHODE_MIRROR torchode
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX} OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# torchdiffeq's spelling -> our scheme (AnchorMethods in src/Demo/Bench maps back).
declare -A scheme=([dopri5]=DOPRI5 [tsit5]=Tsit5 [bosh3]=BS32 [adaptive_heun]=HeunEuler [rk4]=ThreeEighths
                   [euler]=Euler [midpoint]=Midpoint)
declare -A gradient=([fwd]=none [bptt]=backprop [adjoint]=adjoint)
data_args=()
if [[ -n ${BENCH_DATA:-} ]]; then data_args=(--data "$BENCH_DATA"); fi

ours() { # ours PROBLEM MODE ROUND
    local problem=$1 mode=$2 round=$3 method
    for method in ${methods//,/ }; do
        local s=${scheme[$method]:-}
        if [[ -z $s ]]; then echo "  neuralode: no scheme for '$method'; skipped" >&2; continue; fi
        local steps=()
        if [[ $method == euler ]]; then
            # The anchors' euler takes the problem's euler_steps (PROBLEMS.md); our bench's default is rk4_steps.
            steps=(--fixed-steps "$($python -c 'import json,sys; print(json.load(open(sys.argv[1]))["spec"]["euler_steps"])' \
                "${BENCH_DATA:-$here/testdata/bench}/$problem/problem.json")")
        fi
        local pair
        for pair in ${tols//,/ }; do
            dotnet "$dll" bench "${data_args[@]}" -p "$problem" -s "$s" --gradient "${gradient[$mode]}" \
                --rtol "${pair%%:*}" --atol "${pair##*:}" "${steps[@]}" --repeats "$repeats" --anchor-repeats --slow-repeats "$repeats" --warmup 1 --threads 1 \
                --out "$out/runs/neuralode.$problem.$mode.$method.${pair//:/_}.r$round.json" \
                > "$out/runs/neuralode.$problem.$mode.$method.${pair//:/_}.r$round.log" 2>&1 \
                || { echo "  neuralode failed on $problem $mode $method $pair (log in $out/runs)" >&2; return 1; }
            # A fixed-step scheme has no tolerance: one run is enough.
            if [[ $method == rk4 || $method == euler || $method == midpoint ]]; then break; fi
        done
    done
}

theirs() { # theirs LIBRARY PROBLEM MODE ROUND
    local library=$1 problem=$2 mode=$3 round=$4
    (cd "$anchors" && $python "run_$library.py" --threads 1 --problems "$problem" --methods "$methods" --modes "$mode" \
        --repeats "$repeats" --slow-repeats "$repeats" \
        --out "$out/runs/$library.$problem.$mode.r$round.json" > "$out/runs/$library.$problem.$mode.r$round.log" 2>&1) \
        || { echo "  $library failed on $problem $mode (log in $out/runs)" >&2; return 1; }
}

commit=$(git -C "$here" rev-parse --short HEAD)
if [[ -n $(git -C "$here" status --porcelain --untracked-files=no) ]]; then commit="$commit (with uncommitted changes)"; fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "side-by-side at $commit, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $load_before" | tee "$out/load.txt"

case=0
for round in $(seq 1 "$rounds"); do
    for problem in ${problems//,/ }; do
        for mode in ${modes//,/ }; do
            if [[ $mode != fwd && $problem != mlp* ]]; then continue; fi # the anchors' gradients: MLP problems only
            # Rotate who goes first, so that a drift of the machine's load favours no library.
            runners=(ours torchdiffeq torchode)
            first=$(( case % 3 )); case=$(( case + 1 ))
            for k in 0 1 2; do
                runner=${runners[$(( (first + k) % 3 ))]}
                echo "round $round · $problem · $mode · $runner · load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
                if [[ $runner == ours ]]; then ours "$problem" "$mode" "$round"; else theirs "$runner" "$problem" "$mode" "$round"; fi
            done
        done
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "end, load average $load_after" | tee -a "$out/load.txt"

# One file per library (summarize.py gives each file a column): every run's records, a later round replacing an
# earlier one's record of the same case.
$python - "$out" <<'EOF'
import glob, json, os, sys
out = sys.argv[1]
for library in ("torchdiffeq", "torchode", "neuralode"):
    runs = sorted(glob.glob(os.path.join(out, "runs", f"{library}.*.json")),
                  key=lambda p: int(p.rsplit(".r", 1)[1].split(".")[0]))
    cases = {}
    for path in runs:
        with open(path) as fh:
            for r in json.load(fh)["results"]:
                k = (r["problem"], r["method"], r.get("rtol"), r.get("steps"), r["mode"], r.get("adjoint"), r["threads"])
                cases[k] = r
    merged = {"library": library, "runs": [os.path.basename(p) for p in runs], "results": list(cases.values())}
    tmp = os.path.join(out, f".{library}.json.tmp")
    with open(tmp, "w") as fh:
        json.dump(merged, fh, indent=1)
    os.replace(tmp, os.path.join(out, f"{library}.json"))
EOF

{
    echo
    echo "commit $commit · 1 thread · $repeats repeats asked (fast cases get more, at most 30, by the anchors' rule), median · load average $load_before (before), $load_after (after)"
    echo "cell: median ms, NFE fwd(+bwd), x overhead (median of the pairwise ratios solve/floor)"
    (cd "$anchors" && $python summarize.py "$out/torchdiffeq.json" "$out/torchode.json" "$out/neuralode.json" --threads 1)
} | tee "$out/summary.txt"
