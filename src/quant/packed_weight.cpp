#include "slmq/quant/packed_weight.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <bit>

#include "slmq/core/error.h"

namespace slmq {
namespace {

int64_t packed_words(int64_t cols, int bits) { return (cols * bits + 31) / 32; }

void check_bits(int bits) {
  if (bits < 1 || bits > 8) throw InternalError(fmt::format("packing: {} bits outside 1..8", bits));
}

// Bit position of each element: word index and offset inside the word.
std::pair<at::Tensor, at::Tensor> bit_positions(int64_t cols, int bits, c10::Device device) {
  at::Tensor start = at::arange(cols, at::TensorOptions().dtype(at::kLong).device(device)) * bits;
  return {at::floor_divide(start, 32), at::remainder(start, 32)};
}

// 4-bit values never straddle a byte: split the little-endian bytes of the words into nibbles.
at::Tensor unpack_nibbles(const at::Tensor& words, int64_t cols) {
  const int64_t rows = words.size(0);
  at::Tensor bytes = words.contiguous().view(at::kByte);  // [rows, 4·words]
  at::Tensor both = at::stack({bytes.bitwise_and(0xF), bytes.bitwise_right_shift(4)}, -1);
  return both.view({rows, -1}).narrow(1, 0, cols).contiguous();
}

// The inverse for 4 bits: nibble pairs into bytes, little-endian bytes into words.
at::Tensor pack_nibbles(const at::Tensor& values) {
  const int64_t rows = values.size(0), cols = values.size(1), padded = (cols + 7) / 8 * 8;
  at::Tensor v = at::constant_pad_nd(values.to(at::kByte), {0, padded - cols});
  at::Tensor pairs = v.view({rows, padded / 2, 2});
  at::Tensor bytes = pairs.select(2, 0).bitwise_or(pairs.select(2, 1).bitwise_left_shift(4));
  return bytes.contiguous().view(at::kInt).narrow(1, 0, packed_words(cols, 4)).contiguous();
}

}  // namespace

at::Tensor pack_int32(const at::Tensor& values, int bits) {
  check_bits(bits);
  if (values.dim() != 2) throw InternalError("pack_int32: values must be [rows, cols]");
  if (values.numel() > 0) {
    auto [lo, hi] = at::aminmax(values);
    if (lo.item<int64_t>() < 0 || hi.item<int64_t>() >= (1 << bits))
      throw InternalError(fmt::format("pack_int32: values outside [0, 2^{})", bits));
  }
  if (bits == 4 && std::endian::native == std::endian::little) return pack_nibbles(values);
  at::Tensor v = values.to(at::kLong);
  const int64_t rows = v.size(0), cols = v.size(1), words = packed_words(cols, bits);
  auto [word, offset] = bit_positions(cols, bits, v.device());
  // Each value shifted into a 64-bit window over its word and the next; the two halves are added
  // (the bits never overlap) into their words.
  at::Tensor shifted = v.bitwise_left_shift(offset.unsqueeze(0));
  at::Tensor out = at::zeros({rows, words + 1}, v.options());
  out.index_add_(1, word, shifted.bitwise_and(0xFFFFFFFFLL));
  out.index_add_(1, word + 1, shifted.bitwise_right_shift(32));
  out = out.narrow(1, 0, words);
  // Words are unsigned 32-bit patterns; store them as the int32 with the same bits.
  out = at::where(out >= (int64_t{1} << 31), out - (int64_t{1} << 32), out);
  return out.to(at::kInt).contiguous();
}

at::Tensor unpack_int32(const at::Tensor& words, int bits, int64_t cols) {
  check_bits(bits);
  if (words.dim() != 2 || words.scalar_type() != at::kInt ||
      words.size(1) != packed_words(cols, bits)) {
    throw DataError(
        fmt::format("packed int{} words: expected int32 [rows, {}] for {} columns, got {} {}", bits,
                    packed_words(cols, bits), cols, c10::toString(words.scalar_type()),
                    c10::str(words.sizes())));
  }
  if (bits == 4 && std::endian::native == std::endian::little) return unpack_nibbles(words, cols);
  auto [word, offset] = bit_positions(cols, bits, words.device());
  at::Tensor w = at::constant_pad_nd(words.to(at::kLong).bitwise_and(0xFFFFFFFFLL), {0, 1});
  at::Tensor window =
      w.index_select(1, word).bitwise_or(w.index_select(1, word + 1).bitwise_left_shift(32));
  return window.bitwise_right_shift(offset.unsqueeze(0)).bitwise_and((1 << bits) - 1).to(at::kByte);
}

PackedWeight pack_weight(QuantizedWeight q) {
  PackedWeight p;
  p.out_features = q.codes.size(0);
  p.in_features = q.in_features;
  p.spec = q.spec;
  p.scales = std::move(q.scales);
  p.zeros = std::move(q.zeros);
  if (p.packed()) {
    const int64_t min = code_range(q.spec).min;
    // Signed codes + 2^(b-1) < 2^7 fits their own int8.
    p.data = pack_int32(min == 0 ? q.codes : q.codes - min, q.spec.bits);
  } else {
    p.data = q.codes.contiguous();
  }
  return p;
}

QuantizedWeight unpack_weight(const PackedWeight& p) {
  QuantizedWeight q;
  q.scales = p.scales;
  q.zeros = p.zeros;
  q.spec = p.spec;
  q.in_features = p.in_features;
  if (!p.packed()) {
    q.codes = p.data;
    return q;
  }
  at::Tensor u = unpack_int32(p.data, p.spec.bits, p.in_features);
  const int64_t min = code_range(p.spec).min;
  q.codes = min == 0 ? u : (u.to(at::kShort) + min).to(at::kChar);
  return q;
}

at::Tensor dequantize_packed(const PackedWeight& p) {
  QuantizedWeight q;
  q.scales = p.scales;
  q.spec = p.spec;
  q.in_features = p.in_features;
  const int64_t min = code_range(p.spec).min;
  if (p.packed()) {
    q.codes = unpack_int32(p.data, p.spec.bits, p.in_features);
    q.zeros = p.zeros - min;
  } else {
    q.codes = p.data;
    q.zeros = p.zeros;
  }
  q.zeros = q.zeros.expand(q.scales.sizes());
  return dequantize(q);
}

}  // namespace slmq
