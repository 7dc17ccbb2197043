#!/usr/bin/env bash
# The GPU check (issue 15, item 5), prepared to run once on a machine with an NVIDIA GPU and
# a CUDA build of torch; every result lands as JSON/XML/Markdown in one folder.
#
#   bash benchmarks/gpu_check.sh [RESULTS_DIR]        (default: $OUT, else results/gpu)
#
# Environment:
#   PYTHON   the Python whose torch is the CUDA build (default: python3)
#   WHEELS   a folder of wheels for what that Python lacks (ase, pydantic, ...), for a
#            machine without a package index; without it pip uses the index
#   QUICK=1  fewer replica counts and steps (a first try that must fit a short lease)
#   DEVICE   cuda (default); cpu for a dry run of the script on a machine without a GPU
#   VENV     reuse this venv instead of building .venv-gpu (a dry run here: VENV=.venv)
#
# Steps, each timed and allowed to fail without stopping the others (a summary at the end):
#   1. device.json     torch, CUDA, GPU name and memory
#   2. cuda-tests.xml  the CUDA tests (pytest -m cuda) and the torch-engine tests on this box
#   3. bench-cuda.*    mdval bench --device cuda: 1 ... 256 replicas, float64 and float32,
#                      TorchSim arm where installed; JSON, Markdown
#   4. service.json    one run through mdval standalone on its gpu worker (device cuda)
set -uo pipefail
cd "$(dirname "$0")/.."
RESULTS=${1:-${OUT:-results/gpu}}
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
VENV=${VENV:-.venv-gpu}
mkdir -p "$RESULTS"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4} PIP_DISABLE_PIP_VERSION_CHECK=1
declare -A STATUS

step() {  # step NAME COMMAND...: run, time, remember the exit code
    local name=$1; shift
    local start=$SECONDS
    printf '\n==> %s\n' "$name"
    "$@"
    local rc=$?
    STATUS[$name]="rc=$rc $((SECONDS - start))s"
    return 0
}

setup() {  # a venv over the system's CUDA torch; the project without replacing torch
    if [ "$VENV" != .venv-gpu ]; then return 0; fi
    "$PY" -m venv --system-site-packages .venv-gpu || return 1
    local pip=(.venv-gpu/bin/pip install -q)
    [ -n "${WHEELS:-}" ] && pip+=(--no-index --find-links "$WHEELS")
    "${pip[@]}" -e '.[service,test]' 'torch-sim-atomistic==0.3.0' || "${pip[@]}" -e '.[core,test]'
    [ "$DEVICE" = cpu ] || .venv-gpu/bin/python -c 'import torch; assert torch.cuda.is_available()'
}

device_json() {
    "$VENV/bin/python" - >"$RESULTS/device.json" <<'EOF'
import json, platform, torch
gpu = torch.cuda.get_device_properties(0) if torch.cuda.is_available() else None
print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda,
                  "gpu": gpu.name if gpu else None,
                  "gpu_memory_GiB": round(gpu.total_memory / 2**30, 1) if gpu else None,
                  "python": platform.python_version()}, indent=1))
EOF
    cat "$RESULTS/device.json"
}

cuda_tests() {
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider -o addopts="" \
        --junitxml "$RESULTS/cuda-tests.xml" -m "cuda or not (service or browser or faults or fuzz or physics)" \
        tests/mdval/md tests/mdval/potentials
}

bench() {
    local replicas=1,8,32,64,128,256 steps=()
    [ "${QUICK:-0}" = 1 ] && replicas=1,32,256 && steps=(--steps 200)
    "$VENV/bin/mdval" bench --device "$DEVICE" --replicas "$replicas" --dtype float64,float32 \
        --peer-replicas 1,32,256 "${steps[@]}" \
        --json "$RESULTS/bench-cuda.json" --markdown "$RESULTS/bench-cuda.md"
}

service_run() {  # the standalone's runs worker serves the gpu queue; one run asks for cuda
    local data port=8765
    data=$(mktemp -d)
    "$VENV/bin/mdval" standalone --data-dir "$data" --port "$port" >"$data/standalone.log" 2>&1 &
    local pid=$!
    local token=""
    for _ in $(seq 120); do
        token=$(sed -n 's/^admin token: //p' "$data/standalone.log" | head -1)
        [ -n "$token" ] && curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
        sleep 1
    done
    "$VENV/bin/mdval" submit --server "http://127.0.0.1:$port" --token "$token" \
        --model zoo:original --structure alanine-dipeptide --reference none --device "$DEVICE" \
        --duration-ps 1 --equilibration-ps 0.2 --wait --poll-s 2 --timeout-s 420
    local rc=$?
    curl -sf -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/api/v1/runs?limit=5" >"$RESULTS/service.json"
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    cp "$data/standalone.log" "$RESULTS/standalone.log" 2>/dev/null
    # 0 pass, 1 fail, 3 inconclusive: the run completed on the GPU; 2/4 are errors
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || [ "$rc" = 3 ]
}

step setup setup
step device device_json
step cuda-tests cuda_tests
step bench bench
step service service_run

printf '\n==> summary\n'
for name in setup device cuda-tests bench service; do
    printf '%-11s %s\n' "$name" "${STATUS[$name]:-not run}"
done | tee "$RESULTS/summary.txt"
