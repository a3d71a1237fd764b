#include "slmq/quant/methods/awq.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "slmq/calib/layer_capture.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/quant/scale_folding.h"

namespace slmq {
namespace {

// Captured inputs [N,T,C] keyed by the linear that reads them (the first linear of each fold
// group; q/k/v share q_proj's, gate/up share gate_proj's).
using Features = std::map<LinearRole, at::Tensor>;

enum class Inspect { kAttention, kMlp, kLinear };

// One auto_scale_block group: the architecture's fold group, the captured input its linears read
// and the module whose output the loss compares.
struct ScaleGroup {
  FoldGroup fold;
  LinearRole input;
  Inspect inspect;
};

// The windows split into the capture's chunks, each with its attention context.
struct Chunk {
  int64_t start, size;
  AttentionContext ctx;
};

// auto_scale_block's groups are the architecture's fold groups (v -> o only under MHA, llm-awq
// PR #67); a norm-led group inspects the branch it feeds, a linear-led one the scaled linear.
std::vector<ScaleGroup> scale_groups(const Model& model) {
  std::vector<ScaleGroup> groups;
  for (const FoldGroup& g : model.arch().structure(model.config()).folds) {
    Inspect inspect = Inspect::kLinear;
    if (g.norm == NormRole::kAttnIn) inspect = Inspect::kAttention;
    if (g.norm == NormRole::kMlpIn) inspect = Inspect::kMlp;
    groups.push_back({g, g.linears.front(), inspect});
  }
  return groups;
}

// The linear whose captured input a linear reads (its norm-led group's first).
LinearRole input_of(const std::vector<ScaleGroup>& groups, LinearRole role) {
  for (const auto& g : groups) {
    if (!g.fold.norm) continue;
    for (LinearRole r : g.fold.linears)
      if (r == role) return g.input;
  }
  return role;
}

// (linear, captured input) pairs of auto_clip_block: every linear but q and k.
std::vector<std::pair<LinearRole, LinearRole>> clipped_linears(
    const std::vector<ScaleGroup>& groups) {
  std::vector<std::pair<LinearRole, LinearRole>> out;
  for (LinearRole role : kAllLinearRoles) {
    if (role == LinearRole::kQ || role == LinearRole::kK) continue;
    out.emplace_back(role, input_of(groups, role));
  }
  return out;
}

// Every linear that reads its own captured input: the groups' inputs plus any linear outside a
// norm-led group (o_proj under GQA).
std::vector<LinearRole> captured_inputs(const std::vector<ScaleGroup>& groups) {
  std::vector<LinearRole> roles;
  for (LinearRole role : kAllLinearRoles) {
    const LinearRole src = input_of(groups, role);
    if (std::find(roles.begin(), roles.end(), src) == roles.end()) roles.push_back(src);
  }
  return roles;
}

Features capture_features(LayerwiseCapture& cap, const std::vector<LinearRole>& roles) {
  DecoderLayer& layer = cap.layer();
  std::map<std::string, std::vector<at::Tensor>> parts;
  const LinearInputHook hook = [&parts](const std::string& name, const at::Tensor& x,
                                        const at::Tensor&) { parts[name].push_back(x); };
  std::vector<std::string> names;
  for (LinearRole role : roles) names.push_back(layer.linear_name(role));
  cap.run(hook, names);
  Features features;
  for (LinearRole role : roles) features[role] = at::cat(parts.at(layer.linear_name(role)), 0);
  return features;
}

std::vector<Chunk> make_chunks(const Model& model, const at::Tensor& inputs, int64_t batch) {
  std::vector<Chunk> chunks;
  const int64_t n = inputs.size(0), steps = inputs.size(1);
  for (int64_t b = 0; b < n; b += batch) {
    const int64_t size = std::min(batch, n - b);
    at::Tensor ones = at::ones({size, steps}, inputs.options().dtype(at::kLong));
    chunks.push_back({b, size, model.attention_context(ones)});
  }
  return chunks;
}

at::Tensor run_block(DecoderLayer& layer, const ScaleGroup& g, const at::Tensor& x,
                     const AttentionContext& ctx) {
  switch (g.inspect) {
    case Inspect::kAttention:
      return layer.attention(x, ctx);
    case Inspect::kMlp:
      return layer.mlp(x);
    case Inspect::kLinear:
      break;
  }
  return layer.linear(g.fold.linears.front())->forward(x);
}

// _search_module_scale: the inspected module's outputs with the current weights are the target;
// the loss is the mean squared difference over every output element of every chunk.
AwqScaleSearch search_group(DecoderLayer& layer, const ScaleGroup& g, const at::Tensor& x,
                            const std::vector<Chunk>& chunks, const QuantSpec& spec,
                            int64_t n_grid) {
  std::vector<at::Tensor> target;
  double elements = 0;
  for (const Chunk& c : chunks) {
    target.push_back(run_block(layer, g, x.narrow(0, c.start, c.size), c.ctx).to(at::kFloat));
    elements += static_cast<double>(target.back().numel());
  }
  const at::Tensor x_mean = x.to(at::kFloat).abs().reshape({-1, x.size(-1)}).mean(0);
  std::vector<std::unique_ptr<LinearBackend>*> slots;
  for (LinearRole role : g.fold.linears) slots.push_back(&layer.linear(role));
  auto loss = [&] {
    double sum = 0;
    for (size_t i = 0; i < chunks.size(); ++i) {
      const Chunk& c = chunks[i];
      at::Tensor out = run_block(layer, g, x.narrow(0, c.start, c.size), c.ctx).to(at::kFloat);
      sum += (target[i] - out).pow(2).sum().item<double>();
    }
    return sum / elements;
  };
  return awq_search_scale(x_mean, slots, spec, n_grid, loss);
}

// apply_scale: fold s into the previous op and the group's linears, and divide the captured
// input by s so that the clip search sees what the scaled linears will.
void apply_group(DecoderLayer& layer, const ScaleGroup& g, const at::Tensor& s, Features& feats) {
  std::vector<std::unique_ptr<LinearBackend>*> slots;
  for (LinearRole role : g.fold.linears) slots.push_back(&layer.linear(role));
  if (g.fold.norm) {
    fold_scales_into_norm(layer, *g.fold.norm, slots, s);
  } else {
    fold_scales_between_linears(layer.linear(*g.fold.prev), *slots.front(), s);
  }
  at::Tensor& x = feats.at(g.input);
  x = x / s.view({1, -1}).to(x.scalar_type());
}

void scale_layer(DecoderLayer& layer, const std::vector<ScaleGroup>& groups, Features& feats,
                 const std::vector<Chunk>& chunks, const QuantConfig& config, AwqLayerResult& out) {
  // Every group is searched on the unscaled layer, then all are applied in order.
  for (const ScaleGroup& g : groups) {
    out.groups.push_back(
        {g.fold.name, search_group(layer, g, feats.at(g.input), chunks, config.scheme.weight,
                                   config.options<AwqOptions>().n_grid)});
  }
  for (size_t i = 0; i < groups.size(); ++i)
    apply_group(layer, groups[i], out.groups[i].search.scales, feats);
}

void clip_layer(DecoderLayer& layer, const std::vector<ScaleGroup>& groups, const Features& feats,
                const QuantConfig& config, AwqLayerResult& out) {
  for (const auto& [role, input] : clipped_linears(groups)) {
    const std::string& name = layer.linear_name(role);
    auto* slot = &layer.linear(role);
    const DenseLinear& fc = dense_linear(*slot, name);
    at::Tensor max_val = awq_search_clip(fc.weight(), feats.at(input), config.scheme.weight,
                                         config.options<AwqOptions>());
    *slot = std::make_unique<DenseLinear>(awq_apply_clip(fc.weight(), max_val), fc.bias());
    out.clips.emplace_back(name, std::move(max_val));
  }
}

}  // namespace

nlohmann::json AwqResult::summary() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& layer : layers) {
    nlohmann::json row = nlohmann::json::object();
    for (const auto& g : layer.groups) row[g.name] = g.search.best_index;
    rows.push_back(row);
  }
  return {{"ratio_index", rows}};
}

