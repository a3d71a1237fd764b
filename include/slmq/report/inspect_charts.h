#pragma once
// Charts of `slmquant inspect` results (calib/model_inspect.h's JSON), in the report's SVG style:
// heatmaps of per-channel abs-max by layer (one per linear input, log10 colour scale) and
// per-layer outlier plots (max / median channel abs-max of each linear's input and weight
// kurtosis, one line per linear, log y axis), for one snapshot or before / after a transform.
#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace slmq::report {

// File name ("heatmap_activation_self_attn.q_proj_before.svg") -> SVG document. `after` may be
// null. Throws InternalError when a snapshot lacks the "linears" list.
std::map<std::string, std::string> inspect_svgs(const nlohmann::json& before,
                                                const nlohmann::json* after);

// One self-contained HTML page: a summary table per snapshot and every chart inline.
std::string inspect_html(const nlohmann::json& before, const nlohmann::json* after,
                         const std::string& title);

}  // namespace slmq::report
