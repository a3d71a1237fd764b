#include "slmq/quant/gptq.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "slmq/core/error.h"

namespace slmq {
namespace {

// Per-row parameters of a column slice [rows, n] -> [rows, 1].
QuantParams slice_params(const at::Tensor& slice, const QuantSpec& s) {
  return qparams_from_range(std::get<0>(slice.min(1, true)), std::get<0>(slice.max(1, true)), s,
                            QuantRole::kWeight);
}

// U with H⁻¹ = UᵀU from the damped Hessian; raises the damping ×10 while a Cholesky fails.
at::Tensor inverse_cholesky(const at::Tensor& h, const GptqOptions& o, GptqResult& result) {
  double percdamp = o.percdamp;
  for (int attempt = 0; attempt <= o.max_damp_retries; ++attempt, percdamp *= 10) {
    at::Tensor damped = h.clone();
    at::Tensor damp = damped.diagonal().mean() * percdamp;
    damped.diagonal().add_(damp);
    auto [lower, info] = at::linalg_cholesky_ex(damped);
    if (info.item<int64_t>() == 0) {
      auto [upper, info2] = at::linalg_cholesky_ex(at::cholesky_inverse(lower), /*upper=*/true);
      if (info2.item<int64_t>() == 0) {
        result.percdamp_used = percdamp;
        result.cholesky_retries = attempt;
        return upper;
      }
    }
  }
  throw UnsupportedError(
      fmt::format("gptq: the Hessian is not positive definite even with damping {} of its mean "
                  "diagonal",
                  percdamp / 10));
}

QuantParams on_cpu(const QuantParams& p) {
  return {p.scale.to(at::kCPU).contiguous(), p.zero.to(at::kCPU).contiguous()};
}

// Where a quantized column goes: column `col` of the CPU matrices codes and deq.
struct ColumnOut {
  at::Tensor& codes;
  at::Tensor& deq;
  int64_t col;
};

// Column i of the block w1 [rows, count]: quantize it, record (w − q)/U[i,i] in err, and spread
// that error over the block's later columns, w1[:, j] -= e · U[i, j]: as the original's tensor
// ops round (one quotient, one product, one difference each; the build does not contract into
// fused multiply-adds), in one pass instead of a dozen tensor ops per column.
void quantize_column(at::Tensor& w1, const at::Tensor& u1, int64_t i, const QuantParams& params,
                     const ScalarQuantizer& quantizer, ColumnOut out, at::Tensor& err) {
  const int64_t rows = w1.size(0), count = w1.size(1), cols = out.codes.size(1);
  float* w = w1.data_ptr<float>();
  float* e = err.data_ptr<float>();
  float* codes = out.codes.data_ptr<float>();
  float* deq = out.deq.data_ptr<float>();
  const float* scale = params.scale.data_ptr<float>();
  const float* zero = params.zero.data_ptr<float>();
  const float* __restrict u = u1.data_ptr<float>() + i * count;  // never aliases w1
  const float d = u[i];
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict row = w + r * count;
    const float q = quantizer.quantize(row[i], scale[r], zero[r]);
    const float qd = ScalarQuantizer::dequantize(q, scale[r], zero[r]);
    codes[r * cols + out.col] = q;
    deq[r * cols + out.col] = qd;
    const float er = (row[i] - qd) / d;
    e[r * count + i] = er;
    for (int64_t j = i + 1; j < count; ++j) row[j] -= er * u[j];
  }
}

void check_supported(const QuantSpec& s, const GptqOptions& o, int64_t cols) {
  if (s.granularity == Granularity::kPerTensor) {
    throw UnsupportedError(
        "gptq: per_tensor weights are not supported; use per_channel or per_group");
  }
  const bool grouped = s.granularity == Granularity::kPerGroup;
  if (grouped && o.act_order && !o.static_groups) {
    throw UnsupportedError(
        "gptq: act-order with dynamic groups needs a g_idx, which slmquant does not store; "
        "use static_groups");
  }
  if (grouped && cols % s.group_size != 0 && !allows_ragged_groups(s, QuantRole::kWeight)) {
    throw UnsupportedError(
        fmt::format("gptq: group size {} does not divide {} columns, which the {} flavour requires",
                    s.group_size, cols, to_string(s.flavour)));
  }
}

}  // namespace

