#pragma once
// The `quant:` block of a run, and the one way slmquant quantizes a model (`slmquant run` and
// `slmquant quantize` both call it): the method refuses up front when it cannot apply, draws its
// calibration windows with the run's tokenizer when it calibrates, quantizes in place, and the
// result file records what that did and cost.
#include <nlohmann/json.hpp>

#include "slmq/pipeline/run_model.h"
#include "slmq/quant/quant_method.h"
#include "slmq/quant/quant_spec.h"

namespace slmq {

// Quantizes run.model() with `config`. Throws UnsupportedError "<method>: <reason>" before any
// calibration work when the method cannot apply. Fills result["quant"] (method, w_bits, a_bits,
// granularity, group_size for per_group weights only, config, summary, calibration, details) and
// result["quant_cost"] (wall time, phase seconds, peak memory, device; reads
// result["environment"]["gpu"] when present) — the keys `slmquant report` reads
// (docs/result_schema.md). Returns the method's whole report (per-layer errors; calibration
// sampling is its first phase when the method calibrates).
QuantReport run_quant_block(RunModel& run, const QuantConfig& config, nlohmann::json& result);

}  // namespace slmq
