// The decode-step kernels against the tensor expressions the model uses (rms_norm, apply_rotary,
// SDPA with a mask, silu), on the AVX2 and the portable path. Tolerances: fp32 results of the
// same operations in another summation order, relative 1e-5 of the values' scale; the AVX2
// exp polynomial within 2 ulp of std::exp.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "slmq/kernels/cpu_decode_ops.h"
#include "slmq/kernels/cpu_qlinear.h"
#include "slmq/model/decoder_layer.h"
#include "slmq/model/rope.h"

namespace slmq {
namespace {

class DecodeOps : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { kernels::force_portable(GetParam()); }
  void TearDown() override { kernels::force_portable(false); }
};

double max_rel(const at::Tensor& got, const at::Tensor& want) {
  return ((got - want).abs().max() / want.abs().max()).item<double>();
}

TEST_P(DecodeOps, RmsNormMatchesTheModels) {
  at::manual_seed(1);
  at::Tensor x = at::randn({576}) * 3, w = at::randn({576});
  at::Tensor out = at::empty({576});
  kernels::rms_norm_row(x.data_ptr<float>(), w.data_ptr<float>(), 576, 1e-5f,
                        out.data_ptr<float>());
  EXPECT_LE(max_rel(out, rms_norm(x, w, 1e-5)), 1e-5);
}

TEST_P(DecodeOps, RopeMatchesApplyRotary) {
  at::manual_seed(2);
  at::Tensor x = at::randn({1, 3, 1, 64});
  at::Tensor freqs = at::rand({32}) * 7;
  at::Tensor emb = at::cat({freqs, freqs});
  at::Tensor cos = emb.cos(), sin = emb.sin();
  at::Tensor want = apply_rotary(x, cos.view({1, 1, 1, 64}), sin.view({1, 1, 1, 64}));
  at::Tensor got = x.clone();
  kernels::rope_rotate_half(got.data_ptr<float>(), 3, 64, cos.data_ptr<float>(),
                            sin.data_ptr<float>());
  EXPECT_LE(max_rel(got, want), 1e-6);
}

TEST_P(DecodeOps, AttentionMatchesMaskedSdpaWithGroupedHeads) {
  at::manual_seed(3);
  const int64_t heads = 6, kv_heads = 2, dim = 32, cap = 40, last = 29, first = 5;
  at::Tensor q = at::randn({heads, dim});
  at::Tensor keys = at::randn({kv_heads, cap, dim}), values = at::randn({kv_heads, cap, dim});
  at::Tensor valid = at::rand({cap}) > 0.3;
  valid[last] = false;  // the query's own slot counts whatever the flag says
  at::Tensor allowed = valid.clone();
  allowed.narrow(0, 0, first).fill_(false);
  allowed.narrow(0, last + 1, cap - last - 1).fill_(false);
  allowed[last] = true;
  const float scale = 1.0f / std::sqrt(32.0f);
  at::Tensor want = at::scaled_dot_product_attention(
      q.view({1, heads, 1, dim}), keys.unsqueeze(0), values.unsqueeze(0),
      allowed.view({1, 1, 1, cap}), 0.0, false, scale, /*enable_gqa=*/true);
  at::Tensor out = at::empty({heads, dim}), scratch = at::empty({cap});
  at::Tensor flags = valid.to(at::kByte);
  kernels::attend_one_query(q.data_ptr<float>(), heads, kv_heads, dim, keys.data_ptr<float>(),
                            values.data_ptr<float>(), cap, first, last, flags.data_ptr<uint8_t>(),
                            scale, scratch.data_ptr<float>(), out.data_ptr<float>());
  EXPECT_LE(max_rel(out, want.view({heads, dim})), 1e-5);
}

// The int8 cache read as code · scale: the reference is SDPA over those dequantized keys and
// values (the codes and scales made here by the kernel's own quantize_kv_int8, whose codes
// kv_cache_int8_test checks against the definition), so only summation order differs.
TEST_P(DecodeOps, Int8AttentionMatchesSdpaOverTheDequantizedCache) {
  at::manual_seed(6);
  const int64_t heads = 6, kv_heads = 2, dim = 64, cap = 40, last = 33, first = 3;
  for (const int64_t group : {int64_t{32}, int64_t{64}}) {
    at::Tensor q = at::randn({heads, dim});
    at::Tensor keys = at::randn({kv_heads, cap, dim}), values = at::randn({kv_heads, cap, dim});
    const int64_t n = kv_heads * cap * dim;
    at::Tensor kc = at::empty({n}, at::kChar), vc = at::empty({n}, at::kChar);
    at::Tensor ks = at::empty({n / group}), vs = at::empty({n / group});
    kernels::quantize_kv_int8(keys.data_ptr<float>(), n, group, kc.data_ptr<int8_t>(),
                              ks.data_ptr<float>());
    kernels::quantize_kv_int8(values.data_ptr<float>(), n, group, vc.data_ptr<int8_t>(),
                              vs.data_ptr<float>());
    auto dequant = [&](const at::Tensor& c, const at::Tensor& s) {
      return (c.to(at::kFloat).view({-1, group}) * s.view({-1, 1})).view({kv_heads, cap, dim});
    };
    at::Tensor allowed = at::zeros({cap}, at::kBool);
    allowed.narrow(0, first, last - first + 1).fill_(true);
    const float scale = 1.0f / 8.0f;
    at::Tensor want = at::scaled_dot_product_attention(
        q.view({1, heads, 1, dim}), dequant(kc, ks).unsqueeze(0), dequant(vc, vs).unsqueeze(0),
        allowed.view({1, 1, 1, cap}), 0.0, false, scale, /*enable_gqa=*/true);
    at::Tensor out = at::empty({heads, dim}), scratch = at::empty({cap});
    const kernels::Int8KV kv{kc.data_ptr<int8_t>(), ks.data_ptr<float>(), vc.data_ptr<int8_t>(),
                             vs.data_ptr<float>(), group};
    kernels::attend_one_query_int8(q.data_ptr<float>(), heads, kv_heads, dim, kv, cap, first, last,
                                   nullptr, scale, scratch.data_ptr<float>(),
                                   out.data_ptr<float>());
    EXPECT_LE(max_rel(out, want.view({heads, dim})), 1e-5) << "group " << group;
  }
}

TEST_P(DecodeOps, SiluMulAndAddAndArgmax) {
  at::manual_seed(4);
  at::Tensor g = at::randn({1539}) * 6, u = at::randn({1539});
  at::Tensor want = at::silu(g) * u;
  at::Tensor got = g.clone();
  kernels::silu_mul(got.data_ptr<float>(), u.data_ptr<float>(), 1539);
  EXPECT_LE(max_rel(got, want), 2e-6);
  at::Tensor a = at::randn({13}), b = at::randn({13}), sum = a + b;
  kernels::add_into(a.data_ptr<float>(), b.data_ptr<float>(), 13);
  EXPECT_TRUE(at::equal(a, sum));
  at::Tensor v = at::tensor({1.0f, 5.0f, -2.0f, 5.0f});
  EXPECT_EQ(kernels::argmax(v.data_ptr<float>(), 4), 1);  // the first of equal maxima
}

INSTANTIATE_TEST_SUITE_P(Paths, DecodeOps, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "portable" : "avx2"; });

}  // namespace
}  // namespace slmq
