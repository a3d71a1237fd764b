// K-quant super-blocks of 256 elements (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K), laid out as ggml's
// block_q*_K structs. Index arithmetic follows how the gguf package reshapes the packed bytes,
// so element order and the order of fp32 operations match it exactly.
#include <string>

#include "gguf_dequant_fp.h"
#include "slmq/core/error.h"

namespace slmq::io::detail {
namespace {

constexpr int kQK = 256;

// Q2_K: scales[16] (low nibble scale, high nibble min), qs[64] (2-bit), d, dmin.
void q2_k(const std::uint8_t* b, float* y) {
  const std::uint8_t* scales = b;
  const std::uint8_t* qs = b + 16;
  const float d = read_fp16(b + 80);
  const float dmin = read_fp16(b + 82);
  for (int g = 0; g < 16; ++g) {
    const float dl = d * static_cast<float>(scales[g] & 0x0F);
    const float ml = dmin * static_cast<float>(scales[g] >> 4);
    for (int k = 0; k < 16; ++k) {
      const int e = g * 16 + k;
      const int half = e / 128, shift = 2 * ((e % 128) / 32), l = e % 32;
      const int q = (qs[half * 32 + l] >> shift) & 3;
      y[e] = dl * static_cast<float>(q) - ml;
    }
  }
}

// Q3_K: hmask[32], qs[64] (low 2 bits), scales[12] (16 x 6-bit, offset 32), d.
void q3_k(const std::uint8_t* b, float* y) {
  const std::uint8_t* hmask = b;
  const std::uint8_t* qs = b + 32;
  const std::uint8_t* sc = b + 96;
  const float d = read_fp16(b + 108);
  for (int g = 0; g < 16; ++g) {
    const int lo = (sc[g % 8] >> (4 * (g / 8))) & 0x0F;
    const int hi = (sc[8 + g % 4] >> (2 * (g / 4))) & 0x03;
    const float dl = d * static_cast<float>(static_cast<std::int8_t>(lo | (hi << 4)) - 32);
    for (int k = 0; k < 16; ++k) {
      const int e = g * 16 + k;
      const int ql = (qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      // A set high bit means no offset; a clear one subtracts 4.
      const int h = ((hmask[e % 32] >> (e / 32)) & 1) ^ 1;
      y[e] = dl * static_cast<float>(ql - (h << 2));
    }
  }
}

// The 12-byte block of eight 6-bit scales and eight 6-bit mins shared by Q4_K and Q5_K.
void k_scale_min(const std::uint8_t* s, int j, int* sc, int* mn) {
  if (j < 4) {
    *sc = s[j] & 0x3F;
    *mn = s[4 + j] & 0x3F;
  } else {
    *sc = (s[8 + j - 4] & 0x0F) | ((s[j - 4] >> 2) & 0x30);
    *mn = (s[8 + j - 4] >> 4) | ((s[4 + j - 4] >> 2) & 0x30);
  }
}

// Q4_K: d, dmin, scales[12], qs[128]; eight sub-blocks of 32.
void q4_k(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  const float dmin = read_fp16(b + 2);
  const std::uint8_t* qs = b + 16;
  for (int j = 0; j < 8; ++j) {
    int sc, mn;
    k_scale_min(b + 4, j, &sc, &mn);
    const float dj = d * static_cast<float>(sc);
    const float mj = dmin * static_cast<float>(mn);
    const std::uint8_t* q = qs + (j / 2) * 32;
    const int shift = 4 * (j % 2);
    for (int l = 0; l < 32; ++l) {
      y[j * 32 + l] = dj * static_cast<float>((q[l] >> shift) & 0x0F) - mj;
    }
  }
}

// Q5_K: d, dmin, scales[12], qh[32] (bit j = fifth bit of sub-block j), qs[128].
void q5_k(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  const float dmin = read_fp16(b + 2);
  const std::uint8_t* qh = b + 16;
  const std::uint8_t* qs = b + 48;
  for (int j = 0; j < 8; ++j) {
    int sc, mn;
    k_scale_min(b + 4, j, &sc, &mn);
    const float dj = d * static_cast<float>(sc);
    const float mj = dmin * static_cast<float>(mn);
    const std::uint8_t* q = qs + (j / 2) * 32;
    const int shift = 4 * (j % 2);
    for (int l = 0; l < 32; ++l) {
      const int v = ((q[l] >> shift) & 0x0F) | (((qh[l] >> j) & 1) << 4);
      y[j * 32 + l] = dj * static_cast<float>(v) - mj;
    }
  }
}

// Q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8), d.
void q6_k(const std::uint8_t* b, float* y) {
  const std::uint8_t* ql = b;
  const std::uint8_t* qh = b + 128;
  const auto* scales = reinterpret_cast<const std::int8_t*>(b + 192);
  const float d = read_fp16(b + 208);
  for (int g = 0; g < 16; ++g) {
    const float dg = d * static_cast<float>(scales[g]);
    for (int k = 0; k < 16; ++k) {
      const int e = g * 16 + k;
      const int half = e / 128, r = e % 128;
      const int lo = (ql[half * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
      const int hi = (qh[half * 32 + r % 32] >> (2 * (r / 32))) & 0x03;
      y[e] = dg * static_cast<float>(static_cast<std::int8_t>(lo | (hi << 4)) - 32);
    }
  }
}

}  // namespace

void dequantize_k(GgmlType type, const std::uint8_t* src, std::int64_t n_blocks, float* dst) {
  void (*block_fn)(const std::uint8_t*, float*) = nullptr;
  switch (type) {
    case GgmlType::kQ2_K:
      block_fn = q2_k;
      break;
    case GgmlType::kQ3_K:
      block_fn = q3_k;
      break;
    case GgmlType::kQ4_K:
      block_fn = q4_k;
      break;
    case GgmlType::kQ5_K:
      block_fn = q5_k;
      break;
    case GgmlType::kQ6_K:
      block_fn = q6_k;
      break;
    default:
      throw InternalError("dequantize_k: unexpected type " + std::string(ggml_traits(type).name));
  }
  const std::size_t type_size = ggml_traits(type).type_size;
  for (std::int64_t i = 0; i < n_blocks; ++i) block_fn(src + i * type_size, dst + i * kQK);
}

}  // namespace slmq::io::detail
