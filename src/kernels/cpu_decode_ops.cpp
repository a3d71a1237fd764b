// Dispatcher and portable versions of the decode-step operations.
#include "slmq/kernels/cpu_decode_ops.h"

#include <algorithm>
#include <cmath>

#include "cpu_decode_ops_impl.h"

namespace slmq::kernels {
namespace {

using detail::use_avx2_now;

float sum_squares(const float* x, int64_t n) {
  if (use_avx2_now() && n % 8 == 0) return detail::sum_squares_avx2(x, n);
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

float dot(const float* a, const float* b, int64_t n) {
  if (use_avx2_now() && n % 8 == 0) return detail::dot_avx2(a, b, n);
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  if (use_avx2_now() && n % 8 == 0) return detail::axpy_avx2(a, x, y, n);
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

float exp_shift_sum(float* x, int64_t n, float shift) {
  if (use_avx2_now()) return detail::exp_shift_sum_avx2(x, n, shift);
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += (x[i] = std::exp(x[i] - shift));
  return s;
}

}  // namespace

void rms_norm_row(const float* x, const float* weight, int64_t n, float eps, float* out) {
  const float variance = sum_squares(x, n) / static_cast<float>(n);
  const float r = 1.0f / std::sqrt(variance + eps);
  if (use_avx2_now() && n % 8 == 0) return detail::scale_mul_avx2(x, weight, r, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] = weight[i] * (x[i] * r);
}

void rope_rotate_half(float* x, int64_t heads, int64_t head_dim, const float* cos,
                      const float* sin) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * cos[i] + (-b) * sin[i];
      v[i + half] = b * cos[i + half] + a * sin[i + half];
    }
  }
}

void attend_one_query(const float* q, int64_t heads, int64_t kv_heads, int64_t head_dim,
                      const float* keys, const float* values, int64_t capacity, int64_t first,
                      int64_t last, const uint8_t* valid, float scale, float* scratch, float* out) {
  const int64_t group = heads / kv_heads;
  for (int64_t h = 0; h < heads; ++h) {
    const float* qh = q + h * head_dim;
    const float* kh = keys + (h / group) * capacity * head_dim;
    const float* vh = values + (h / group) * capacity * head_dim;
    float* oh = out + h * head_dim;
    // Masked slots get -inf, so exp() makes them exactly 0 and they add nothing.
    float max_score = -INFINITY;
    for (int64_t s = first; s <= last; ++s) {
      const bool on = s == last || valid == nullptr || valid[s] != 0;
      scratch[s] = on ? dot(qh, kh + s * head_dim, head_dim) * scale : -INFINITY;
      max_score = std::max(max_score, scratch[s]);
    }
    const float total = exp_shift_sum(scratch + first, last - first + 1, max_score);
    std::fill(oh, oh + head_dim, 0.0f);
    for (int64_t s = first; s <= last; ++s)
      if (scratch[s] != 0.0f) axpy(scratch[s] / total, vh + s * head_dim, oh, head_dim);
  }
}

void quantize_kv_int8(const float* x, int64_t n, int64_t group, int8_t* codes, float* scales) {
  for (int64_t g = 0; g < n / group; ++g) {
    const float* xg = x + g * group;
    float absmax = 0;
    for (int64_t i = 0; i < group; ++i) absmax = std::max(absmax, std::fabs(xg[i]));
    const float s = absmax / 127.0f;
    scales[g] = s;
    for (int64_t i = 0; i < group; ++i) {
      const float c = s > 0 ? std::nearbyint(xg[i] / s) : 0.0f;
      codes[g * group + i] = static_cast<int8_t>(std::clamp(c, -127.0f, 127.0f));
    }
  }
}

namespace {

// Σ_d q_d · code_d · scale_g over the groups of one int8 vector.
float dot_int8(const float* q, const int8_t* codes, const float* scales, int64_t d, int64_t group) {
  if (use_avx2_now() && group % 8 == 0) return detail::dot_int8_avx2(q, codes, scales, d, group);
  float total = 0;
  for (int64_t g = 0; g < d / group; ++g) {
    float s = 0;
    for (int64_t i = g * group; i < (g + 1) * group; ++i) s += q[i] * static_cast<float>(codes[i]);
    total += s * scales[g];
  }
  return total;
}

// y += p · code · scale over the groups of one int8 vector.
void axpy_int8(float p, const int8_t* codes, const float* scales, int64_t d, int64_t group,
               float* y) {
  if (use_avx2_now() && group % 8 == 0)
    return detail::axpy_int8_avx2(p, codes, scales, d, group, y);
  for (int64_t i = 0; i < d; ++i) y[i] += p * scales[i / group] * static_cast<float>(codes[i]);
}

}  // namespace

void attend_one_query_int8(const float* q, int64_t heads, int64_t kv_heads, int64_t head_dim,
                           const Int8KV& kv, int64_t capacity, int64_t first, int64_t last,
                           const uint8_t* valid, float scale, float* scratch, float* out) {
  const int64_t group = heads / kv_heads, per_vector = head_dim / kv.group;
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t base = (h / group) * capacity;  // first slot of this KV head
    const float* qh = q + h * head_dim;
    float* oh = out + h * head_dim;
    float max_score = -INFINITY;
    for (int64_t s = first; s <= last; ++s) {
      const bool on = s == last || valid == nullptr || valid[s] != 0;
      scratch[s] = on ? dot_int8(qh, kv.key_codes + (base + s) * head_dim,
                                 kv.key_scales + (base + s) * per_vector, head_dim, kv.group) *
                            scale
                      : -INFINITY;
      max_score = std::max(max_score, scratch[s]);
    }
    const float total = exp_shift_sum(scratch + first, last - first + 1, max_score);
    std::fill(oh, oh + head_dim, 0.0f);
    for (int64_t s = first; s <= last; ++s) {
      if (scratch[s] == 0.0f) continue;
      axpy_int8(scratch[s] / total, kv.value_codes + (base + s) * head_dim,
                kv.value_scales + (base + s) * per_vector, head_dim, kv.group, oh);
    }
  }
}

void silu_mul(float* gate, const float* up, int64_t n) {
  if (use_avx2_now()) return detail::silu_mul_avx2(gate, up, n);
  for (int64_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void gelu_tanh_mul(float* gate, const float* up, int64_t n) {
  if (use_avx2_now()) return detail::gelu_tanh_mul_avx2(gate, up, n);
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i], u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    gate[i] = x / (1.0f + std::exp(-2.0f * u)) * up[i];
  }
}

void soft_cap(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i] / cap) * cap;
}

void add_into(float* x, const float* y, int64_t n) {
  if (use_avx2_now()) return detail::add_into_avx2(x, y, n);
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

int64_t argmax(const float* x, int64_t n) {
  return std::max_element(x, x + n) - x;  // first of equal maxima
}

}  // namespace slmq::kernels
