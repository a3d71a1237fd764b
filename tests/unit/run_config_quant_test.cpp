// The `quant:` block of run configs: parsed by parse_quant_section, recorded in to_json and so in
// the config hash.
#include <gtest/gtest.h>

#include "slmq/config/run_config.h"
#include "slmq/core/error.h"

namespace slmq {
namespace {

RunConfig parse(const std::string& yaml) { return parse_run_config(YAML::Load(yaml), "stem"); }

TEST(RunConfigQuant, ParsesTheBlockAndHashesIt) {
  const RunConfig plain = parse("model: {path: m}\n");
  EXPECT_FALSE(plain.quant.has_value());
  EXPECT_FALSE(plain.to_json().contains("quant"));

  const RunConfig q =
      parse("model: {path: m}\nquant: {method: rtn, scheme: w4a16, weight: {group_size: 64}}\n");
  ASSERT_TRUE(q.quant.has_value());
  EXPECT_EQ(q.quant->scheme.weight.bits, 4);
  EXPECT_EQ(q.quant->scheme.weight.group_size, 64);
  EXPECT_FALSE(q.quant->scheme.activation.has_value());
  EXPECT_EQ(q.to_json()["quant"]["weight"]["group_size"], 64);
  EXPECT_NE(q.hash(), plain.hash());

  const RunConfig g128 =
      parse("model: {path: m}\nquant: {method: rtn, scheme: w4a16, weight: {group_size: 128}}\n");
  EXPECT_NE(g128.hash(), q.hash());
}

TEST(RunConfigQuant, BadValuesNameTheKeyPath) {
  try {
    parse("model: {path: m}\nquant: {scheme: w4a16, weight: {bits: 12}}\n");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("quant.weight.bits"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace slmq
