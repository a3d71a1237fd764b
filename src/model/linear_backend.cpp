#include "slmq/model/linear_backend.h"

#include <ATen/ATen.h>

#include <cstring>

#include "slmq/core/error.h"
#include "slmq/kernels/cpu_dense.h"
#include "slmq/model/torch_parallel.h"

// Fortran BLAS entry points, exported by the BLAS torch links (MKL in the x86 wheels; OpenBLAS
// elsewhere). Weak: where torch exports none, DenseLinear::forward_into falls back to forward().
extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc) __attribute__((weak));
}

namespace slmq {

DenseLinear::DenseLinear(at::Tensor weight, at::Tensor bias)
    : weight_(std::move(weight)), bias_(std::move(bias)) {
  if (weight_.dim() != 2) throw InternalError("DenseLinear weight must be 2-D");
  if (bias_.defined() && (bias_.dim() != 1 || bias_.size(0) != weight_.size(0))) {
    throw InternalError("DenseLinear bias must be [out_features]");
  }
}

at::Tensor DenseLinear::forward(const at::Tensor& x) const { return at::linear(x, weight_, bias_); }

void LinearBackend::forward_into(const float* x, int64_t rows, float* y) const {
  at::Tensor in = at::from_blob(const_cast<float*>(x), {rows, in_features()}, at::kFloat);
  at::Tensor out = forward(in).contiguous();
  std::memcpy(y, out.data_ptr<float>(), static_cast<size_t>(rows * out_features()) * sizeof(float));
}

at::Tensor LinearBackend::weight_rows(const at::Tensor&) const {
  throw UnsupportedError("a '" + kind() + "' linear has no weight rows to look up");
}

void LinearBackend::weight_row_into(int64_t row, float* out) const {
  at::Tensor ids = at::full({1}, row, at::TensorOptions().dtype(at::kLong));
  at::Tensor r = weight_rows(ids).to(at::kCPU, at::kFloat).contiguous();
  std::memcpy(out, r.data_ptr<float>(), static_cast<size_t>(in_features()) * sizeof(float));
}

at::Tensor DenseLinear::weight_rows(const at::Tensor& ids) const {
  return at::embedding(weight_, ids.to(weight_.device()));
}

void DenseLinear::forward_into(const float* x, int64_t rows, float* y) const {
  const bool plain =
      weight_.scalar_type() == at::kFloat && weight_.device().is_cpu() && weight_.is_contiguous() &&
      (!bias_.defined() || (bias_.scalar_type() == at::kFloat && bias_.is_contiguous()));
  // Decode sizes: our streaming kernel (kernels/cpu_dense.h says why not MKL's sgemv).
  if (plain && rows <= kGemvMaxRows) {
    kernels::gemv_f32(weight_.data_ptr<float>(), weight_.size(0), weight_.size(1), x, rows,
                      bias_.defined() ? bias_.data_ptr<float>() : nullptr, y, torch_parallel_for());
    return;
  }
  const bool blas = plain && sgemm_ != nullptr;
  if (!blas) return LinearBackend::forward_into(x, rows, y);
  // Row-major W [out, in] is the column-major matrix Wᵀ with leading dimension in; y = W·x per
  // row is Wᵀᵀ·x, i.e. the transposed product in BLAS terms.
  const int out = static_cast<int>(weight_.size(0)), in = static_cast<int>(weight_.size(1));
  const int n = static_cast<int>(rows);
  const float alpha = 1.0f, beta = 0.0f;
  const float* w = weight_.data_ptr<float>();
  sgemm_("T", "N", &out, &n, &in, &alpha, w, &in, x, &in, &beta, y, &out);
  if (bias_.defined()) {
    const float* b = bias_.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out; ++o) y[r * out + o] += b[o];
  }
}

int64_t LinearBackend::bytes() const {
  int64_t total = 0;
  for (const auto& t : stored_tensors()) total += static_cast<int64_t>(t.nbytes());
  return total;
}

std::vector<at::Tensor> DenseLinear::stored_tensors() const {
  if (bias_.defined()) return {weight_, bias_};
  return {weight_};
}

int64_t DenseLinear::parameters() const {
  return weight_.numel() + (bias_.defined() ? bias_.numel() : 0);
}

}  // namespace slmq
