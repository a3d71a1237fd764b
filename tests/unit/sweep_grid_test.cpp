// Grid files (sweep/grid.h) and cell selection (sweep/select.h): expansion order, zip groups,
// exclude rules, ids, invalid cells, shards and --only. The expected cells are written out by hand
// from docs/sweeps.md's rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "slmq/core/error.h"
#include "slmq/sweep/grid.h"
#include "slmq/sweep/select.h"
#include "slmq/sweep/workers.h"
#include "support/temp_dir.h"

namespace slmq::sweep {
namespace {

std::filesystem::path write(const test::TempDir& dir, const std::string& name,
                            const std::string& text) {
  const auto path = dir.path() / name;
  std::ofstream(path) << text;
  return path;
}

std::vector<std::string> ids(const std::vector<Cell>& cells) {
  std::vector<std::string> out;
  for (const auto& c : cells) out.push_back(c.id);
  return out;
}

const char* kBase =
    "base:\n"
    "  model: {path: models/m.gguf, name: m, device: cpu}\n"
    "  quant: {method: rtn, scheme: w8a8}\n"
    "  output: {dir: res}\n";

TEST(SweepGrid, ProductZipExcludeAndIds) {
  test::TempDir dir;
  const auto path = write(dir, "g.yaml",
                          std::string(kBase) +
                              "axes:\n"
                              "  quant.weight.group_size: [32, 64]\n"
                              "zip:\n"
                              "  - {quant.method: [rtn, smoothquant, awq], quant.scheme: [w4a16, "
                              "w4a8, w4a16]}\n"
                              "exclude:\n"
                              "  - {quant.method: awq, quant.weight.group_size: [64, 128]}\n"
                              "labels: {quant.weight.group_size: g}\n");
  const Grid grid = load_grid(path, {});
  EXPECT_EQ(grid.name, "g");
  const auto cells = expand_grid(grid);
  // First axis slowest; awq at group 64 excluded.
  EXPECT_EQ(ids(cells), (std::vector<std::string>{"m/rtn-w4a16-g32", "m/smoothquant-w4a8-g32",
                                                  "m/awq-w4a16-g32", "m/rtn-w4a16-g64",
                                                  "m/smoothquant-w4a8-g64"}));
  for (const auto& c : cells) {
    ASSERT_TRUE(c.config) << c.id << ": " << c.config_error;
    EXPECT_EQ("m/" + c.config->name, c.id);
    EXPECT_EQ(c.hash, c.config->hash());
  }
  EXPECT_EQ(cells[1].config->quant->method, "smoothquant");
  EXPECT_EQ(cells[4].config->quant->scheme.weight.group_size, 64);
  // The id is the run name: the result goes to <output.dir>/<id>.json.
  EXPECT_EQ(cells[0].config->output.dir, "res/m");
  EXPECT_EQ(expand_grid(grid, "elsewhere")[0].config->output.dir, "elsewhere/m");
  // Expansion is deterministic: the same hashes every time.
  EXPECT_EQ(expand_grid(grid)[3].hash, cells[3].hash);
}

TEST(SweepGrid, NullRemovesAKeyAndTheBlockItEmpties) {
  test::TempDir dir;
  const auto path = write(dir, "fp.yaml",
                          std::string(kBase) +
                              "zip:\n"
                              "  - {quant.method: [null, rtn], quant.scheme: [null, w4a16]}\n"
                              "axes:\n"
                              "  model.dtype: [float32, bfloat16]\n");
  const auto cells = expand_grid(load_grid(path, {}));
  // The zip group is declared after axes:, but axes come first in the product.
  // A varying dtype shows as fp32 / bf16 / fp16.
  EXPECT_EQ(ids(cells),
            (std::vector<std::string>{"m/fp32", "m/rtn-w4a16-fp32", "m/bf16", "m/rtn-w4a16-bf16"}));
  ASSERT_TRUE(cells[0].config);
  EXPECT_FALSE(cells[0].config->quant.has_value());
  EXPECT_FALSE(cells[0].doc["quant"]);
}

TEST(SweepGrid, WholeBlockValuesAndSetOverridesOnTheBase) {
  test::TempDir dir;
  const auto path =
      write(dir, "b.yaml",
            "base:\n  model: {path: x/tiny, device: cpu}\n"
            "axes:\n"
            "  quant: [null, {method: gptq, scheme: w4a16, gptq: {act_order: true}}]\n");
  const auto cells = expand_grid(load_grid(path, {"model.name=tiny2", "seed=3"}));
  EXPECT_EQ(ids(cells), (std::vector<std::string>{"tiny2/fp32", "tiny2/gptq-w4a16"}));
  EXPECT_EQ(cells[1].config->seed, 3);
  // Without a name the model part of the id is the path's stem.
  EXPECT_EQ(ids(expand_grid(load_grid(path, {})))[0], "tiny/fp32");
}

TEST(SweepGrid, AnInvalidCellIsACellWithItsError) {
  test::TempDir dir;
  const auto path =
      write(dir, "bad.yaml", std::string(kBase) + "axes:\n  quant.scheme: [w8a8, w3a99]\n");
  const auto cells = expand_grid(load_grid(path, {}));
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_TRUE(cells[0].config);
  EXPECT_FALSE(cells[1].config);
  EXPECT_NE(cells[1].config_error.find("quant."), std::string::npos) << cells[1].config_error;
  EXPECT_EQ(cells[1].hash.rfind("invalid-", 0), 0u);
  EXPECT_EQ(cells[1].id, "m/rtn-w3a99");
}

TEST(SweepGrid, FileErrorsNameTheKey) {
  test::TempDir dir;
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    const auto path = write(dir, "e.yaml", text);
    try {
      expand_grid(load_grid(path, {}));
      ADD_FAILURE() << "no error for: " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(std::string(kBase) + "axis: {}\n", "axis");
  expect_error(std::string(kBase) + "axes: {quant.scheme: w8a8}\n", "axes.quant.scheme");
  expect_error(std::string(kBase) + "zip: [{quant.method: [rtn], quant.scheme: [w8a8, w4a8]}]\n",
               "zip[0]");
  expect_error("axes: {seed: [1]}\n", "base");
  // Two configs, one id: the axis the id does not show must get a label.
  expect_error(std::string(kBase) +
                   "axes: {quant: [{method: rtn, scheme: w8a8}, {method: rtn, "
                   "scheme: w8a8, quantize_lm_head: true}]}\n",
               "m/rtn-w8a8");
}

TEST(SweepGrid, SetCellChangesTheCellsThatHaveTheKeyAndANullLabelHidesAKey) {
  test::TempDir dir;
  const auto path =
      write(dir, "c.yaml",
            "base:\n  model: {path: m.gguf}\n  ppl: {seqlen: 2048}\n"
            "zip:\n"
            "  - quant: [null, {method: rtn, scheme: w8a8},\n"
            "            {method: gptq, scheme: w4a16, calibration: {nsamples: 128}}]\n"
            "    ppl.kl: [false, true, true]\n"
            "labels: {ppl.kl: null}\n");
  const auto cells = expand_grid(load_grid(path, {}, {"quant.calibration.nsamples=4"}));
  EXPECT_EQ(ids(cells), (std::vector<std::string>{"m/fp32", "m/rtn-w8a8", "m/gptq-w4a16"}));
  for (const auto& c : cells) ASSERT_TRUE(c.config) << c.id << ": " << c.config_error;
  EXPECT_FALSE(cells[0].config->quant);
  EXPECT_FALSE(cells[0].config->ppl.kl);
  EXPECT_TRUE(cells[2].config->ppl.kl);
  EXPECT_EQ(cells[2].config->quant->calibration.nsamples, 4);
  // Without the override: the grid's 128, and another hash.
  const auto plain = expand_grid(load_grid(path, {}));
  EXPECT_EQ(plain[2].config->quant->calibration.nsamples, 128);
  EXPECT_NE(plain[2].hash, cells[2].hash);
  EXPECT_EQ(plain[1].hash, cells[1].hash);  // rtn has no calibration: unchanged
  EXPECT_THROW(expand_grid(load_grid(path, {}, {"quant.gptq.block_size=64"})), ConfigError);
  EXPECT_THROW(expand_grid(load_grid(path, {}, {"no_equals"})), ConfigError);
}

std::vector<Cell> many_cells(const test::TempDir& dir) {
  const auto path = write(dir, "many.yaml",
                          std::string(kBase) +
                              "axes:\n  seed: [0, 1, 2, 3, 4, 5, 6]\n"
                              "  quant.scheme: [w8a8, w4a8, w4a16]\n");
  return expand_grid(load_grid(path, {}));
}

TEST(SweepSelect, ShardsAreDisjointBalancedAndCoverTheGrid) {
  test::TempDir dir;
  const auto cells = many_cells(dir);
  ASSERT_EQ(cells.size(), 21u);
  for (int n : {1, 2, 4, 21, 25}) {
    std::multiset<std::string> seen;
    size_t smallest = cells.size(), largest = 0;
    for (int i = 0; i < n; ++i) {
      const auto part = select_part(cells, {i, n});
      for (const auto& c : part) seen.insert(c.id);
      smallest = std::min(smallest, part.size());
      largest = std::max(largest, part.size());
      // Grid order within a shard.
      for (size_t k = 1; k < part.size(); ++k) {
        auto pos = [&](const Cell& c) {
          return std::find_if(cells.begin(), cells.end(),
                              [&](const Cell& x) { return x.id == c.id; }) -
                 cells.begin();
        };
        EXPECT_LT(pos(part[k - 1]), pos(part[k]));
      }
    }
    EXPECT_EQ(seen.size(), cells.size()) << n;  // union, counted with multiplicity: disjoint
    for (const auto& c : cells) EXPECT_EQ(seen.count(c.id), 1u) << n << " " << c.id;
    EXPECT_LE(largest - smallest, 1u) << n;
  }
  // Membership depends on the hashes, not on the order the grid lists the cells in.
  std::vector<Cell> reversed(cells.rbegin(), cells.rend());
  auto id_set = [](const std::vector<Cell>& part) {
    const auto v = ids(part);
    return std::set<std::string>(v.begin(), v.end());
  };
  EXPECT_EQ(id_set(select_part(reversed, {1, 4})), id_set(select_part(cells, {1, 4})));
}

TEST(SweepSelect, PartsAndPatterns) {
  EXPECT_EQ(parse_part("2/5", "--shard").index, 2);
  EXPECT_EQ(parse_part("2/5", "--shard").count, 5);
  for (const char* bad : {"5/5", "-1/2", "1", "a/b", "1/0", "1/2/3", "1/2x"})
    EXPECT_THROW(parse_part(bad, "--shard"), ConfigError) << bad;
  test::TempDir dir;
  const auto cells = many_cells(dir);
  EXPECT_EQ(select_only(cells, {}).size(), 21u);
  EXPECT_EQ(select_only(cells, {"w4a16"}).size(), 7u);             // substring
  EXPECT_EQ(select_only(cells, {"m/rtn-w4a8-seed?"}).size(), 7u);  // glob over the id
  EXPECT_EQ(select_only(cells, {"*-seed1", "*-seed2"}).size(), 6u);
  EXPECT_EQ(select_only(cells, {"nothing*"}).size(), 0u);
}

TEST(SweepWorkers, DeviceListsAreValidated) {
  const auto two = parse_devices("cuda:0,cuda:1", 2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].cuda_index, 1);
  EXPECT_EQ(parse_devices("cpu,cpu", 0).size(), 2u);
  for (const char* bad :
       {"", "gpu0", "cuda", "cuda:", "cuda:-1", "cuda:0,,cuda:1", "cuda:0,cuda:0", "cuda:1x"})
    EXPECT_THROW(parse_devices(bad, 4), ConfigError) << bad;
  EXPECT_THROW(parse_devices("cuda:0", 0), UnsupportedError);
  EXPECT_THROW(parse_devices("cuda:0,cuda:2", 2), UnsupportedError);
  EXPECT_EQ(sweep_exit_status(0), 0);
  EXPECT_EQ(sweep_exit_status(3), 103);
  EXPECT_EQ(sweep_exit_status(1000), 255);
}

}  // namespace
}  // namespace slmq::sweep
