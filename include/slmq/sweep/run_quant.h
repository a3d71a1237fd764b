#pragma once
// The `quant:` block of a run: calibration when the method needs it, quantization in place, and
// what that did and cost in the result file.
#include <nlohmann/json.hpp>

#include <string>

#include "slmq/model/model.h"
#include "slmq/quant/quant_spec.h"

namespace slmq {

// Quantizes `model` (loaded from `model_path`, whose tokenizer draws the calibration windows) and
// fills result["quant"] (method, w_bits, a_bits, group_size, config, summary, calibration,
// details) and result["quant_cost"] (wall time, phase seconds, peak memory, device) — the keys
// `slmquant report` reads (docs/result_schema.md).
void run_quant_block(Model& model, const std::string& model_path, const QuantConfig& config,
                     nlohmann::json& result);

}  // namespace slmq
