#pragma once
// Online Hadamard transforms of QuaRot and SpinQuant on a linear's input, where a rotation cannot
// be folded into a weight: R4 on down_proj's input and QuaRot's cross-head Hadamard on o_proj's
// input. (R3 on queries and keys is part of the KV-quantization AttentionTransform, kv_quant.h.)
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "slmq/model/linear_backend.h"

#include "slmq/quant/rotation/hadamard.h"

namespace slmq {

// Wraps a linear so that its input is transformed first: kFull applies the Hadamard of the
// whole input width (R4, matmul_hadU_cuda), kAcrossHeads views the input [..., H·D] as
// [..., H, D] and transforms each of the D columns across the H heads (QuaRot's
// online_partial_had). The transform runs in fp32 when `fp32` (QuaRot/LLMC fp32_had) and in the
// compute dtype otherwise (SpinQuant's default), then the wrapped linear (and its activation
// quantizer, which therefore sees the rotated input) runs.
class OnlineHadamardLinear final : public LinearBackend {
 public:
  enum class Mode { kFull, kAcrossHeads };
  // `heads`: H for kAcrossHeads (in_features must be H·D), ignored for kFull. Throws
  // UnsupportedError when the size has no Hadamard transform.
  OnlineHadamardLinear(std::unique_ptr<LinearBackend> inner, Mode mode, int64_t heads, bool fp32);

  at::Tensor forward(const at::Tensor& x) const override;
  // x [..., in] -> the transformed input the wrapped linear sees, same dtype.
  at::Tensor transform_input(const at::Tensor& x) const;
  int64_t in_features() const override { return inner_->in_features(); }
  int64_t out_features() const override { return inner_->out_features(); }
  std::vector<at::Tensor> stored_tensors() const override { return inner_->stored_tensors(); }
  int64_t parameters() const override { return inner_->parameters(); }
  // Multiply-adds of the butterflies and the K×K product are counted: n·(log2 m + K) per token.
  int64_t macs(int64_t tokens) const override;
  std::string kind() const override { return "hadamard+" + inner_->kind(); }

  const LinearBackend& inner() const { return *inner_; }
  std::unique_ptr<LinearBackend>& inner_slot() { return inner_; }
  Mode mode() const { return mode_; }
  int64_t heads() const { return heads_; }
  bool fp32() const { return fp32_; }
  nlohmann::json describe() const;

 private:
  std::unique_ptr<LinearBackend> inner_;
  Mode mode_;
  int64_t heads_;
  bool fp32_;
  HadamardTransform transform_;
};

// The linear inside any online wrappers (the slot's own backend when there are none).
const LinearBackend& unwrap_online(const LinearBackend& linear);
std::unique_ptr<LinearBackend>& unwrap_online_slot(std::unique_ptr<LinearBackend>& slot);

}  // namespace slmq
