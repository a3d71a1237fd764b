// The packed int8 KV cache (model/kv_cache.h) against its definition: codes and scales as the spec
// states them (checked here in float64, independently of both implementations), the decode loop's
// kernel storing the same bytes as KVCache::append, the memory it takes, and SmolLM2's greedy
// continuation with an int8 cache against the float cache. The decode loop against
// Model::forward on int8 caches is in decode_loop_test.cpp.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "slmq/core/error.h"
#include "slmq/kernels/cpu_decode_ops.h"
#include "slmq/model/generate.h"
#include "slmq/model/kv_cache.h"
#include "slmq/model/model_loader.h"
#include "support/single_thread.h"

namespace slmq {
namespace {

ModelConfig tiny_config(int64_t head_dim) {
  ModelConfig c;
  c.num_layers = 2;
  c.num_kv_heads = 3;
  c.head_dim = head_dim;
  return c;
}

// k [1,3,5,D] with an outlier per vector and an all-zero vector (scale 0).
at::Tensor sample(int64_t d, int seed) {
  at::manual_seed(seed);
  at::Tensor x = at::randn({1, 3, 5, d}) * 0.5;
  x.select(3, 1).mul_(40.0);
  x[0][2][4].zero_();
  return x;
}

class KvInt8 : public ::testing::TestWithParam<int64_t> {};

// Per group: s = max|x| / 127, c = round_half_even(x / s) within ±127, read back as c·s. Checked
// with float64 arithmetic: |c − x/s| ≤ 1/2 (ties may go either way after the fp32 division, so
// the bound allows 1e-6 slack), the group maximum maps to ±127, and the value returned by append
// is exactly c·s.
TEST_P(KvInt8, AppendStoresTheSpecsCodesAndReturnsTheirValues) {
  const int64_t d = GetParam(), group = kv_int8_group(d);
  KVCache cache(tiny_config(d), 1, 2, at::kFloat, c10::Device(c10::kCPU), KvStorage::kInt8);
  const at::Tensor k = sample(d, 1), v = sample(d, 2);
  auto [keys, values] = cache.append(1, k, v);  // capacity 2 < 5 slots: append grows the cache
  ASSERT_EQ(keys.sizes(), k.sizes());
  const int8_t* codes = cache.key_codes(1);
  const float* scales = cache.key_scales(1);
  const int64_t cap = cache.capacity();
  for (int64_t h = 0; h < 3; ++h) {
    for (int64_t t = 0; t < 5; ++t) {
      for (int64_t g = 0; g < d / group; ++g) {
        const double s = scales[(h * cap + t) * (d / group) + g];
        double absmax = 0;
        int max_code = 0;
        for (int64_t i = g * group; i < (g + 1) * group; ++i) {
          const double x = k[0][h][t][i].item<float>();
          const int c = codes[(h * cap + t) * d + i];
          absmax = std::max(absmax, std::fabs(x));
          max_code = std::max(max_code, std::abs(c));
          if (s > 0) EXPECT_LE(std::fabs(c - x / s), 0.5 + 1e-6) << h << " " << t << " " << i;
          EXPECT_EQ(keys[0][h][t][i].item<float>(), static_cast<float>(c * static_cast<float>(s)));
        }
        EXPECT_NEAR(s, absmax / 127.0, absmax * 1e-6);
        EXPECT_EQ(max_code, absmax > 0 ? 127 : 0);
      }
    }
  }
  EXPECT_TRUE(values.allclose(v, 0, v.abs().max().item<double>() / 127.0));
}

// The decode loop quantizes a vector with kernels::quantize_kv_int8; the generic path with
// tensor operations. A cache mixes both, so they must store identical bytes.
TEST_P(KvInt8, KernelStoresTheSameBytesAsAppend) {
  const int64_t d = GetParam(), group = kv_int8_group(d);
  KVCache cache(tiny_config(d), 1, 8, at::kFloat, c10::Device(c10::kCPU), KvStorage::kInt8);
  const at::Tensor k = sample(d, 3);
  cache.append(0, k, k);
  std::vector<int8_t> codes(d);
  std::vector<float> scales(d / group);
  for (int64_t h = 0; h < 3; ++h) {
    for (int64_t t = 0; t < 5; ++t) {
      at::Tensor x = k[0][h][t].contiguous();
      kernels::quantize_kv_int8(x.data_ptr<float>(), d, group, codes.data(), scales.data());
      const int64_t slot = h * cache.capacity() + t;
      for (int64_t i = 0; i < d; ++i) ASSERT_EQ(codes[i], cache.key_codes(0)[slot * d + i]);
      for (int64_t g = 0; g < d / group; ++g)
        ASSERT_EQ(scales[g], cache.key_scales(0)[slot * (d / group) + g]);
    }
  }
}

// 32 divides 64 and 256 (SmolLM2, Gemma-3-270M); 16 (the tiny models) is one group per vector.
INSTANTIATE_TEST_SUITE_P(HeadDims, KvInt8, ::testing::Values(16, 64, 256));

TEST(KvInt8Storage, TakesAByteAndAScalePer32Elements) {
  EXPECT_EQ(kv_vector_bytes(KvStorage::kInt8, 64, at::kFloat), 64 + 2 * 4);
  EXPECT_EQ(kv_vector_bytes(KvStorage::kCompute, 64, at::kFloat), 256);
  EXPECT_EQ(kv_vector_bytes(KvStorage::kCompute, 64, at::kBFloat16), 128);
  KVCache cache(tiny_config(64), 2, 10, at::kFloat, c10::Device(c10::kCPU), KvStorage::kInt8);
  EXPECT_EQ(cache.storage(), KvStorage::kInt8);
  EXPECT_THROW(cache.keys_data(0), InternalError);
  EXPECT_THROW(parse_kv_storage("fp8", "model.kv_cache"), ConfigError);
  EXPECT_EQ(parse_kv_storage("int8", "model.kv_cache"), KvStorage::kInt8);
}

// The greedy continuations of two prompts (24 tokens each) with an int8 cache are those of the
// float cache: the per-element error (at most max|x| / 254 per group of 32) does not flip an
// argmax here. A measured property of SmolLM2 on these prompts, not a bound for every prompt.
TEST(KvInt8Storage, SmolLM2GreedyTokensAreThoseOfTheFloatCache) {
  test::SingleThread one;
  auto model = load_model(
      std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf", {});
  const std::vector<std::vector<int64_t>> prompts = {{1, 504, 3458, 282, 4649, 314},
                                                     {1, 2000, 30, 7}};
  GenerateOptions options;
  options.max_new_tokens = 24;
  options.stop_at_eos = false;
  const auto want = greedy_generate(*model, prompts, options).tokens;
  model->set_kv_storage(KvStorage::kInt8);
  EXPECT_EQ(greedy_generate(*model, prompts, options).tokens, want);
  options.decode_loop = false;  // the generic path through KVCache::append
  EXPECT_EQ(greedy_generate(*model, prompts, options).tokens, want);
}

}  // namespace
}  // namespace slmq
