// Task files (configs/tasks/*.yaml) against lm-evaluation-harness 0.4.12 loading the same files,
// and the ARC-Easy file against the built-in arc_easy. Golden data: reference-data/task_files,
// written by scripts/reference/gen_task_files.py (lm-eval + its Jinja, the tiny random Llama of
// gen_lm_eval_model.py answering).
//
// Asserted per fixture run (cloze, partial-context with and without few-shot, generate-until with
// regex filters, rolling perplexity, CSV multiple choice with description and first_n few-shot):
//  * the same requests, as strings (context, continuation / stop strings, max_gen_toks);
//  * our task scoring lm-eval's responses gives lm-eval's per-item metrics and filtered answers
//    exactly (they are 0/1 decisions or copies of the loglikelihood), and its aggregates within
//    1e-9 relative (float64 sums in both); lm-eval's bootstrapped perplexity stderr is random
//    and not compared;
//  * our evaluator on the same model answers within 1e-3 per loglikelihood (fp32, a few dozen
//    tokens; the existing model-parity tests use the same bound) with identical greedy flags and
//    generations.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "slmq/core/error.h"
#include "slmq/eval/evaluator.h"
#include "slmq/eval/jinja_template.h"
#include "slmq/eval/model_language_model.h"
#include "slmq/eval/task.h"
#include "slmq/eval/task_file.h"
#include "slmq/eval/task_filters.h"
#include "slmq/model/model_loader.h"
#include "slmq/model/model_tokenizer.h"
#include "support/temp_dir.h"

