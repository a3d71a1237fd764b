#include "gguf_blocks.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <span>

#include "slmq/core/error.h"
#include "slmq/io/ggml_quantize.h"
#include "slmq/io/gguf_dequant.h"
#include "slmq/quant/quantizer.h"

namespace slmq::gguf_export {
namespace {

constexpr int64_t kBlock = io::kLegacyBlock;

at::Tensor rows_in_order(const at::Tensor& t, const std::vector<std::int64_t>& order) {
  if (order.empty()) return t;
  return t.index_select(0, at::tensor(order, at::kLong));
}

std::span<const float> span_of(const at::Tensor& t) {
  return {t.data_ptr<float>(), static_cast<size_t>(t.numel())};
}

// ||decoded − reference||_F / ||reference||_F with the file's own decoder (the oracle).
double relative_error(io::GgmlType type, const std::vector<std::uint8_t>& bytes,
                      const at::Tensor& reference) {
  const at::Tensor ref = reference.to(at::kFloat).contiguous();
  at::Tensor decoded = at::empty_like(ref);
  io::dequantize(type, bytes, {decoded.data_ptr<float>(), static_cast<size_t>(decoded.numel())});
  const double norm = ref.to(at::kDouble).norm().item<double>();
  const double diff = (decoded.to(at::kDouble) - ref.to(at::kDouble)).norm().item<double>();
  return norm > 0 ? diff / norm : diff;
}

int64_t columns_per_group(const PackedWeight& w) {
  return w.spec.granularity == Granularity::kPerGroup ? w.spec.group_size : w.in_features;
}

std::string nearest_exact(const PackedWeight& w) {
  return w.spec.bits <= 4 ? "4-bit with a group size that is a multiple of 32 dividing the width "
                            "(e.g. --group-size 32: Q4_1 asymmetric, Q4_0 symmetric)"
                          : "symmetric 8-bit with a group size that is a multiple of 32 (Q8_0), "
                            "or 4-bit group 32 (Q4_1)";
}

EncodedTensor encode_exact(const PackedWeight& w, io::GgmlType type,
                           const std::vector<std::int64_t>& order) {
  const QuantizedWeight q = unpack_weight(w);
  const at::Tensor codes = q.codes.to(at::kCPU).to(at::kInt).contiguous();
  const at::Tensor scales = q.scales.to(at::kCPU).to(at::kFloat).contiguous();
  const at::Tensor zeros = q.zeros.to(at::kCPU).to(at::kInt).expand(q.scales.sizes()).contiguous();
  const int64_t rows = w.out_features, cols = w.in_features, groups = scales.size(1);
  const int64_t cpg = columns_per_group(w);
  const int32_t min = static_cast<int32_t>(code_range(w.spec).min);
  const io::GgmlTypeTraits traits = io::ggml_traits(type);
  EncodedTensor out;
  out.type = type;
  out.shape = {rows, cols};
  out.mapping = "exact";
  out.bytes.resize(static_cast<size_t>(rows * cols / kBlock) * traits.type_size);
  const int32_t* c = codes.data_ptr<int32_t>();
  const float* s = scales.data_ptr<float>();
  const int32_t* z = zeros.data_ptr<int32_t>();
  std::uint8_t* dst = out.bytes.data();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t src = order.empty() ? r : order[static_cast<size_t>(r)];
    const int64_t param_row = scales.size(0) == 1 ? 0 : src;
    for (int64_t b = 0; b < cols / kBlock; ++b, dst += traits.type_size) {
      const int64_t g = std::min(b * kBlock / cpg, groups - 1);
      const float d = s[param_row * groups + g];
      const int32_t zero = z[param_row * groups + g];
      const int32_t* block = c + src * cols + b * kBlock;
      std::uint8_t u[kBlock];
      std::int8_t i8[kBlock];
      for (int j = 0; j < kBlock; ++j) {
        if (type == io::GgmlType::kQ4_0) u[j] = static_cast<std::uint8_t>(block[j] - zero + 8);
        if (type == io::GgmlType::kQ4_1) u[j] = static_cast<std::uint8_t>(block[j] - min);
        if (type == io::GgmlType::kQ8_0) i8[j] = static_cast<std::int8_t>(block[j] - zero);
      }
      if (type == io::GgmlType::kQ4_0) io::encode_q4_0_block(u, d, dst);
      if (type == io::GgmlType::kQ4_1)
        io::encode_q4_1_block(u, d, static_cast<float>(min - zero) * d, dst);
      if (type == io::GgmlType::kQ8_0) io::encode_q8_0_block(i8, d, dst);
    }
  }
  out.relative_error = relative_error(type, out.bytes, rows_in_order(dequantize_packed(w), order));
  return out;
}

}  // namespace

