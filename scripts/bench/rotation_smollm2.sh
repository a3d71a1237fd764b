#!/usr/bin/env bash
# QuaRot and SpinQuant next to RTN, SmoothQuant and GPTQ on SmolLM2-135M at W8A8, W4A8 (per
# channel and g32), W4A16 and W4A4KV4, on the reduced slice of configs/smollm2_rotation/base.yaml
# (calibration 8 × 512 c4 windows; SpinQuant: 4 Cayley steps of 4 × 64-token windows, RTN
# weights). One result file per cell in results/smollm2_rotation/; `--only PATTERN` runs the
# cells whose name contains PATTERN. Existing up-to-date results are kept (slmquant run resumes).
set -euo pipefail
cd "$(dirname "$0")/../.."
only="${2:-}"
[ "${1:-}" = "--only" ] || only=""
bin=${SLMQ_BIN:-build/slmquant}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

calib='calibration: {nsamples: 8, seqlen: 512}'
# c4 random documents with seed 0 draw a document of exactly 512 tokens, where GPTQ's get_c4 fails.
calib1='calibration: {nsamples: 8, seqlen: 512, seed: 1}'
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
  [gptq]="method: gptq, $calib1"
  [quarot]='method: quarot, quarot: {values: r2, weights: rtn}'
  [spinquant]="method: spinquant, spinquant: {weights: rtn, steps: 4, batch_size: 4, data: {nsamples: 16, seqlen: 64, seed: 1}}, $calib1"
)
echo "== fp32" >&2
[ -z "$only" ] && nice -n 10 "$bin" run configs/smollm2_rotation/base.yaml --set name=fp32 \
  --set ppl.kl=false
cells="${CELLS:-w4a8_rtn w4a8_quarot w4a4kv4_rtn w4a4kv4_quarot w4a8_spinquant w4a4kv4_spinquant
  w4a8_gptq w4a4kv4_gptq w4a8_smoothquant w4a4kv4_smoothquant w8a8_rtn w8a8_quarot w8a8_smoothquant
  w8a8_gptq w4a16_rtn w4a16_quarot w4a16_gptq w4a8g32_rtn w4a8g32_quarot w4a8g32_gptq
  w4a8g32_smoothquant w8a8_spinquant w4a16_spinquant w4a8g32_spinquant}"
for cell in $cells; do
  s="${cell%_*}"
  m="${cell##*_}"
  {
    name="${s}_${m}"
    [ -n "$only" ] && [[ "$name" != *"$only"* ]] && continue
    # SmoothQuant smooths activations; without activation quantization it is RTN.
    [ "$m" = smoothquant ] && [ "$s" = w4a16 ] && continue
    echo "== $name" >&2
    nice -n 10 "$bin" run configs/smollm2_rotation/base.yaml --set name="$name" \
      --set "quant={${method[$m]}, ${scheme[$s]}}" || echo "!! $name failed" >&2
  }
done
