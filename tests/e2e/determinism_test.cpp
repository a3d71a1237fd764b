// The same config and seed on CPU give the same result file, except the fields that measure the
// run (timing, memory, environment: support/result_compare.h): configs/tiny_demo.yaml with a quant
// block (GPTQ, calibrated) and an eval block, on the tiny llama of gen_token_ppl.py (tiny_demo's
// own model has no tokenizer, which eval needs).
#include <gtest/gtest.h>

#include <cstdlib>

#include "slmq/io/json_file.h"
#include "support/result_compare.h"
#include "support/run_cli.h"
#include "support/small_wikitext.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

namespace fs = std::filesystem;

using test::data_dir;

// tiny_demo.yaml run with OMP_NUM_THREADS=`threads` (torch's intra-op threads) into `out`.
// `wiki`: a small WikiText-2 folder (support/small_wikitext.h), the same for runs compared.
nlohmann::json run_tiny_demo(const fs::path& out, int threads, const fs::path& wiki) {
  const std::string model = (test::reference_dir("token_ppl") / "tiny").string();
  const std::string data = data_dir();
  ::setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
  const auto r = test::run_cli(
      "run " + (fs::path(SLMQ_SOURCE_DIR) / "configs" / "tiny_demo.yaml").string() + " --out " +
      out.string() + " --set model.path=" + model + " --set model.device=cpu" +
      " --set quant.method=gptq --set quant.scheme=w4a16 --set quant.weight.group_size=32" +
      " --set quant.calibration.source=c4 --set quant.calibration.nsamples=8" +
      " --set quant.calibration.seqlen=64 --set quant.calibration.data_dir=" + data +
      " --set eval.tasks=[arc_easy] --set eval.limit=10 --set eval.data_dir=" + data +
      " --set ppl.seqlen=64 --set ppl.limit_windows=4 --set ppl.data_dir=" + wiki.string());
  ::unsetenv("OMP_NUM_THREADS");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return read_json_file(out / "tiny_demo.json");
}

TEST(Determinism, TwoRunsOfTinyDemoGiveTheSameResultFile) {
  test::TempDir dir;
  const fs::path wiki = test::write_small_wikitext(data_dir(), dir.path() / "wiki");
  const nlohmann::json a = run_tiny_demo(dir.path() / "a", 1, wiki);
  const nlohmann::json b = run_tiny_demo(dir.path() / "b", 1, wiki);
  ASSERT_EQ(a["status"], "ok");
  // What a result file holds beyond the volatile fields: quantization, eval, ppl, generation.
  for (const char* block : {"quant", "eval", "ppl", "generate", "model", "config"})
    EXPECT_TRUE(a.contains(block)) << block;
  EXPECT_EQ(test::without_volatile(a).dump(2), test::without_volatile(b).dump(2));
}

// docs/result_schema.md ("Determinism") says which numbers depend on the thread count.
TEST(Determinism, OneAndTwoThreadsGiveTheSameResultFile) {
  test::TempDir dir;
  const fs::path wiki = test::write_small_wikitext(data_dir(), dir.path() / "wiki");
  const nlohmann::json one = run_tiny_demo(dir.path() / "one", 1, wiki);
  const nlohmann::json two = run_tiny_demo(dir.path() / "two", 2, wiki);
  EXPECT_EQ(test::without_volatile(one).dump(2), test::without_volatile(two).dump(2));
}

}  // namespace
}  // namespace slmq
