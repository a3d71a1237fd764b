#include "support/smollm2_slice.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "slmq/io/json_file.h"
#include "support/run_cli.h"

namespace slmq::test {

namespace {
const std::filesystem::path kRoot = SLMQ_SOURCE_DIR;
}

std::string bundled_data_dir() { return (kRoot / "assets/data").string(); }

double smollm2_slice_perplexity(const TempDir& dir, const std::string& name,
                                const std::string& quant, int windows) {
  const auto config = dir.path() / (name + ".yaml");
  std::ofstream(config) << "name: " << name << "\n"
                        << "model: {path: "
                        << (kRoot / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf").string()
                        << ", device: cpu, dtype: float32}\n"
                        << (quant.empty() ? "" : "quant: " + quant + "\n")
                        << "ppl: {seqlen: 512, limit_windows: " << windows
                        << ", data_dir: " << bundled_data_dir() << "}\n";
  const auto out = dir.path() / "results";
  auto r = run_cli("run " + config.string() + " --out " + out.string());
  EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  const auto result = read_json_file(out / (name + ".json"));
  const double ppl = result.at("ppl").at("wiki_token_perplexity").at("ppl").get<double>();
  std::cout << "[smollm2-slice] " << name << ": wiki token ppl " << ppl << "\n";
  return ppl;
}

}  // namespace slmq::test