ExactChoice exact_block_type(const PackedWeight& w) {
  const QuantSpec& s = w.spec;
  ExactChoice c;
  const int64_t cpg = columns_per_group(w);
  if (w.in_features % kBlock != 0) {
    c.reason =
        fmt::format("{} input columns are not whole ggml blocks of {}", w.in_features, kBlock);
    return c;
  }
  if (w.in_features % cpg != 0 || cpg % kBlock != 0) {
    c.reason = fmt::format("group size {} is not a multiple of {} dividing the {} columns", cpg,
                           kBlock, w.in_features);
    return c;
  }
  const CodeRange r = code_range(s);
  const QuantizedWeight q = unpack_weight(w);
  const int64_t zmin = q.zeros.min().item<int64_t>(), zmax = q.zeros.max().item<int64_t>();
  c.exact = true;
  if (s.symmetric && r.min - zmax + 8 >= 0 && r.max - zmin + 8 <= 15) {
    c.type = io::GgmlType::kQ4_0;
  } else if (r.max - r.min <= 15) {
    c.type = io::GgmlType::kQ4_1;
  } else if (r.min - zmax >= -128 && r.max - zmin <= 127) {
    c.type = io::GgmlType::kQ8_0;
  } else {
    c.exact = false;
    c.reason = fmt::format(
        "{}-bit {} codes in [{}, {}] with zero points in [{}, {}] fit no ggml block exactly",
        s.bits, s.symmetric ? "symmetric" : "asymmetric", r.min, r.max, zmin, zmax);
  }
  return c;
}

EncodedTensor encode_quantized(const PackedWeight& w, const std::vector<std::int64_t>& order,
                               bool requantize, const std::string& name) {
  const ExactChoice choice = exact_block_type(w);
  if (choice.exact) return encode_exact(w, choice.type, order);
  if (!requantize) {
    throw UnsupportedError(
        fmt::format("GGUF export: tensor '{}' ({}): {}; the nearest exact setting is {}, or pass "
                    "--gguf-requantize to round the dequantized weights again (adds error)",
                    name, w.spec.describe(), choice.reason, nearest_exact(w)));
  }
  const at::Tensor ref = rows_in_order(dequantize_packed(w), order).contiguous();
  EncodedTensor out;
  out.shape = {w.out_features, w.in_features};
  out.mapping = "requantized";
  if (w.in_features % kBlock != 0) {
    out = encode_dense(ref, io::GgmlType::kF16, {});
    out.mapping = "requantized";
    out.note = fmt::format("{}: {}; written as F16", name, choice.reason);
    return out;
  }
  out.type = w.spec.bits <= 4 ? io::GgmlType::kQ4_1 : io::GgmlType::kQ8_0;
  out.bytes = io::ggml_quantize(out.type, span_of(ref));
  out.relative_error = relative_error(out.type, out.bytes, ref);
  out.note = fmt::format("{}: {}; requantized to {} (relative error {:.3g})", name, choice.reason,
                         io::ggml_traits(out.type).name, out.relative_error);
  return out;
}

EncodedTensor encode_dense(const at::Tensor& t, io::GgmlType type,
                           const std::vector<std::int64_t>& order, float offset) {
  at::Tensor v = t.detach().to(at::kCPU).to(at::kFloat);
  if (offset != 0.0f) v = v + offset;
  v = rows_in_order(v, order).contiguous();
  const io::GgmlTypeTraits traits = io::ggml_traits(type);
  if (v.size(-1) % traits.block_size != 0) type = io::GgmlType::kF16;
  EncodedTensor out;
  out.type = type;
  out.shape = v.sizes().vec();
  out.mapping = "dense";
  out.bytes = io::ggml_quantize(type, span_of(v));
  if (type != io::GgmlType::kF32) out.relative_error = relative_error(type, out.bytes, v);
  return out;
}

EncodedTensor stack_rows(std::vector<EncodedTensor> parts, const std::string& name) {
  EncodedTensor out = std::move(parts.front());
  for (size_t i = 1; i < parts.size(); ++i) {
    const EncodedTensor& p = parts[i];
    if (p.type != out.type || p.shape.size() != out.shape.size() ||
        (p.shape.size() == 2 && p.shape[1] != out.shape[1])) {
      throw UnsupportedError(fmt::format(
          "GGUF export: the parts of fused tensor '{}' are stored as {} and {}; llama.cpp needs "
          "one type for the fused tensor (quantize all of them alike)",
          name, io::ggml_traits(out.type).name, io::ggml_traits(p.type).name));
    }
    out.bytes.insert(out.bytes.end(), p.bytes.begin(), p.bytes.end());
    out.shape[0] += p.shape[0];
    out.relative_error = std::max(out.relative_error, p.relative_error);
    if (p.mapping == "requantized") out.mapping = p.mapping;
    if (!p.note.empty()) out.note += (out.note.empty() ? "" : "; ") + p.note;
  }
  return out;
}

}  // namespace slmq::gguf_export