GptqResult gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian, const QuantSpec& s,
                         const GptqOptions& o) {
  validate(s, QuantRole::kWeight, "weight");
  c10::InferenceMode guard;
  at::Tensor w = weight.to(at::kFloat).clone();
  const int64_t cols = w.size(1);
  check_supported(s, o, cols);
  const bool grouped = s.granularity == Granularity::kPerGroup;
  const int64_t g = grouped ? s.group_size : cols, n_groups = (cols + g - 1) / g;

  QuantParams current;
  if (!grouped) current = slice_params(w, s);  // from the weight before dead columns are zeroed
  at::Tensor h = hessian.to(at::kFloat).clone();
  at::Tensor dead = h.diagonal() == 0;
  h.diagonal().masked_fill_(dead, 1);
  w.masked_fill_(dead.unsqueeze(0), 0);

  std::vector<QuantParams> groups(grouped ? n_groups : 0);
  if (grouped && o.static_groups) {
    for (int64_t k = 0; k < n_groups; ++k)
      groups[k] = slice_params(w.narrow(1, k * g, std::min(g, cols - k * g)), s);
  }
  at::Tensor perm;
  std::vector<int64_t> order;  // the original column of each permuted one (act-order)
  if (o.act_order) {
    perm = at::argsort(h.diagonal(), /*dim=*/-1, /*descending=*/true);
    w = w.index_select(1, perm);
    h = h.index_select(0, perm).index_select(1, perm);
    const at::Tensor p = perm.to(at::kCPU);
    order.assign(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + cols);
  }
  GptqResult result;
  const at::Tensor u = inverse_cholesky(h, o, result);

  // The column loop runs on the CPU whatever the device: it is thousands of rank-1 updates of a
  // [rows, block] slice, for which a dozen tensor ops per column (BLAS outer products, tiny
  // kernels or launches) cost twice the time on one CPU thread and far more with threads or on a
  // GPU. The lazy update of the later columns stays a matmul on w's device.
  const at::Tensor u_cpu = u.to(at::kCPU);
  std::vector<QuantParams> groups_cpu;
  for (const auto& p : groups) groups_cpu.push_back(p.scale.defined() ? on_cpu(p) : p);
  if (!grouped) current = on_cpu(current);
  const ScalarQuantizer quantizer(s);
  at::Tensor codes = at::zeros(w.sizes(), u_cpu.options()), deq = at::zeros_like(codes);
  for (int64_t i1 = 0; i1 < cols; i1 += o.block_size) {
    const int64_t i2 = std::min(i1 + o.block_size, cols), count = i2 - i1;
    at::Tensor w1 = w.narrow(1, i1, count).to(at::kCPU).clone(at::MemoryFormat::Contiguous);
    at::Tensor err = at::zeros_like(w1);
    const at::Tensor u1 = u_cpu.narrow(0, i1, count).narrow(1, i1, count).contiguous();
    for (int64_t i = 0; i < count; ++i) {
      const int64_t col = i1 + i;
      if (grouped && !o.static_groups && col % g == 0) {
        // From `w`, which the current block's updates have not reached yet (as the original).
        groups[col / g] = slice_params(w.narrow(1, col, std::min(g, cols - col)), s);
        current = groups_cpu[col / g] = on_cpu(groups[col / g]);
      } else if (grouped && o.static_groups) {
        current = groups_cpu[(o.act_order ? order[col] : col) / g];
      }
      quantize_column(w1, u1, i, current, quantizer, {codes, deq, col}, err);
    }
    if (i2 < cols) {
      w.narrow(1, i2, cols - i2)
          .sub_(err.to(w.device()).matmul(u.narrow(0, i1, count).narrow(1, i2, cols - i2)));
    }
  }
  codes = codes.to(w.device());
  deq = deq.to(w.device());
  if (o.act_order) {
    at::Tensor inverse = at::argsort(perm);
    codes = codes.index_select(1, inverse);
    deq = deq.index_select(1, inverse);
  }
  QuantizedWeight& qw = result.weight;
  qw.codes = codes.to(code_range(s).min < 0 ? at::kChar : at::kByte);
  if (grouped) {
    std::vector<at::Tensor> scales, zeros;
    for (const auto& p : groups) {
      scales.push_back(p.scale);
      zeros.push_back(p.zero);
    }
    qw.scales = at::cat(scales, 1);
    qw.zeros = at::cat(zeros, 1).to(at::kInt);
  } else {
    qw.scales = current.scale.to(w.device()).contiguous();
    qw.zeros = current.zero.to(w.device()).to(at::kInt);
  }
  qw.spec = s;
  qw.in_features = cols;
  result.dequantized = deq;
  return result;
}

}  // namespace slmq