namespace slmq::eval {
namespace {

using nlohmann::json;
const std::filesystem::path kSource = SLMQ_SOURCE_DIR;
constexpr double kLoglikelihoodTolerance = 1e-3;
constexpr double kAggregateRelative = 1e-9;

std::filesystem::path golden_root() {
  const auto root = test::reference_dir("task_files");
  if (root.empty() || !std::filesystem::exists(root / "index.json"))
    throw std::runtime_error(
        "no reference-data/task_files: run scripts/reference/gen_task_files.py");
  return root;
}

json read_json(const std::filesystem::path& p) { return json::parse(std::ifstream(p)); }

TEST(TaskFileJinja, RendersAsLmEvalsJinjaEnvironment) {
  const json cases = read_json(golden_root() / "jinja.json");
  ASSERT_GT(cases.size(), 30u);
  for (const auto& c : cases) {
    const std::string t = c.at("template");
    SCOPED_TRACE(t);
    JinjaTemplate tmpl(t, "case");
    if (c.contains("error")) {
      EXPECT_THROW(tmpl.render(c.at("doc"), "doc"), DataError);
    } else {
      EXPECT_EQ(tmpl.render(c.at("doc"), "doc"), c.at("output").get<std::string>());
    }
  }
}

TEST(TaskFileFilters, RegexAndTransformsMatchLmEval) {
  for (const auto& c : read_json(golden_root() / "filters.json")) {
    const json& f = c.at("filter");
    FilterStep step;
    step.function = f.at("function");
    if (f.contains("regex_pattern")) step.regex_pattern = f["regex_pattern"];
    if (f.contains("group_select")) step.group_select = f["group_select"];
    if (f.contains("fallback")) step.fallback = f["fallback"];
    const std::string response = c.at("response");
    SCOPED_TRACE(f.dump() + " on " + json(response).dump());
    const FilterSpec spec{"x", {step}};
    if (c.at("output").is_null()) {
      EXPECT_THROW(apply_filter(spec, response), DataError);
    } else {
      EXPECT_EQ(apply_filter(spec, response), c["output"].get<std::string>());
    }
  }
}

TEST(TaskFileFilters, ExactMatchMatchesLmEval) {
  for (const auto& c : read_json(golden_root() / "exact_match.json")) {
    MetricSpec m{"exact_match"};
    const json& o = c.at("options");
    m.ignore_case = o.value("ignore_case", false);
    m.ignore_punctuation = o.value("ignore_punctuation", false);
    m.ignore_numbers = o.value("ignore_numbers", false);
    m.regexes_to_ignore = o.value("regexes_to_ignore", std::vector<std::string>{});
    EXPECT_EQ(exact_match(m, c.at("prediction"), c.at("reference")), c.at("value").get<double>())
        << c.dump();
  }
}

std::string request_key(const Request& r) {
  std::string key = std::string(request_type_name(r.type)) + '\x1f' + std::to_string(r.doc_index);
  if (r.type == RequestType::kLoglikelihoodRolling) return key + '\x1f' + r.continuation;
  key += '\x1f' + *r.context;
  if (r.type == RequestType::kLoglikelihood) return key + '\x1f' + r.continuation;
  for (const auto& u : r.generation.until) key += '\x1f' + u;
  return key + '\x1f' + std::to_string(r.generation.max_gen_toks);
}

std::string golden_key(const json& g) {
  const std::string type = g.at("type");
  std::string key = type + '\x1f' + std::to_string(g.at("doc_index").get<size_t>());
  if (type == "loglikelihood_rolling") return key + '\x1f' + g.at("text").get<std::string>();
  key += '\x1f' + g.at("context").get<std::string>();
  if (type == "loglikelihood") return key + '\x1f' + g.at("continuation").get<std::string>();
  for (const auto& u : g.at("until")) key += '\x1f' + u.get<std::string>();
  return key + '\x1f' + std::to_string(g.at("max_gen_toks").get<int>());
}

Response golden_response(const json& g) {
  Response r;
  if (g.contains("loglikelihood")) r.loglikelihood = g["loglikelihood"].get<double>();
  if (g.contains("is_greedy")) r.is_greedy = g["is_greedy"].get<bool>();
  if (g.contains("generation")) r.generation = g["generation"].get<std::string>();
  return r;
}

// lm-eval's per-doc metrics ("acc,none": 1.0; rolling: "word_perplexity,none": [ll, words]).
void compare_items(const TaskResult& ours, const json& samples) {
  ASSERT_EQ(ours.items.size(), samples.size());
  for (const auto& s : samples) {
    const ItemRecord& item = ours.items.at(s.at("doc_id").get<size_t>());
    SCOPED_TRACE("doc " + std::to_string(item.doc_index));
    for (const auto& [key, value] : s.at("metrics").items()) {
      const std::string metric = key.substr(0, key.find(','));
      if (value.is_array()) {  // rolling: (loglikelihood, words or bytes)
        EXPECT_EQ(item.metrics.at(metric == "word_perplexity" ? "words" : "bytes"),
                  value[1].get<double>())
            << key;
      } else if (item.metrics.count(key)) {
        EXPECT_EQ(item.metrics.at(key), value.get<double>()) << key;
      } else {
        EXPECT_EQ(item.metrics.at(metric), value.get<double>()) << key;
      }
    }
    if (!item.generation.empty() || !item.filtered.empty()) {
      // One filtered response per request: [value].
      for (const auto& [filter, value] : s.at("filtered_resps").items())
        EXPECT_EQ(item.filtered.at(filter),
                  (value.is_array() ? value[0] : value).get<std::string>())
            << filter;
    }
  }
}

void compare_aggregates(const TaskResult& ours, const json& results) {
  for (const auto& [key, value] : results.items()) {
    if (!value.is_number() || key.find(',') == std::string::npos) continue;
    std::string metric = key.substr(0, key.find(','));
    const std::string filter = key.substr(key.find(',') + 1);
    const bool is_stderr = metric.ends_with("_stderr");
    if (is_stderr) metric.resize(metric.size() - 7);
    if (is_stderr && metric == "perplexity") continue;  // bootstrap (random) in lm-eval
    const MetricValue* m = ours.metric(metric, filter);
    ASSERT_NE(m, nullptr) << key;
    ASSERT_TRUE(!is_stderr || m->stderr) << key;
    const double mine = is_stderr ? *m->stderr : m->value, want = value.get<double>();
    EXPECT_NEAR(mine, want, kAggregateRelative * std::max(1.0, std::abs(want))) << key;
  }
}

struct TinyModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<ModelLanguageModel> lm;
};

TinyModel load_tiny(const std::filesystem::path& path) {
  TinyModel t;
  t.model = load_model(path, {});
  // max_length: the tiny model's max_position_embeddings (256), as HFLM derives it.
  t.lm = std::make_unique<ModelLanguageModel>(*t.model, load_model_tokenizer(path), 256);
  return t;
}

TEST(TaskFileParity, FixturesMatchLmEvalOnTheSameFiles) {
  const auto root = golden_root();
  const json index = read_json(root / "index.json");
  const TinyModel tiny = load_tiny(root / index.at("model").get<std::string>());
  ASSERT_GE(index.at("runs").size(), 7u);
  for (const auto& [run, file] : index.at("runs").items()) {
    SCOPED_TRACE(run);
    const json ref = read_json(root / file.get<std::string>());
    TaskOptions options;
    options.num_fewshot = ref.at("num_fewshot").get<int>();
    const auto task =
        make_task((kSource / ref.at("task_file").get<std::string>()).string(), options);
    const auto& requests = task->requests();
    std::map<std::string, const json*> golden;
    for (const auto& g : ref.at("requests")) golden.emplace(golden_key(g), &g);
    ASSERT_EQ(golden.size(), requests.size()) << "request count differs from lm-eval's";
    std::vector<Response> theirs;
    for (const auto& r : requests) {
      const auto it = golden.find(request_key(r));
      ASSERT_NE(it, golden.end()) << "lm-eval made no request like " << request_key(r);
      theirs.push_back(golden_response(*it->second));
    }
    const TaskResult scored = task->score(theirs);
    compare_items(scored, ref.at("samples"));
    compare_aggregates(scored, ref.at("results"));

    Evaluator evaluator(*tiny.lm, {});
    const auto ours = evaluator.run(requests);
    for (size_t i = 0; i < requests.size(); ++i) {
      if (requests[i].type == RequestType::kGenerateUntil) {
        EXPECT_EQ(ours[i].generation, theirs[i].generation) << "request " << i;
      } else {
        EXPECT_NEAR(ours[i].loglikelihood, theirs[i].loglikelihood, kLoglikelihoodTolerance)
            << "request " << i;
        if (requests[i].type == RequestType::kLoglikelihood)
          EXPECT_EQ(ours[i].is_greedy, theirs[i].is_greedy) << "request " << i;
      }
    }
  }
}

// The ARC-Easy file against the built-in task: identical requests and per-item results (the
// tiny model answering), zero- and three-shot.
TEST(TaskFileArc, FileGivesTheBuiltinPerItemResults) {
  const auto root = golden_root();
  const TinyModel tiny =
      load_tiny(root / read_json(root / "index.json").at("model").get<std::string>());
  for (int k : {0, 3}) {
    SCOPED_TRACE("num_fewshot " + std::to_string(k));
    TaskOptions options;
    options.data_dir = kSource / "assets" / "data";
    options.limit = 12;
    options.num_fewshot = k;
    const auto builtin = make_task("arc_easy", options);
    const auto file = make_task((kSource / "configs/tasks/arc_easy_file.yaml").string(), options);
    ASSERT_EQ(file->requests().size(), builtin->requests().size());
    for (size_t i = 0; i < file->requests().size(); ++i) {
      const Request &a = file->requests()[i], &b = builtin->requests()[i];
      ASSERT_EQ(*a.context, *b.context) << "request " << i;
      ASSERT_EQ(a.continuation, b.continuation) << "request " << i;
      ASSERT_EQ(a.doc_index, b.doc_index);
    }
    Evaluator evaluator(*tiny.lm, {});
    const auto responses = evaluator.run(builtin->requests());
    const TaskResult x = file->score(responses), y = builtin->score(responses);
    ASSERT_EQ(x.items.size(), y.items.size());
    for (size_t d = 0; d < x.items.size(); ++d) {
      EXPECT_EQ(x.items[d].prediction, y.items[d].prediction) << "doc " << d;
      EXPECT_EQ(x.items[d].prediction_norm, y.items[d].prediction_norm) << "doc " << d;
      EXPECT_EQ(x.items[d].gold, y.items[d].gold) << "doc " << d;
      EXPECT_EQ(x.items[d].metrics, y.items[d].metrics) << "doc " << d;
    }
    EXPECT_EQ(x.metric("acc")->value, y.metric("acc")->value);
    EXPECT_EQ(x.metric("acc_norm")->value, y.metric("acc_norm")->value);
  }
}

}  // namespace
}  // namespace slmq::eval
