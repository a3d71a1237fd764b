#include "slmq/calib/recording_linear.h"

#include <algorithm>

#include "slmq/core/error.h"

namespace slmq {

RecordingLinear::RecordingLinear(std::unique_ptr<LinearBackend> inner, std::string name,
                                 const LinearInputHook* hook, const at::Tensor* token_mask)
    : inner_(std::move(inner)), name_(std::move(name)), hook_(hook), token_mask_(token_mask) {}

at::Tensor RecordingLinear::forward(const at::Tensor& x) const {
  (*hook_)(name_, x, *token_mask_);
  return inner_->forward(x);
}

LayerHooks::LayerHooks(DecoderLayer& layer, const std::vector<std::string>& watch,
                       const LinearInputHook* hook, const at::Tensor* token_mask) {
  for (auto& [name, slot] : layer.linears()) {
    if (!watch.empty() && std::find(watch.begin(), watch.end(), name) == watch.end()) continue;
    *slot = std::make_unique<RecordingLinear>(std::move(*slot), name, hook, token_mask);
    slots_.push_back(slot);
  }
  if (!watch.empty() && slots_.size() != watch.size()) {
    restore();
    throw InternalError("LayerHooks: a watched linear is not in the layer");
  }
}

LayerHooks::~LayerHooks() { restore(); }

void LayerHooks::restore() {
  for (auto* slot : slots_) {
    if (auto* rec = dynamic_cast<RecordingLinear*>(slot->get())) *slot = rec->release();
  }
  slots_.clear();
}

}  // namespace slmq
