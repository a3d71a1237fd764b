#pragma once
// The small per-token operations of a decode step, on raw fp32 rows, so the decode loop
// (model/decode_loop.h) runs without a tensor-library dispatch per operation. Torch-free; AVX2
// where the CPU has it (cpu_qlinear.h's has_avx2 and force_portable apply here too), a portable
// path otherwise. Each computes what the model's tensor code computes, up to fp32 summation order.
#include <cstdint>

namespace slmq::kernels {

// out[i] = weight[i] · (x[i] · 1/sqrt(mean(x²) + eps)) for one row of `n` (transformers'
// LlamaRMSNorm in fp32). out may alias x.
void rms_norm_row(const float* x, const float* weight, int64_t n, float eps, float* out);

// Rotary embedding on `heads` vectors of head_dim at x [heads, head_dim], in place:
// x·cos + rotate_half(x)·sin with rotate_half(x) = (−x₂, x₁), cos/sin [head_dim] of the position.
void rope_rotate_half(float* x, int64_t heads, int64_t head_dim, const float* cos,
                      const float* sin);

// One query per head against cached keys and values (grouped-query attention):
// q [heads, head_dim]; keys/values [kv_heads, capacity, head_dim] of one sequence, slots
// [first, last] attended where valid[slot] != 0 (valid null: all), the query's own slot `last`
// always; softmax(q·k·scale) · v into out [heads, head_dim]. scratch: at least last + 1 floats.
void attend_one_query(const float* q, int64_t heads, int64_t kv_heads, int64_t head_dim,
                      const float* keys, const float* values, int64_t capacity, int64_t first,
                      int64_t last, const uint8_t* valid, float scale, float* scratch, float* out);

// Packed int8 KV storage (model/kv_cache.h): x [n] in groups of `group`, each stored as codes
// clamp(round_half_even(x / s), -127, 127) with s = max|x| / 127 (s = 0: codes 0).
void quantize_kv_int8(const float* x, int64_t n, int64_t group, int8_t* codes, float* scales);

// attend_one_query over int8 keys and values: codes [kv_heads, capacity, head_dim] with scales
// [kv_heads, capacity, head_dim / group]; each key and value is read as code · scale.
struct Int8KV {
  const int8_t* key_codes;
  const float* key_scales;
  const int8_t* value_codes;
  const float* value_scales;
  int64_t group;
};
void attend_one_query_int8(const float* q, int64_t heads, int64_t kv_heads, int64_t head_dim,
                           const Int8KV& kv, int64_t capacity, int64_t first, int64_t last,
                           const uint8_t* valid, float scale, float* scratch, float* out);

// gate[i] = silu(gate[i]) · up[i] for n elements (SwiGLU), in place.
void silu_mul(float* gate, const float* up, int64_t n);

// gate[i] = gelu_tanh(gate[i]) · up[i] for n elements (GeGLU with the tanh approximation, as
// torch's gelu(approximate="tanh")), in place. Computed as x·sigmoid(2u), u = √(2/π)(x +
// 0.044715x³), which equals 0.5·x·(1 + tanh(u)) exactly in real arithmetic.
void gelu_tanh_mul(float* gate, const float* up, int64_t n);

// x[i] = tanh(x[i] / cap) · cap (final logit soft-capping), in place.
void soft_cap(float* x, int64_t n, float cap);

// x[i] += y[i].
void add_into(float* x, const float* y, int64_t n);

// Index of the largest of n values (the first of equal ones, as torch's argmax).
int64_t argmax(const float* x, int64_t n);

}  // namespace slmq::kernels
