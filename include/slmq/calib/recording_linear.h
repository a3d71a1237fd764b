#pragma once
// A temporary LinearBackend wrapper that shows a linear's input to a callback and then forwards
// to the wrapped backend: the hook mechanism of block-by-block calibration (the counterpart of
// torch forward hooks in the references).
#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "slmq/model/decoder_layer.h"
#include "slmq/model/linear_backend.h"

namespace slmq {

// name: the linear's name inside its layer ("self_attn.q_proj"); x: its input [B,T,in] in the
// compute dtype; token_mask: [B,T] int64 (1 = token, 0 = padding) or undefined for all tokens.
using LinearInputHook =
    std::function<void(const std::string& name, const at::Tensor& x, const at::Tensor& token_mask)>;

class RecordingLinear final : public LinearBackend {
 public:
  RecordingLinear(std::unique_ptr<LinearBackend> inner, std::string name,
                  const LinearInputHook* hook, const at::Tensor* token_mask);
  at::Tensor forward(const at::Tensor& x) const override;
  int64_t in_features() const override { return inner_->in_features(); }
  int64_t out_features() const override { return inner_->out_features(); }
  std::vector<at::Tensor> stored_tensors() const override { return inner_->stored_tensors(); }
  int64_t parameters() const override { return inner_->parameters(); }
  std::string kind() const override { return inner_->kind(); }
  std::unique_ptr<LinearBackend> release() { return std::move(inner_); }

 private:
  std::unique_ptr<LinearBackend> inner_;
  std::string name_;
  const LinearInputHook* hook_;
  const at::Tensor* token_mask_;
};

// Wraps the linears of `layer` named in `watch` (relative names; empty = all) for its lifetime
// and puts the original backends back on destruction, also when an exception unwinds.
class LayerHooks {
 public:
  LayerHooks(DecoderLayer& layer, const std::vector<std::string>& watch,
             const LinearInputHook* hook, const at::Tensor* token_mask);
  ~LayerHooks();
  LayerHooks(const LayerHooks&) = delete;
  LayerHooks& operator=(const LayerHooks&) = delete;

 private:
  void restore();
  std::vector<std::unique_ptr<LinearBackend>*> slots_;
};

}  // namespace slmq