AwqResult awq_transform(Model& model, const QuantConfig& config, const CalibrationData& calib) {
  c10::InferenceMode guard;
  // The next layer's inputs come from the layer before scaling and clipping, as in run_awq.
  LayerwiseCapture cap(model, calib.windows, {calib.config.batch_size, false});
  AwqResult result;
  const std::vector<ScaleGroup> groups = scale_groups(model);
  const std::vector<LinearRole> inputs = captured_inputs(groups);
  for (; !cap.done(); cap.advance()) {
    Features feats = capture_features(cap, inputs);
    const auto chunks = make_chunks(model, cap.inputs(), calib.config.batch_size);
    AwqLayerResult layer_result;
    auto t0 = SteadyClock::now();
    if (config.options<AwqOptions>().scale)
      scale_layer(cap.layer(), groups, feats, chunks, config, layer_result);
    result.scale_search_seconds += seconds_since(t0);
    t0 = SteadyClock::now();
    if (config.options<AwqOptions>().clip)
      clip_layer(cap.layer(), groups, feats, config, layer_result);
    result.clip_search_seconds += seconds_since(t0);
    spdlog::info("awq: layer {}/{} searched ({:.1f} s scales, {:.1f} s clips so far)",
                 cap.layer_index() + 1, model.num_layers(), result.scale_search_seconds,
                 result.clip_search_seconds);
    result.layers.push_back(std::move(layer_result));
  }
  result.capture_seconds = cap.forward_seconds();
  return result;
}

std::optional<std::string> AwqMethod::unsupported_reason(const Model& model,
                                                         const QuantConfig& config) const noexcept {
  if (auto reason = common_unsupported_reason(model, config)) return reason;
  if (config.scheme.weight.granularity == Granularity::kPerTensor) {
    return std::string(
        "AWQ quantizes weights per output row or per group (llm-awq q_group_size); use "
        "per_channel or a group_size");
  }
  if (config.calibration.propagate_quantized) {
    return std::string(
        "AWQ feeds each layer the full-precision layer's outputs, as run_awq does; use calibration "
        "propagate: original");
  }
  if (config.calibration.sampling == CalibSampling::kTruncatedDocuments) {
    return std::string(
        "AWQ's block losses need windows without padding; use sampling packed_documents (the "
        "reference's), random_windows or random_documents");
  }
  return std::nullopt;
}

TransformThenQuantizeMethod::TransformRecord AwqMethod::transform(
    Model& model, const QuantConfig& config, const CalibrationData& calib) const {
  const AwqResult awq = awq_transform(model, config, calib);
  return {awq.summary(),
          {{"capture", awq.capture_seconds},
           {"scale_search", awq.scale_search_seconds},
           {"clip_search", awq.clip_search_seconds}}};
}

}  // namespace slmq
