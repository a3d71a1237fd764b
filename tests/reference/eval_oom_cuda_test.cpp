// CUDA out of memory during evaluation (issue 21): with the caching allocator capped to a small
// fraction of the GPU, a huge batch token budget makes the first batches fail to allocate; the
// evaluator halves the budget until they fit and gives the numbers of an uncapped run. The
// back-off logic itself is unit-tested on CPU with an injected failure (evaluator_test.cpp).
// Skips, saying why, where torch sees no GPU.
#include <gtest/gtest.h>

#ifdef SLMQ_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <cuda_runtime_api.h>
#endif

#include <cmath>

#include "slmq/core/dtype.h"
#include "slmq/eval/evaluator.h"
#include "slmq/eval/model_language_model.h"
#include "slmq/eval/task.h"
#include "slmq/model/model_loader.h"

namespace slmq::eval {
namespace {

TEST(EvalOomCuda, ACappedGpuHalvesTheBatchAndGivesTheSameNumbers) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA GPU visible to torch on this machine";
#ifdef SLMQ_WITH_CUDA
  const auto path =
      std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  auto gpu = load_model(path, {c10::kFloat, c10::Device(c10::kCUDA, 0)});
  auto lm = make_model_language_model(*gpu, path);
  TaskOptions options;
  options.limit = 16;
  options.data_dir = std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/data";
  auto task = make_task("arc_easy", options);
  const auto want = Evaluator(*lm, {}).run(task->requests());
  // 1.25 GiB for everything: the weights (~0.6 GiB in fp32) and the batch. A 1M-token batch
  // needs ~190 GiB of fp32 logits (49152 per token).
  size_t free_bytes = 0, total_bytes = 0;
  C10_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  c10::cuda::CUDACachingAllocator::setMemoryFraction(
      std::min(1.0, 1.25 * (1 << 30) / static_cast<double>(total_bytes)), 0);
  EvaluatorOptions big;
  big.batch_tokens = int64_t{1} << 20;
  Evaluator capped(*lm, big);
  const auto got = capped.run(task->requests());
  c10::cuda::CUDACachingAllocator::setMemoryFraction(1.0, 0);
  EXPECT_GT(capped.stats().oom_retries, 0u);
  EXPECT_GT(capped.stats().batch_token_divisor, 1);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    // Another batch composition changes float rounding only (fp32 cuBLAS): 1e-3 as EvalCuda.
    EXPECT_NEAR(got[i].loglikelihood, want[i].loglikelihood, 1e-3) << "request " << i;
  }
#endif
}

}  // namespace
}  // namespace slmq::eval
