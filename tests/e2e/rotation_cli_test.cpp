// `slmquant quantize --method quarot|spinquant` on the bundled SmolLM2-135M-Instruct: QuaRot's own
// v/o form refuses its 9 heads (exit 4, naming the reason and SpinQuant's R2 form), and QuaRot with
// R2 and RTN weights runs end to end and reports its online Hadamards and KV quantizers.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "support/run_cli.h"

namespace slmq {
namespace {

const std::filesystem::path kModel =
    std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf";

TEST(RotationCli, QuarotValueFormRefusesNineHeads) {
  auto r = test::run_cli("quantize " + kModel.string() + " --method quarot --scheme w4a8");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("9 attention heads"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("values: r2"), std::string::npos) << r.err;
}

TEST(RotationCli, QuarotWithR2AndKvRunsOnSmolLM2) {
  auto r = test::run_cli("quantize " + kModel.string() +
                         " --method quarot --scheme w4a8 --granularity per_channel --values r2"
                         " --rotation-weights rtn --kv-bits 4 --kv-group-size 64 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "quarot");
  EXPECT_EQ(j["summary"]["quantized_linears"], 7 * 30);
  const auto& online = j["details"]["rotation"]["online"];
  ASSERT_EQ(online.size(), 2u) << online.dump();  // down_proj (R4), attention (R3 + KV)
  EXPECT_EQ(online[0]["input_of"], "mlp.down_proj");
  EXPECT_EQ(online[0]["transform"]["factor"], 12);  // 1536 = 12 · 128
  EXPECT_NE(online[1]["attention"].get<std::string>().find("kv k4 v4 per_head"), std::string::npos);
  EXPECT_EQ(j["config"]["kv"]["k_bits"], 4);
}

}  // namespace
}  // namespace slmq
