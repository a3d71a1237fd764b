// The evaluator on CUDA against the same evaluator on CPU (whose numbers are checked against
// lm-eval in eval_lm_eval_model_parity_test): SmolLM2-135M in float32 on a few items of every
// request type. Skips, saying why, where torch sees no GPU.
#include <gtest/gtest.h>

#include <cmath>

#include "slmq/core/dtype.h"
#include "slmq/eval/evaluator.h"
#include "slmq/eval/model_language_model.h"
#include "slmq/eval/task.h"
#include "slmq/model/model_loader.h"

namespace slmq::eval {
namespace {

// fp32 on both devices (cuBLAS without TF32, torch's default): logits differ by reduction order,
// ~1e-5; a loglikelihood over a few dozen tokens within 1e-3, as lm-eval parity. A rolling
// document sums ~2000 per-token terms over 2048-token windows, whose small differences add up
// (H100 vs the dev box: 0.0106 on a -3315-nat WikiText page, 3.2e-6 of |LL|): 1e-3 + 1e-5 * |LL|,
// still far below what one wrongly scored token or window would cost (> 1 nat).
constexpr double kTolerance = 1e-3;
constexpr double kRollingRelative = 1e-5;

TEST(EvalCuda, SameNumbersAsCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA GPU visible to torch on this machine";
  const auto path =
      std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  auto cpu = load_model(path, {c10::kFloat, c10::Device(c10::kCPU)});
  auto gpu = load_model(path, {c10::kFloat, c10::Device(c10::kCUDA, 0)});
  auto lm_cpu = make_model_language_model(*cpu, path);
  auto lm_gpu = make_model_language_model(*gpu, path);
  struct Case {
    const char* task;
    size_t limit;
  };
  for (Case c : {Case{"arc_challenge", 8}, Case{"wikitext", 1}, Case{"gsm8k", 2}}) {
    SCOPED_TRACE(c.task);
    TaskOptions options;
    options.limit = c.limit;
    options.data_dir = std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/data";
    auto task = make_task(c.task, options);
    auto a = Evaluator(*lm_cpu, {}).run(task->requests());
    auto b = Evaluator(*lm_gpu, {}).run(task->requests());
    double max_diff = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      const double diff = std::abs(a[i].loglikelihood - b[i].loglikelihood);
      max_diff = std::max(max_diff, diff);
      const bool rolling = task->request_type() == RequestType::kLoglikelihoodRolling;
      EXPECT_LE(diff, kTolerance + (rolling ? kRollingRelative * std::abs(a[i].loglikelihood) : 0))
          << "request " << i;
      EXPECT_EQ(a[i].is_greedy, b[i].is_greedy) << "request " << i;
      EXPECT_EQ(a[i].generation, b[i].generation) << "request " << i;
    }
    std::cout << "[eval-cuda] " << c.task << ": max |dLL| cpu vs cuda = " << max_diff << "\n";
  }
}

}  // namespace
}  // namespace slmq::eval
