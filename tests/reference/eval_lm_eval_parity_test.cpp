// Our tasks against lm-eval 0.4.12's own Task objects (scripts/reference/gen_lm_eval_requests.py):
// every request string must be identical, and the same synthetic responses must give identical
// per-doc metrics and aggregates within 1e-9 (the same float64 formulas, summed in the same order).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "slmq/eval/result_json.h"
#include "slmq/eval/task.h"
#include "support/temp_dir.h"

namespace slmq::eval {
namespace {

using nlohmann::json;
constexpr double kAggregateTolerance = 1e-9;

std::filesystem::path data_dir() {
  const char* env = std::getenv("SLMQ_DATA_DIR");
  return env ? std::filesystem::path(env)
             : std::filesystem::path(SLMQ_SOURCE_DIR) / "assets" / "data";
}

json load_reference(const std::string& run) {
  std::ifstream in(test::reference_dir("lm_eval_requests") / (run + ".json"));
  return json::parse(in);
}

struct ParityCase {
  std::string run;   // reference file
  std::string task;  // our task name
  std::optional<int> fewshot;
  std::optional<size_t> limit;
  bool hf_data = false;  // read the HF-schema export written by the generator
};

std::string case_name(const testing::TestParamInfo<ParityCase>& info) { return info.param.run; }
void PrintTo(const ParityCase& c, std::ostream* os) { *os << c.run; }

// The lm-eval samples of one run, keyed by (task name, doc id); gsm8k has one sample per filter.
struct Reference {
  json doc;
  std::map<std::pair<std::string, std::string>, json>
      by_pair;  // (context, continuation) -> response
  size_t request_count = 0;
};

Reference index_reference(const json& ref) {
  Reference r{ref, {}, 0};
  for (const auto& [task, samples] : ref["samples"].items()) {
    for (const auto& s : samples) {
      if (s.contains("filter") && s["filter"].is_string() && s["filter"] != "none" &&
          s["filter"] != "strict-match")
        continue;
      for (size_t i = 0; i < s["arguments"].size(); ++i) {
        const auto& args = s["arguments"][i];
        const std::string ctx = args[0].get<std::string>();
        const std::string cont =
            args.size() > 1 && args[1].is_string() ? args[1].get<std::string>() : "";
        r.by_pair[{ctx, cont}] = s["resps"][i][0];
        ++r.request_count;
      }
    }
  }
  return r;
}

Response to_response(const json& resp, RequestType type) {
  Response out;
  if (type == RequestType::kGenerateUntil) {
    out.generation = resp.get<std::string>();
  } else if (resp.is_array()) {
    out.loglikelihood = resp[0].get<double>();
    out.is_greedy = resp[1].get<bool>();
  } else {
    out.loglikelihood = resp.get<double>();
  }
  return out;
}

// The lm-eval key of a request: rolling requests have the text as their only argument.
std::pair<std::string, std::string> request_key(const Request& r) {
  if (r.type == RequestType::kLoglikelihoodRolling) return {r.continuation, ""};
  if (r.type == RequestType::kGenerateUntil) return {*r.context, ""};
  return {*r.context, r.continuation};
}

void expect_metric(const TaskResult& ours, const std::string& key, const json& want) {
  const auto comma = key.find(',');
  std::string name = key.substr(0, comma);
  const std::string filter = key.substr(comma + 1);
  const bool is_stderr = name.size() > 7 && name.compare(name.size() - 7, 7, "_stderr") == 0;
  if (is_stderr) name.resize(name.size() - 7);
  const MetricValue* m = ours.metric(name, filter);
  ASSERT_NE(m, nullptr) << ours.name << " lacks " << key;
  if (!is_stderr) {
    EXPECT_NEAR(m->value, want.get<double>(), kAggregateTolerance) << ours.name << " " << key;
  } else if (want.is_string()) {
    EXPECT_FALSE(m->stderr.has_value()) << ours.name << " " << key << " should be N/A";
  } else {
    ASSERT_TRUE(m->stderr.has_value()) << ours.name << " " << key;
    EXPECT_NEAR(*m->stderr, want.get<double>(), kAggregateTolerance) << ours.name << " " << key;
  }
}

class LmEvalParity : public testing::TestWithParam<ParityCase> {};

TEST_P(LmEvalParity, RequestsAndScoresMatch) {
  const ParityCase& c = GetParam();
  const json ref = load_reference(c.run);
  TaskOptions options;
  options.data_dir = c.hf_data ? test::reference_dir("lm_eval_requests") / "hf_data" : data_dir();
  options.num_fewshot = c.fewshot;
  options.limit = c.limit;
  auto task = make_task(c.task, options);
  const Reference reference = index_reference(ref);

  // Every request lm-eval built exists among ours with the identical strings, and no others.
  const auto& requests = task->requests();
  ASSERT_EQ(requests.size(), reference.request_count);
  std::vector<Response> responses;
  for (const auto& r : requests) {
    const auto it = reference.by_pair.find(request_key(r));
    ASSERT_NE(it, reference.by_pair.end())
        << "request not built by lm-eval: doc " << r.doc_index << " choice " << r.choice_index
        << "\ncontext: " << *r.context << "\ncontinuation: " << r.continuation;
    responses.push_back(to_response(it->second, r.type));
  }
  const TaskResult result = task->score(responses);

  // Per doc: prompt, continuations in order, stop strings and per-doc metrics.
  for (const auto& [name, samples] : ref["samples"].items()) {
    const TaskResult* leaf = result.find(name == "hellaswag_llamacpp" ? "hellaswag" : name);
    ASSERT_NE(leaf, nullptr) << name;
    for (const auto& s : samples) {
      const size_t doc = s["doc_id"].get<size_t>();
      ASSERT_LT(doc, leaf->items.size()) << name;
      const ItemRecord& item = leaf->items[doc];
      const std::string filter = s.value("filter", "none");
      for (const auto& [metric, value] : s["metrics"].items()) {
        if (value.is_array()) {
          // wikitext: (loglikelihood, words or bytes of the original page).
          EXPECT_EQ(item.loglikelihoods.at(0), value[0].get<double>()) << "doc " << doc;
          const std::string count = metric == "word_perplexity" ? "words" : "bytes";
          EXPECT_EQ(item.metrics.at(count), value[1].get<double>())
              << "doc " << doc << " " << metric;
          continue;
        }
        const std::string key = filter == "none" ? metric : metric + "," + filter;
        ASSERT_TRUE(item.metrics.count(key)) << name << " doc " << doc << " lacks " << key;
        EXPECT_EQ(item.metrics.at(key), value.get<double>())
            << name << " doc " << doc << " " << key;
      }
      const auto& args = s["arguments"];
      if (task->request_type() == RequestType::kLoglikelihood) {
        EXPECT_EQ(item.prompt, args[0][0].get<std::string>()) << name << " doc " << doc;
        ASSERT_EQ(item.targets.size(), args.size());
        for (size_t i = 0; i < args.size(); ++i)
          EXPECT_EQ(item.targets[i], args[i][1].get<std::string>());
      } else if (task->request_type() == RequestType::kGenerateUntil) {
        EXPECT_EQ(item.prompt, args[0][0].get<std::string>());
        EXPECT_EQ(item.targets, args[0][1]["until"].get<std::vector<std::string>>());
        EXPECT_EQ(item.filtered.at(filter), s["filtered_resps"][0].get<std::string>())
            << "doc " << doc << " " << filter;
      }
    }
  }

  // Aggregates of every task and group lm-eval reports.
  for (const auto& [name, metrics] : ref["results"].items()) {
    const TaskResult* ours = result.find(name == "hellaswag_llamacpp" ? "hellaswag" : name);
    ASSERT_NE(ours, nullptr) << "no result for " << name;
    EXPECT_EQ(ours->num_samples, metrics["sample_len"].get<size_t>()) << name;
    const json ours_json = result_to_json(*ours)["lm_eval"];
    for (const auto& [key, value] : metrics.items()) {
      if (key.find(',') == std::string::npos || key == "sample_count") continue;
      expect_metric(*ours, key, value);
      // The lm-eval-style keys of our JSON carry the same names, and "N/A" where lm-eval has it.
      ASSERT_TRUE(ours_json.contains(key)) << name << " JSON lacks " << key;
      EXPECT_EQ(ours_json[key].is_string(), value.is_string()) << name << " " << key;
    }
  }
}

// Without --limit every task loads the whole split: as many docs as lm-eval counted
// ("original" in its n-samples) from the same files.
TEST(EvalFullData, EveryTaskLoadsAsManyDocsAsLmEval) {
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"arc_easy", "arc_easy"},           {"arc_challenge", "arc_challenge"}, {"piqa", "piqa"},
      {"mmlu", "mmlu_0shot_1"},           {"wikitext", "wikitext"},           {"gsm8k", "gsm8k"},
      {"hellaswag", "hellaswag_llamacpp"}};
  for (const auto& [task_name, run] : runs) {
    size_t original = 0;
    const json counts = load_reference(run)["n_samples"];
    for (const auto& [name, c] : counts.items()) original += c["original"].get<size_t>();
    TaskOptions options;
    options.data_dir = data_dir();
    EXPECT_EQ(make_task(task_name, options)->num_docs(), original) << task_name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Eval, LmEvalParity,
    testing::Values(ParityCase{"arc_easy", "arc_easy", 0, 50},
                    ParityCase{"arc_easy_3shot", "arc_easy", 3, 10},
                    ParityCase{"arc_challenge", "arc_challenge", 0, 130},
                    ParityCase{"piqa", "piqa", 0, 50}, ParityCase{"mmlu_5shot", "mmlu", 5, 2},
                    ParityCase{"mmlu_0shot_101", "mmlu", 0, 101},
                    ParityCase{"mmlu_0shot_1", "mmlu", 0, 1},
                    ParityCase{"gsm8k_full", "gsm8k", 5, std::nullopt},
                    ParityCase{"wikitext", "wikitext", 0, 3}, ParityCase{"gsm8k", "gsm8k", 5, 5},
                    ParityCase{"hellaswag_raw", "hellaswag", 0, std::nullopt, true},
                    ParityCase{"hellaswag_raw_2shot", "hellaswag", 2, std::nullopt, true},
                    ParityCase{"hellaswag_llamacpp", "hellaswag", 0, 50}),
    case_name);

}  // namespace
}  // namespace slmq::eval
