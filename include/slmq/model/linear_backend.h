#pragma once
// Every Linear of a model goes through this interface so that quantized backends (fake-quant,
// int8, int4 kernels) can replace the dense one without the model knowing.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slmq {

class LinearBackend {
 public:
  virtual ~LinearBackend() = default;
  // x: [..., in_features] in the model's compute dtype -> [..., out_features], same dtype.
  virtual at::Tensor forward(const at::Tensor& x) const = 0;
  // The same on raw float32 CPU rows for the tensor-free decode loop: x [rows, in] contiguous
  // -> y [rows, out] contiguous (y must not alias x). Only for float32 models on the CPU. The
  // default wraps the pointers in tensors and calls forward(); backends override it to skip that.
  virtual void forward_into(const float* x, int64_t rows, float* y) const;
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;
  // The tensors it holds in memory: weights, scales, zero points, bias.
  virtual std::vector<at::Tensor> stored_tensors() const = 0;
  // True storage in bytes: the sum over stored_tensors().
  int64_t bytes() const;
  // Parameters of the layer it implements (weights and bias), whatever their storage.
  virtual int64_t parameters() const = 0;
  // Multiply-accumulates for `tokens` input rows.
  virtual int64_t macs(int64_t tokens) const { return tokens * in_features() * out_features(); }
  // Short name of the backend, e.g. "dense".
  virtual std::string kind() const = 0;

  // Rows of the weight W [out, in] picked by `ids` (int64, any shape [...], each in [0, out)):
  // [..., in] in the compute dtype, as the matmul sees them (dequantized for integer backends).
  // What lets a (quantized) table serve as an embedding, as llama.cpp's quantized token_embd
  // does; no bias. Throws UnsupportedError for backends without stored weight rows.
  virtual at::Tensor weight_rows(const at::Tensor& ids) const;
  // Row `row` of W as float32 into out [in] (the tensor-free decode loop). The default goes
  // through weight_rows().
  virtual void weight_row_into(int64_t row, float* out) const;
};

// y = x W^T + b in the compute dtype, as torch.nn.Linear.
class DenseLinear final : public LinearBackend {
 public:
  // weight [out, in]; bias [out] or undefined. Both already in the compute dtype and device.
  DenseLinear(at::Tensor weight, at::Tensor bias);
  at::Tensor forward(const at::Tensor& x) const override;
  // Up to kGemvMaxRows rows: kernels::gemv_f32 on the float32 weight; more: a BLAS sgemm when
  // the BLAS torch links exports one; else (other dtypes) the default.
  void forward_into(const float* x, int64_t rows, float* y) const override;
  static constexpr int64_t kGemvMaxRows = 8;
  int64_t in_features() const override { return weight_.size(1); }
  int64_t out_features() const override { return weight_.size(0); }
  std::vector<at::Tensor> stored_tensors() const override;
  int64_t parameters() const override;
  std::string kind() const override { return "dense"; }
  at::Tensor weight_rows(const at::Tensor& ids) const override;

  const at::Tensor& weight() const { return weight_; }
  const at::Tensor& bias() const { return bias_; }

 private:
  at::Tensor weight_;
  at::Tensor bias_;
};

}  // namespace slmq
