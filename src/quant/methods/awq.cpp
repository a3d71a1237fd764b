#include "slmq/quant/methods/awq.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <spdlog/spdlog.h>

#include <map>

#include "slmq/calib/layer_capture.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/quant/scale_folding.h"

namespace slmq {
namespace {

// Captured inputs [N,T,C] keyed by the linear that reads them (q/k/v share q_proj's, gate/up
// share gate_proj's).
using Features = std::map<std::string, at::Tensor>;

enum class Inspect { kAttention, kMlp, kLinear };

// One auto_scale_block group: the op before (a norm or a linear), the scaled linears, the
// captured input they read and the module whose output the loss compares.
struct ScaleGroup {
  std::string name, prev, input;
  std::vector<std::string> linears;
  Inspect inspect;
};

// The windows split into the capture's chunks, each with its attention context.
struct Chunk {
  int64_t start, size;
  AttentionContext ctx;
};

std::unique_ptr<LinearBackend>* linear_slot(DecoderLayer& layer, const std::string& name) {
  for (auto& [n, slot] : layer.linears())
    if (n == name) return slot;
  throw InternalError("awq: no linear " + name + " in the layer");
}

std::vector<ScaleGroup> scale_groups(DecoderLayer& layer) {
  std::vector<ScaleGroup> groups = {{"attn_in",
                                     "input_layernorm",
                                     "self_attn.q_proj",
                                     {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"},
                                     Inspect::kAttention}};
  const auto& v = **linear_slot(layer, "self_attn.v_proj");
  const auto& o = **linear_slot(layer, "self_attn.o_proj");
  // llm-awq PR #67: only when v_proj and o_proj weights have the same shape (not under GQA).
  if (v.out_features() == o.out_features() && v.in_features() == o.in_features()) {
    groups.push_back({"attn_out",
                      "self_attn.v_proj",
                      "self_attn.o_proj",
                      {"self_attn.o_proj"},
                      Inspect::kLinear});
  }
  groups.push_back({"mlp_in",
                    "post_attention_layernorm",
                    "mlp.gate_proj",
                    {"mlp.gate_proj", "mlp.up_proj"},
                    Inspect::kMlp});
  groups.push_back(
      {"mlp_out", "mlp.up_proj", "mlp.down_proj", {"mlp.down_proj"}, Inspect::kLinear});
  return groups;
}

// (linear, captured input) pairs of auto_clip_block: every linear but q and k.
const std::vector<std::pair<std::string, std::string>>& clipped_linears() {
  static const std::vector<std::pair<std::string, std::string>> kClipped = {
      {"self_attn.v_proj", "self_attn.q_proj"},
      {"self_attn.o_proj", "self_attn.o_proj"},
      {"mlp.gate_proj", "mlp.gate_proj"},
      {"mlp.up_proj", "mlp.gate_proj"},
      {"mlp.down_proj", "mlp.down_proj"}};
  return kClipped;
}

Features capture_features(LayerwiseCapture& cap) {
  std::map<std::string, std::vector<at::Tensor>> parts;
  const LinearInputHook hook = [&parts](const std::string& name, const at::Tensor& x,
                                        const at::Tensor&) { parts[name].push_back(x); };
  cap.run(hook, {"self_attn.q_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.down_proj"});
  Features features;
  for (auto& [name, chunks] : parts) features[name] = at::cat(chunks, 0);
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
  return (*linear_slot(layer, g.linears.front()))->forward(x);
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
  for (const auto& name : g.linears) slots.push_back(linear_slot(layer, name));
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
  DecoderLayerWeights& w = layer.mutable_weights();
  std::vector<std::unique_ptr<LinearBackend>*> slots;
  for (const auto& name : g.linears) slots.push_back(linear_slot(layer, name));
  if (g.prev == "input_layernorm") {
    fold_scales_into_norm(w.input_norm, slots, s);
  } else if (g.prev == "post_attention_layernorm") {
    fold_scales_into_norm(w.post_attention_norm, slots, s);
  } else {
    fold_scales_between_linears(*linear_slot(layer, g.prev), *slots.front(), s);
  }
  at::Tensor& x = feats.at(g.input);
  x = x / s.view({1, -1}).to(x.scalar_type());
}

void scale_layer(DecoderLayer& layer, Features& feats, const std::vector<Chunk>& chunks,
                 const QuantConfig& config, AwqLayerResult& out) {
  const std::vector<ScaleGroup> groups = scale_groups(layer);
  // Every group is searched on the unscaled layer, then all are applied in order.
  for (const ScaleGroup& g : groups) {
    out.groups.push_back(
        {g.name, search_group(layer, g, feats.at(g.input), chunks, config.scheme.weight,
                              config.options<AwqOptions>().n_grid)});
  }
  for (size_t i = 0; i < groups.size(); ++i)
    apply_group(layer, groups[i], out.groups[i].search.scales, feats);
}

void clip_layer(DecoderLayer& layer, const Features& feats, const QuantConfig& config,
                AwqLayerResult& out) {
  for (const auto& [name, input] : clipped_linears()) {
    auto* slot = linear_slot(layer, name);
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
  for (; !cap.done(); cap.advance()) {
    Features feats = capture_features(cap);
    const auto chunks = make_chunks(model, cap.inputs(), calib.config.batch_size);
    AwqLayerResult layer_result;
    auto t0 = SteadyClock::now();
    if (config.options<AwqOptions>().scale)
      scale_layer(cap.layer(), feats, chunks, config, layer_result);
    result.scale_search_seconds += seconds_since(t0);
    t0 = SteadyClock::now();
    if (config.options<AwqOptions>().clip) clip_layer(cap.layer(), feats, config, layer_result);
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
