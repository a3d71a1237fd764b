#!/usr/bin/env bash
# QuaRot and SpinQuant next to RTN, SmoothQuant and GPTQ on SmolLM2-135M at W8A8, W4A8 (per
# channel and g32), W4A16 and W4A4KV4, on the reduced slice of configs/smollm2_rotation/base.yaml
# (calibration 8 × 512 c4 windows; SpinQuant: 8 Cayley steps of 8 × 128-token windows, RTN
# weights). One result file per cell in results/smollm2_rotation/; `--only PATTERN` runs the
# cells whose name contains PATTERN. Existing up-to-date results are kept (slmquant run resumes).
set -euo pipefail
cd "$(dirname "$0")/../.."
only="${2:-}"
[ "${1:-}" = "--only" ] || only=""
bin=${SLMQ_BIN:-build/slmquant}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

calib='calibration: {nsamples: 8, seqlen: 512}'
declare -A scheme=(
  [w8a8]='scheme: w8a8, weight: {granularity: per_channel}'
  [w4a8]='scheme: w4a8, weight: {granularity: per_channel}'
  [w4a8g32]='scheme: w4a8, weight: {group_size: 32}'
  [w4a16]='scheme: w4a16, weight: {granularity: per_channel}'
  [w4a4kv4]='scheme: w4a4, weight: {granularity: per_channel}, activation: {symmetric: false}, kv: {k_bits: 4, v_bits: 4, group_size: 64}'
)
declare -A method=(
  [rtn]='method: rtn'
  [smoothquant]="method: smoothquant, smoothquant: {alpha: 0.5}, $calib"
  [gptq]="method: gptq, $calib"
  [quarot]='method: quarot, quarot: {values: r2, weights: rtn}'
  [spinquant]="method: spinquant, spinquant: {weights: rtn, steps: 8, data: {nsamples: 64, seqlen: 128}}, $calib"
)
echo "== fp32" >&2
[ -z "$only" ] && nice -n 10 "$bin" run configs/smollm2_rotation/base.yaml --set name=fp32 \
  --set ppl.kl=false
for s in w4a4kv4 w4a8 w8a8 w4a16 w4a8g32; do
  for m in rtn smoothquant gptq quarot spinquant; do
    name="${s}_${m}"
    [ -n "$only" ] && [[ "$name" != *"$only"* ]] && continue
    # SmoothQuant smooths activations; without activation quantization it is RTN.
    [ "$m" = smoothquant ] && [ "$s" = w4a16 ] && continue
    # Rotation learning costs minutes per step here: only the two settings the literature ranks.
    [ "$m" = spinquant ] && [ "$s" != w4a4kv4 ] && [ "$s" != w4a8 ] && continue
    echo "== $name" >&2
    nice -n 10 "$bin" run configs/smollm2_rotation/base.yaml --set name="$name" \
      --set "quant={${method[$m]}, ${scheme[$s]}}" || echo "!! $name failed" >&2
  done
done
