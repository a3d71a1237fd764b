#include "slmq/calib/layer_capture.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <set>

#include "slmq/core/error.h"
#include "slmq/core/fault_injection.h"
#include "slmq/core/timing.h"
#include "slmq/model/model.h"

namespace slmq {
namespace {

// Thrown once every watched linear of a chunk has shown its input, when the layer's outputs are
// discarded: the rest of that forward (for GPTQ's q/k/v group, all but the input norm) is waste.
struct WatchedInputsSeen {};

}  // namespace

LayerwiseCapture::LayerwiseCapture(Model& model, const CalibrationWindows& windows,
                                   CaptureOptions options)
    : model_(model), options_(options), num_layers_(model.num_layers()) {
  if (windows.size() == 0) throw InternalError("LayerwiseCapture: no calibration windows");
  if (options_.batch_size < 1) throw InternalError("LayerwiseCapture: batch_size < 1");
  c10::InferenceMode guard;
  const auto start = SteadyClock::now();
  const at::Tensor ids = windows.ids.to(model.device());
  std::vector<at::Tensor> chunks;
  for (int64_t b = 0; b < ids.size(0); b += options_.batch_size)
    chunks.push_back(model.embed(ids.narrow(0, b, std::min(options_.batch_size, ids.size(0) - b))));
  inputs_ = at::cat(chunks, 0);
  if (windows.mask.defined()) mask_ = windows.mask.to(model.device());
  forward_seconds_ += seconds_since(start);
  progress_ = std::make_unique<ProgressReporter>("quantize: " + std::to_string(windows.size()) +
                                                 " calibration windows through");
  progress_->update(0, static_cast<size_t>(num_layers_), "layers");
}

DecoderLayer& LayerwiseCapture::layer() {
  if (done()) throw InternalError("LayerwiseCapture: every layer has been visited");
  return model_.layer(index_);
}

void LayerwiseCapture::forward_all(const LinearInputHook* hook,
                                   const std::vector<std::string>& watch, at::Tensor* out) {
  c10::InferenceMode guard;
  const auto start = SteadyClock::now();
  DecoderLayer& current = layer();
  const int64_t n = inputs_.size(0), steps = inputs_.size(1);
  std::vector<std::string> wanted = watch;
  if (wanted.empty())
    for (const auto& [name, slot] : current.linears()) wanted.push_back(name);
  std::set<std::string> seen;
  const bool stop_early = hook != nullptr && out == nullptr;
  const LinearInputHook counting = [&](const std::string& name, const at::Tensor& x,
                                       const at::Tensor& token_mask) {
    (*hook)(name, x, token_mask);
    if (stop_early && seen.insert(name).second && seen.size() == wanted.size())
      throw WatchedInputsSeen{};
  };
  std::optional<LayerHooks> hooks;  // after `counting`, which it points to
  if (hook != nullptr) hooks.emplace(current, watch, &counting, &chunk_mask_);
  auto ones = at::ones({std::min(options_.batch_size, n), steps},
                       at::TensorOptions().dtype(at::kLong).device(model_.device()));
  for (int64_t b = 0; b < n; b += options_.batch_size) {
    const int64_t size = std::min(options_.batch_size, n - b);
    chunk_mask_ = mask_.defined() ? mask_.narrow(0, b, size) : at::Tensor();
    const at::Tensor ctx_mask = mask_.defined() ? chunk_mask_ : ones.narrow(0, 0, size);
    const AttentionContext ctx = model_.attention_context(ctx_mask);
    seen.clear();
    try {
      at::Tensor y = current.forward(inputs_.narrow(0, b, size), ctx);
      if (out != nullptr) out->narrow(0, b, size).copy_(y);
    } catch (const WatchedInputsSeen&) {
    }
  }
  chunk_mask_ = at::Tensor();
  forward_seconds_ += seconds_since(start);
}

void LayerwiseCapture::run(const LinearInputHook& hook, const std::vector<std::string>& watch) {
  if (!ran_ && !options_.propagate_quantized) {
    kept_outputs_ = at::empty_like(inputs_);
    forward_all(&hook, watch, &kept_outputs_);
  } else {
    forward_all(&hook, watch, nullptr);
  }
  ran_ = true;
}

at::Tensor LayerwiseCapture::outputs() {
  at::Tensor out = at::empty_like(inputs_);
  forward_all(nullptr, {}, &out);
  return out;
}

void LayerwiseCapture::advance() {
  layer();  // throws past the last layer
  if (options_.propagate_quantized || !kept_outputs_.defined()) {
    // Each chunk's outputs depend only on its own rows, so they overwrite the inputs in place:
    // one [N,T,C] buffer for the whole capture.
    forward_all(nullptr, {}, &inputs_);
  } else {
    inputs_ = std::move(kept_outputs_);
  }
  kept_outputs_ = at::Tensor();
  ran_ = false;
  ++index_;
  progress_->update(static_cast<size_t>(index_), static_cast<size_t>(num_layers_), "layers");
  if (index_ == 1) fault_point("quantize");
  if (done()) progress_->finish();
}

}  // namespace slmq
