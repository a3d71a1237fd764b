#include "slmq/config/run_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "slmq/core/error.h"
#include "slmq/pipeline/run_job.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

RunConfig parse(const std::string& yaml) { return parse_run_config(YAML::Load(yaml), "stem"); }

std::string config_error(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(RunConfig, ParsesAndFillsDefaults) {
  RunConfig c =
      parse("model: {path: m, dtype: bf16}\ngenerate: {prompt_ids: [1, 2], max_new_tokens: 4}\n");
  EXPECT_EQ(c.name, "stem");
  EXPECT_EQ(c.model.path, "m");
  EXPECT_EQ(c.model.dtype, "bfloat16");  // canonical spelling
  EXPECT_EQ(c.model.device, "auto");
  EXPECT_TRUE(c.generate.enabled);
  EXPECT_EQ(c.generate.prompt_ids, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(c.generate.max_new_tokens, 4);
  EXPECT_EQ(c.output.dir, "results");
}

TEST(RunConfig, UnknownKeyNamesPathAndNearestKey) {
  std::string msg = config_error("model: {path: m, dtyp: float32}\n");
  EXPECT_NE(msg.find("model.dtyp: unknown key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'model.dtype'"), std::string::npos) << msg;
  msg = config_error("modle: {path: m}\n");
  EXPECT_NE(msg.find("modle: unknown key (did you mean 'model'?)"), std::string::npos) << msg;
}

TEST(RunConfig, WrongTypesAndBadValuesNameTheKeyAndValue) {
  EXPECT_NE(config_error("model: {path: m}\ngenerate: {prompt_ids: [1], max_new_tokens: lots}\n")
                .find("generate.max_new_tokens: expected an integer, got 'lots'"),
            std::string::npos);
  EXPECT_NE(config_error("model: {path: m, dtype: float8}\n")
                .find("model.dtype: 'float8' is not a compute dtype"),
            std::string::npos);
  EXPECT_NE(
      config_error("model: {path: m, device: tpu}\n").find("model.device: 'tpu' is not one of"),
      std::string::npos);
  EXPECT_NE(config_error("model: [1, 2]\n").find("model: expected a mapping"), std::string::npos);
  EXPECT_NE(config_error("seed: 1\n").find("model: is required"), std::string::npos);
  EXPECT_NE(config_error("model: {path: m}\ngenerate: {prompt_ids: [1, x]}\n")
                .find("generate.prompt_ids: entry 1"),
            std::string::npos);
}

TEST(RunConfig, OverridesReplaceAndCreateKeys) {
  YAML::Node root = YAML::Load("model: {path: m}\n");
  apply_override(root, "model.dtype=float16");
  apply_override(root, "generate.prompt_ids=[5, 6]");
  apply_override(root, "seed=9");
  RunConfig c = parse_run_config(root, "x");
  EXPECT_EQ(c.model.dtype, "float16");
  EXPECT_EQ(c.generate.prompt_ids, (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(c.seed, 9);
  EXPECT_THROW(apply_override(root, "noequals"), ConfigError);
  EXPECT_THROW(apply_override(root, "model..dtype=x"), ConfigError);
  EXPECT_THROW(apply_override(root, "seed.inner=1"), ConfigError);  // seed is a scalar
}

TEST(RunConfig, LoadFileReportsFileAndHashIgnoresOutputDir) {
  test::TempDir dir;
  auto path = dir.path() / "exp.yaml";
  std::ofstream(path) << "model: {path: m}\noutput: {dir: a}\n";
  RunConfig a = load_run_config(path, {});
  RunConfig b = load_run_config(path, {"output.dir=b"});
  RunConfig c = load_run_config(path, {"seed=3"});
  EXPECT_EQ(a.name, "exp");
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a.hash(), c.hash());
  std::ofstream(path) << "model: {path: m, bogus: 1}\n";
  try {
    load_run_config(path, {});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos);
  }
  EXPECT_THROW(load_run_config(dir.path() / "missing.yaml", {}), ConfigError);
}

// Issue 21 defect 8: a repeated key was accepted, the later silently winning.
TEST(RunConfig, DuplicateKeysNameTheKeyPathAndBothLines) {
  test::TempDir dir;
  auto path = dir.path() / "exp.yaml";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"seed: 1\nmodel: {path: m}\nseed: 2\n", "key 'seed' appears twice (lines 1 and 3)"},
      {"model:\n  path: m\n  dtype: float32\n  dtype: bfloat16\n",
       "key 'model.dtype' appears twice (lines 3 and 4)"},
      {"model: {path: m}\neval:\n  tasks: [arc_easy]\n  limit: 5\n  limit: 10\n",
       "key 'eval.limit' appears twice (lines 4 and 5)"}};
  for (const auto& [yaml, want] : cases) {
    SCOPED_TRACE(yaml);
    std::ofstream(path) << yaml;
    try {
      load_run_config(path, {});
      ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  }
}

// Found by the run_config fuzz target (fuzz/regressions/run_config/): both ended in an internal
// error (exit 70) instead of a ConfigError naming the file and key.
TEST(RunConfig, TextThatIsNotUtf8IsAConfigErrorNamingTheKey) {
  // The result file's JSON holds UTF-8 only: hashing such a config threw nlohmann's type_error.
  const std::string msg = config_error("model: {path: m\xff}\n");
  EXPECT_NE(msg.find("model.path: 'm\\xff' is not valid UTF-8 text"), std::string::npos) << msg;
  const std::string list = config_error("model: {path: m}\neval: {tasks: [arc_easy, \xc3]}\n");
  EXPECT_NE(list.find("eval.tasks: '\\xc3' is not valid UTF-8 text"), std::string::npos) << list;
  EXPECT_EQ(parse("model: {path: caf\xc3\xa9}\n").model.path, "caf\xc3\xa9");  // UTF-8 passes
}

TEST(RunConfig, ADocumentThatIsNotAMappingIsAConfigErrorBeforeTheOverrides) {
  // apply_override indexed the root as a mapping: yaml-cpp's BadSubscript escaped.
  test::TempDir dir;
  auto path = dir.path() / "scalar.yaml";
  std::ofstream(path) << "just a line\n";
  try {
    load_run_config(path, {"model.path=m"});
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(
        std::string(e.what()).find(path.string() + "': expected a mapping of keys at the top"),
        std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace slmq

namespace slmq {
namespace {

TEST(RunConfigEval, ParsesListOrCommaStringAndValidates) {
  RunConfig c = parse("model: {path: m}\neval: {tasks: [arc_easy, mmlu], limit: 5, bos: never}\n");
  EXPECT_TRUE(c.eval.enabled);
  EXPECT_EQ(c.eval.tasks, (std::vector<std::string>{"arc_easy", "mmlu"}));
  EXPECT_EQ(c.eval.limit, 5);
  EXPECT_EQ(c.eval.num_fewshot, -1);
  EXPECT_EQ(c.eval.bos, "never");
  EXPECT_EQ(parse("model: {path: m}\neval: {tasks: 'piqa,gsm8k'}\n").eval.tasks,
            (std::vector<std::string>{"piqa", "gsm8k"}));
  EXPECT_FALSE(parse("model: {path: m}\n").eval.enabled);
  // Task names are the pipeline's to check (config never includes eval).
  const RunConfig unknown_task = parse("model: {path: m}\neval: {tasks: [arc_easy, mmmlu]}\n");
  try {
    check_run_config(unknown_task);
    ADD_FAILURE() << "check_run_config accepted the unknown task mmmlu";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("eval.tasks: unknown eval task 'mmmlu'; known tasks: "),
              std::string::npos)
        << e.what();
  }
  EXPECT_NE(config_error("model: {path: m}\neval: {limit: 3}\n").find("eval: needs 'tasks'"),
            std::string::npos);
  EXPECT_NE(config_error("model: {path: m}\neval: {tasks: [piqa], bos: sometimes}\n")
                .find("eval.bos: 'sometimes' is not one of default, always, never"),
            std::string::npos);
}

TEST(RunConfigEval, HashIgnoresSamplesAndBatchingButNotTheItems) {
  const std::string base = "model: {path: m}\neval: {tasks: [piqa]";
  const std::string h = parse(base + "}\n").hash();
  EXPECT_EQ(parse(base + ", log_samples: true, batch_tokens: 512}\n").hash(), h);
  EXPECT_NE(parse(base + ", limit: 10}\n").hash(), h);
  EXPECT_NE(parse("model: {path: m}\n").hash(), h);
  // What `slmquant eval` also takes: the stem-merge width changes speed only; max_length changes
  // the results. Neither is recorded unless set, so existing configs keep their hashes.
  EXPECT_EQ(parse(base + ", stem_merge_width: 0}\n").hash(), h);
  EXPECT_NE(parse(base + ", max_length: 256}\n").hash(), h);
  EXPECT_FALSE(parse(base + "}\n").to_json()["eval"].contains("max_length"));
  EXPECT_EQ(parse(base + ", max_length: 256}\n").eval.max_length, 256);
  EXPECT_NE(config_error(base + ", max_length: 1}\n").find("eval.max_length"), std::string::npos);
}

TEST(RunConfigPpl, ParsesDefaultsAndValidates) {
  RunConfig c = parse("model: {path: m}\nppl: {}\n");
  EXPECT_TRUE(c.ppl.enabled);
  EXPECT_EQ(c.ppl.seqlen, 2048);
  EXPECT_FALSE(c.ppl.kl);
  EXPECT_FALSE(parse("model: {path: m}\n").ppl.enabled);
  c = parse("model: {path: m}\nquant: {method: rtn, scheme: w8a8}\nppl: {seqlen: 512, kl: true}\n");
  EXPECT_TRUE(c.ppl.kl);
  EXPECT_EQ(c.ppl.kl_positions, "second-half");
  EXPECT_NE(
      config_error("model: {path: m}\nppl: {kl: true}\n").find("ppl.kl: needs a quant: block"),
      std::string::npos);
  EXPECT_NE(config_error("model: {path: m}\nppl: {seqlen: 1}\n").find("ppl.seqlen: must be"),
            std::string::npos);
  EXPECT_NE(config_error("model: {path: m}\nppl: {windows: 3}\n").find("ppl.windows"),
            std::string::npos);
  // The block is part of what identifies a run.
  EXPECT_NE(parse("model: {path: m}\nppl: {seqlen: 512}\n").hash(),
            parse("model: {path: m}\nppl: {seqlen: 1024}\n").hash());
  EXPECT_EQ(parse("model: {path: m}\n").hash(), parse("model: {path: m}\n").hash());
  // KL against another model (what `slmquant ppl --baseline` runs): kl without a quant block.
  c = parse("model: {path: m}\nppl: {baseline: b, baseline_dtype: bf16}\n");
  EXPECT_TRUE(c.ppl.kl);
  EXPECT_EQ(c.ppl.baseline, "b");
  EXPECT_EQ(c.ppl.baseline_dtype, "bfloat16");
  EXPECT_FALSE(parse("model: {path: m}\nppl: {}\n").to_json()["ppl"].contains("baseline"));
  EXPECT_NE(config_error("model: {path: m}\nppl: {baseline_dtype: bf16}\n")
                .find("ppl.baseline_dtype: needs baseline"),
            std::string::npos);
}

}  // namespace
}  // namespace slmq
