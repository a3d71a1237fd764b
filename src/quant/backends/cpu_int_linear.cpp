#include "slmq/quant/backends/cpu_int_linear.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <bit>
#include <vector>

#include "slmq/core/error.h"
#include "slmq/model/torch_parallel.h"

namespace slmq {
namespace {

int64_t columns_per_group(const QuantSpec& spec, int64_t in) {
  return spec.granularity == Granularity::kPerGroup ? spec.group_size : in;
}

const float* data_or_null(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<float>() : nullptr;
}

}  // namespace

std::optional<std::string> CpuIntLinear::unsupported_reason(const FakeQuantLinear& fake,
                                                            c10::ScalarType compute_dtype) {
  const PackedWeight& w = fake.packed_weight();
  if (!w.data.device().is_cpu()) return std::string("weights not on the CPU");
  if (compute_dtype != at::kFloat)
    return fmt::format("compute dtype {} (kernels compute in float32)",
                       c10::toString(compute_dtype));
  if (w.spec.bits != 4 && w.spec.bits != 8)
    return fmt::format("{}-bit weights (kernels for 4 and 8 bits)", w.spec.bits);
  if (w.spec.bits == 8 && w.data.scalar_type() != at::kChar && w.data.scalar_type() != at::kByte)
    return std::string("8-bit codes neither int8 nor uint8");
  if (w.spec.bits == 4 && std::endian::native != std::endian::little)
    return std::string("4-bit codes on a big-endian machine");
  const int64_t group = columns_per_group(w.spec, w.in_features);
  if (group % 32 != 0 || w.in_features % group != 0)
    return fmt::format("group of {} columns over {} (needs a multiple of 32 dividing the width)",
                       group, w.in_features);
  if (fake.activation()) {
    if (!fake.activation()->dynamic) return std::string("static activation quantizer");
    if (auto r = Int8ActivationQuantizer::unsupported_reason(*fake.activation(), nullptr)) return r;
  }
  return std::nullopt;
}

CpuIntLinear::CpuIntLinear(const FakeQuantLinear& fake, c10::ScalarType compute_dtype) {
  if (auto reason = unsupported_reason(fake, compute_dtype))
    throw UnsupportedError("CPU integer linear: " + *reason);
  const PackedWeight& w = fake.packed_weight();
  const int64_t out = w.out_features, in = w.in_features;
  const int64_t group = columns_per_group(w.spec, in), groups = in / group;
  // Stored code = value the kernels read; the zero point moves by the same offset: 4-bit codes
  // are stored minus the range minimum, unsigned 8-bit ones are shifted into int8.
  int64_t offset = 0;
  if (w.spec.bits == 4) {
    codes_ = w.data.contiguous();
    offset = code_range(w.spec).min;
  } else if (w.data.scalar_type() == at::kByte) {
    codes_ = (w.data.to(at::kShort) - 128).to(at::kChar).contiguous();
    offset = 128;
  } else {
    codes_ = w.data.contiguous();
  }
  scales_ = w.scales.to(at::kFloat).expand({out, groups}).contiguous();
  // A symmetric spec's zero point is one constant (FakeQuantLinear keeps one element).
  at::Tensor zeros = w.zeros.to(at::kFloat) - static_cast<double>(offset);
  if (zeros.numel() == 1)
    view_.zero = zeros.item<float>();
  else
    zeros_ = zeros.expand({out, groups}).contiguous();
  bias_ = fake.bias();
  view_.bits = w.spec.bits;
  view_.rows = out;
  view_.cols = in;
  view_.group = group;
  view_.codes = codes_.data_ptr();
  view_.scales = scales_.data_ptr<float>();
  view_.zeros = data_or_null(zeros_);
  kernels::check_view(view_);
  if (fake.activation()) activation_.emplace(*fake.activation(), std::nullopt);
  if (activation_ && view_.bits == 8) store_codes_within_127();
  output_ = fake.output_quantizer();
  kind_ = fmt::format("cpu_w{}a{}", w.spec.bits, activation_ ? 8 : 16);
}

void CpuIntLinear::store_codes_within_127() {
  at::Tensor low = codes_.eq(-128);
  if (low.any().item<bool>()) {
    // The fake twin keeps its own codes: this copy replaces them once the twin is dropped.
    codes_ = codes_.masked_fill(low, -127).contiguous();
    at::Tensor where = low.nonzero();  // [nnz, 2] (row, col), row-major order
    at::Tensor counts = at::bincount(where.select(1, 0), {}, view_.rows);
    fix_row_start_ = at::cat({at::zeros({1}, at::kLong), counts.cumsum(0)}).to(at::kInt);
    fix_cols_ = where.select(1, 1).to(at::kInt).contiguous();
    view_.fix_row_start = fix_row_start_.data_ptr<int32_t>();
    view_.fix_cols = fix_cols_.data_ptr<int32_t>();
  }
  view_.codes = codes_.data_ptr();
  view_.codes_within_127 = true;
}

at::Tensor CpuIntLinear::forward(const at::Tensor& x) const {
  if (x.scalar_type() != at::kFloat || !x.device().is_cpu() || x.size(-1) != view_.cols)
    throw InternalError(
        fmt::format("{}: input must be float32 [..., {}] on the CPU", kind_, view_.cols));
  auto sizes = x.sizes().vec();
  at::Tensor y = forward_rows(x.reshape({-1, view_.cols}).contiguous());
  sizes.back() = view_.rows;
  y = y.view(sizes);
  return output_ ? fake_quantize_activation(y, *output_) : y;
}

at::Tensor CpuIntLinear::weight_rows(const at::Tensor& ids) const {
  const at::Tensor flat = ids.reshape({-1}).to(at::kCPU, at::kLong).contiguous();
  at::Tensor out = at::empty({flat.size(0), view_.cols}, at::kFloat);
  const int64_t* id = flat.data_ptr<int64_t>();
  for (int64_t i = 0; i < flat.size(0); ++i) weight_row_into(id[i], out[i].data_ptr<float>());
  auto sizes = ids.sizes().vec();
  sizes.push_back(view_.cols);
  return out.view(sizes);
}

void CpuIntLinear::weight_row_into(int64_t row, float* out) const {
  if (row < 0 || row >= view_.rows)
    throw InternalError(fmt::format("{}: row {} outside [0, {})", kind_, row, view_.rows));
  kernels::dequantize_rows(view_, row, row + 1, out);
}

at::Tensor CpuIntLinear::forward_rows(const at::Tensor& x) const {
  const int64_t m = x.size(0);
  if (m > kGemvMaxRows) {
    if (!activation_) return tiled_gemm(x);
    // (code − zero)·Δ in fp32, exactly the fake-quant twin's dequantized activation.
    auto q = activation_->quantize(x, view_.group);
    return tiled_gemm(q.codes.to(at::kFloat).mul_(q.scales.unsqueeze(1)));
  }
  at::Tensor y = at::empty({m, view_.rows}, x.options());
  gemv(x.data_ptr<float>(), m, y.data_ptr<float>());
  return y;
}

void CpuIntLinear::gemv(const float* x, int64_t rows, float* y) const {
  const float* bias = data_or_null(bias_);
  if (!activation_) {
    kernels::linear_f32(view_, x, rows, bias, y, torch_parallel_for());
    return;
  }
  // Per-thread scratch for the activation codes: no allocation per call.
  thread_local std::vector<int8_t> codes;
  thread_local std::vector<float> scales;
  thread_local std::vector<int32_t> sums;
  codes.resize(rows * view_.cols);
  scales.resize(rows);
  sums.resize(rows * (view_.cols / view_.group));
  activation_->quantize_into(x, rows, view_.cols, view_.group, codes.data(), scales.data(),
                             sums.data());
  kernels::linear_i8(view_, codes.data(), sums.data(), scales.data(), rows, bias, y,
                     torch_parallel_for());
}

void CpuIntLinear::forward_into(const float* x, int64_t rows, float* y) const {
  if (rows > kGemvMaxRows || output_) return LinearBackend::forward_into(x, rows, y);
  gemv(x, rows, y);
}

// y[:, tile] = x · tileᵀ for tiles of whole weight rows dequantized into one reused buffer.
at::Tensor CpuIntLinear::tiled_gemm(const at::Tensor& x) const {
  const int64_t rows_per_tile =
      std::max<int64_t>(8, kTileBytes / (view_.cols * static_cast<int64_t>(sizeof(float))));
  at::Tensor y = at::empty({x.size(0), view_.rows}, x.options());
  at::Tensor tile = at::empty({std::min(rows_per_tile, view_.rows), view_.cols}, x.options());
  for (int64_t r0 = 0; r0 < view_.rows; r0 += rows_per_tile) {
    const int64_t n = std::min(rows_per_tile, view_.rows - r0);
    kernels::dequantize_rows(view_, r0, r0 + n, tile.data_ptr<float>());
    at::Tensor out = y.narrow(1, r0, n);
    at::mm_out(out, x, tile.narrow(0, 0, n).t());
  }
  if (bias_.defined()) y.add_(bias_);
  return y;
}

std::vector<at::Tensor> CpuIntLinear::stored_tensors() const {
  std::vector<at::Tensor> out = {codes_, scales_};
  if (zeros_.defined()) out.push_back(zeros_);
  if (fix_row_start_.defined()) out.insert(out.end(), {fix_row_start_, fix_cols_});
  if (bias_.defined()) out.push_back(bias_);
  return out;
}

int64_t CpuIntLinear::parameters() const {
  return view_.rows * view_.cols + (bias_.defined() ? bias_.numel() : 0);
}

}  // namespace slmq
