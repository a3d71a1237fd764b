#include "slmq/score/run_record.h"

#include <gtest/gtest.h>

#include "slmq/core/error.h"

namespace slmq::score {
namespace {

using nlohmann::json;

json minimal() {
  return json::parse(R"({
    "schema_version": 1,
    "model": {"name": "Tiny-1M", "params": 1000000},
    "quant": {"method": "rtn", "w_bits": 4, "a_bits": 16},
    "eval": {"tasks": {
      "piqa": {"kind": "accuracy", "metric": "acc", "value": 0.5, "correct": [1, 0, 1, 0], "doc_ids": [0, 1, 2, 3]},
      "wikitext": {"kind": "perplexity", "metric": "word_perplexity", "value": 20.5}}},
    "profile": {"tokens_per_s": 100.0, "peak_memory_mib": 12.5},
    "quant_cost": {"wall_time_s": 3.0}
  })");
}

std::string error_of(const json& doc) {
  try {
    parse_run_record(doc, "runs/x.json");
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(RunRecord, ParsesMinimalDocumentWithDefaults) {
  RunRecord r = parse_run_record(minimal(), "x.json");
  EXPECT_EQ(r.model.name, "Tiny-1M");
  EXPECT_EQ(r.quant.label, "rtn W4A16");
  EXPECT_FALSE(r.quant.is_baseline());
  EXPECT_EQ(r.tasks.at("piqa").n, 4);
  EXPECT_EQ(r.tasks.at("wikitext").kind, TaskKind::kPerplexity);
  EXPECT_EQ(r.profile.memory_kind, "allocator");
  EXPECT_FALSE(r.profile.energy_j);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.unknown_keys.empty());
}

TEST(RunRecord, RoundTripsThroughToJson) {
  RunRecord a = parse_run_record(minimal(), "x.json");
  RunRecord b = parse_run_record(to_json(a), "y.json");
  EXPECT_EQ(to_json(a), to_json(b));
  EXPECT_EQ(b.tasks.at("piqa").correct, a.tasks.at("piqa").correct);
}

TEST(RunRecord, ErrorsNameTheFileAndTheKey) {
  auto doc = minimal();
  doc["eval"]["tasks"]["piqa"]["value"] = 53.2;  // a percentage where a fraction belongs
  EXPECT_NE(error_of(doc).find("runs/x.json: 'eval.tasks.piqa.value'"), std::string::npos)
      << error_of(doc);
  doc = minimal();
  doc["profile"]["tokens_per_s"] = "fast";
  EXPECT_NE(error_of(doc).find("'profile.tokens_per_s' must be a number"), std::string::npos)
      << error_of(doc);
  doc = minimal();
  doc.erase("model");
  EXPECT_NE(error_of(doc).find("'model' is required"), std::string::npos) << error_of(doc);
  doc = minimal();
  doc["schema_version"] = 2;
  EXPECT_NE(error_of(doc).find("'schema_version' is 2"), std::string::npos) << error_of(doc);
  doc = minimal();
  doc.erase("schema_version");
  EXPECT_NE(error_of(doc).find("not an slmquant result"), std::string::npos) << error_of(doc);
  doc = minimal();
  doc["eval"]["tasks"]["piqa"]["n"] = 5;
  EXPECT_NE(error_of(doc).find("has 4 items but n is 5"), std::string::npos) << error_of(doc);
  doc = minimal();
  doc["eval"]["tasks"]["piqa"]["correct"][0] = 2;
  EXPECT_NE(error_of(doc).find("only 0 and 1"), std::string::npos) << error_of(doc);
  doc = minimal();
  doc["eval"]["tasks"] = json::object();
  EXPECT_NE(error_of(doc).find("partial result"), std::string::npos) << error_of(doc);
}

TEST(RunRecord, FailedRunNeedsNoTasksAndUnknownKeysAreCollected) {
  auto doc = minimal();
  doc["status"] = "failed";
  doc["failed_reason"] = "out of memory";
  doc["eval"]["tasks"] = json::object();
  doc["profile"]["gpu_clock_mhz"] = 1400;
  doc["extra"] = true;
  RunRecord r = parse_run_record(doc, "x.json");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.failed_reason, "out of memory");
  EXPECT_EQ(r.unknown_keys, (std::vector<std::string>{"extra", "profile.gpu_clock_mhz"}));
}

}  // namespace
}  // namespace slmq::score
