#pragma once
// The real-integer CPU execution of a quantized linear: the packed codes of a FakeQuantLinear
// (the same tensors, not a copy, for signed 8-bit and all 4-bit codes) run through the kernels of
// slmq/kernels/cpu_qlinear.h. Few rows (decode) go through the integer GEMV kernels straight
// from the codes; many rows (prefill) through fp32 GEMMs over dequantized weight tiles of at most
// kTileBytes, so no layer ever holds its float weight. Kinds: "cpu_w8a16", "cpu_w4a16" (float
// activations), "cpu_w8a8", "cpu_w4a8" (int8 activations quantized per token or per tensor
// exactly as the fake-quant twin rounds them; their decode dot products are exact int32).
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>

#include "slmq/kernels/cpu_qlinear.h"
#include "slmq/model/linear_backend.h"
#include "slmq/quant/backends/int8_activation.h"
#include "slmq/quant/fake_quant_linear.h"

namespace slmq {

class CpuIntLinear final : public LinearBackend {
 public:
  // Why `fake` (computing in `compute_dtype`) has no CPU integer route, nullopt when it has one:
  // float32 compute on the CPU, 4- or 8-bit weights, groups a multiple of 32 dividing the width
  // (per-channel: the width), and no activation quantizer or a dynamic int8 one that
  // Int8ActivationQuantizer takes.
  static std::optional<std::string> unsupported_reason(const FakeQuantLinear& fake,
                                                       c10::ScalarType compute_dtype);
  // Shares the fake backend's code tensors where their layout is the kernels' (signed 8-bit,
  // 4-bit). Throws UnsupportedError with the reason above.
  CpuIntLinear(const FakeQuantLinear& fake, c10::ScalarType compute_dtype);

  // x [..., in] fp32 -> [..., out] fp32.
  at::Tensor forward(const at::Tensor& x) const override;
  // Up to kGemvMaxRows rows straight into the kernels (no tensors); more rows, or an output
  // quantizer, through forward().
  void forward_into(const float* x, int64_t rows, float* y) const override;
  int64_t in_features() const override { return view_.cols; }
  int64_t out_features() const override { return view_.rows; }
  // Codes, scales, zero points (when any is non-zero), bias and the positions of codes of -128
  // stored as -127 (W8A8), as the kernels read them.
  std::vector<at::Tensor> stored_tensors() const override;
  int64_t parameters() const override;
  std::string kind() const override { return kind_; }
  // Rows dequantized by the kernels (bit-identical to the fake-quant twin's), fp32.
  at::Tensor weight_rows(const at::Tensor& ids) const override;
  void weight_row_into(int64_t row, float* out) const override;

  // Rows at or below this go through the GEMV kernels; above, through dequantized tiles.
  static constexpr int64_t kGemvMaxRows = 8;
  static constexpr int64_t kTileBytes = int64_t{1} << 21;

 private:
  at::Tensor forward_rows(const at::Tensor& x2d) const;     // [M, in] -> [M, out]
  void gemv(const float* x, int64_t rows, float* y) const;  // rows <= kGemvMaxRows
  at::Tensor tiled_gemm(const at::Tensor& x2d) const;

  // With int8 activations, 8-bit codes of -128 are stored as -127 (a copy of the codes) and
  // listed here by row, so the kernel can use pmaddubsw (kernels/cpu_qlinear.h).
  void store_codes_within_127();

  at::Tensor codes_, scales_, zeros_, bias_;
  at::Tensor fix_row_start_, fix_cols_;  // int32 CSR, or undefined
  kernels::QuantWeightView view_;
  std::optional<Int8ActivationQuantizer> activation_;
  std::optional<QuantSpec> output_;
  std::string kind_;
};

}  // namespace slmq
