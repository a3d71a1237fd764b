// slmquant's evaluator against lm-evaluation-harness 0.4.12 itself (HF backend, float32, CPU) on
// the same models, data and items: the golden files reference-data/lm_eval_model/<model>/<run>.json
// written by scripts/reference/gen_lm_eval_model.py hold every request lm-eval made with its
// loglikelihood, is_greedy or generation, and lm-eval's results dict.
//
// Asserted per run:
//  * the same requests (type, context, continuation / text / stop strings);
//  * per-request loglikelihood within 1e-3 (fp32; transformers and our Model agree to ~1e-5 per
//    logit, so a sum of a few dozen log-probabilities stays far below 1e-3). Rolling documents sum
//    thousands of tokens: within 1e-3 + 1e-6 * |LL| (float32 rounding grows with the sum);
//  * identical is_greedy, identical generations;
//  * identical decisions: our task scores lm-eval's responses and ours, and every document's
//    prediction, normalised prediction, extracted answers and per-item metrics must agree;
//  * aggregates within 1e-4 (perplexities: relative 1e-4).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "slmq/eval/evaluator.h"
#include "slmq/eval/model_language_model.h"
#include "slmq/eval/task.h"
#include "slmq/model/model_loader.h"
#include "slmq/model/model_tokenizer.h"
#include "support/temp_dir.h"

namespace slmq::eval {
namespace {

using nlohmann::json;
constexpr double kLoglikelihoodTolerance = 1e-3;
constexpr double kRollingRelativeTolerance = 1e-6;
constexpr double kAggregateTolerance = 1e-4;

// The tiny models' golden runs come from gen_lm_eval_model.py (default run); SmolLM2-135M's, about
// 15 min of lm-eval and 4 min of this test on one thread, from gen_lm_eval_smollm2_slow.py
// (scripts/test.sh --slow).
constexpr const char* kTinyGolden = "lm_eval_model";
constexpr const char* kSmolLM2Golden = "lm_eval_smollm2_slow";

// The runs listed in ROOT/index.json ({model_id: {model, runs: {run: file}}}).
std::vector<std::filesystem::path> golden_files(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> files;
  if (root.empty() || !std::filesystem::exists(root / "index.json")) return files;
  const json index = json::parse(std::ifstream(root / "index.json"));
  for (const auto& [model_id, entry] : index.items())
    for (const auto& [run, file] : entry.at("runs").items())
      files.push_back(root / file.get<std::string>());
  std::sort(files.begin(), files.end());
  return files;
}

// A golden file's folder is ROOT/<model_id>/.
std::filesystem::path root_of(const std::filesystem::path& file) {
  return file.parent_path().parent_path();
}

std::filesystem::path model_path(const json& model, const std::filesystem::path& root) {
  const std::filesystem::path rel = model.at("path").get<std::string>();
  const auto in_repo = std::filesystem::path(SLMQ_SOURCE_DIR) / rel;
  return std::filesystem::exists(in_repo) ? in_repo : root / rel;
}

// The run's data_dir (relative to the golden folder), else the default data.
std::filesystem::path data_dir(const json& ref, const std::filesystem::path& root) {
  if (ref.contains("data_dir") && ref["data_dir"].is_string())
    return root / ref["data_dir"].get<std::string>();
  const char* env = std::getenv("SLMQ_DATA_DIR");
  return env ? std::filesystem::path(env)
             : std::filesystem::path(SLMQ_SOURCE_DIR) / "assets" / "data";
}

// What identifies a request across the two implementations.
std::string request_key(const Request& r) {
  std::string key = request_type_name(r.type);
  key += '\x1f' + (r.context ? *r.context : std::string());
  if (r.type != RequestType::kGenerateUntil) key += '\x1f' + r.continuation;
  return key;
}

std::string golden_key(const json& g) {
  const std::string type = g.at("type");
  std::string key = type;
  if (type == "loglikelihood") {
    key += '\x1f' + g.at("context").get<std::string>() + '\x1f' +
           g.at("continuation").get<std::string>();
  } else if (type == "loglikelihood_rolling") {
    key += '\x1f' + std::string() + '\x1f' + g.at("text").get<std::string>();
  } else {
    key += '\x1f' + g.at("context").get<std::string>();
  }
  return key;
}

Response golden_response(const json& g) {
  Response r;
  if (g.contains("loglikelihood") && g["loglikelihood"].is_number())
    r.loglikelihood = g["loglikelihood"].get<double>();
  if (g.contains("is_greedy") && g["is_greedy"].is_boolean()) r.is_greedy = g["is_greedy"];
  if (g.contains("generation") && g["generation"].is_string()) r.generation = g["generation"];
  return r;
}

void compare_items(const TaskResult& ours, const TaskResult& theirs, const std::string& where) {
  ASSERT_EQ(ours.items.size(), theirs.items.size()) << where;
  for (size_t i = 0; i < ours.items.size(); ++i) {
    const ItemRecord &a = ours.items[i], &b = theirs.items[i];
    EXPECT_EQ(a.prediction, b.prediction) << where << " doc " << a.doc_index;
    EXPECT_EQ(a.prediction_norm, b.prediction_norm) << where << " doc " << a.doc_index;
    EXPECT_EQ(a.filtered, b.filtered) << where << " doc " << a.doc_index;
    for (const auto& [name, value] : b.metrics) {
      if (name == "words" || name == "bytes") continue;
      EXPECT_EQ(a.metrics.at(name), value) << where << " doc " << a.doc_index << " " << name;
    }
  }
  ASSERT_EQ(ours.children.size(), theirs.children.size()) << where;
  for (size_t c = 0; c < ours.children.size(); ++c)
    compare_items(ours.children[c], theirs.children[c], where + "/" + ours.children[c].name);
}

void compare_aggregates(const TaskResult& ours, const json& results, const std::string& where) {
  for (const auto& [name, metrics] : results.items()) {
    // A one-task run may carry lm-eval's custom task name (hellaswag_llamacpp: the llama.cpp
    // layout, which our hellaswag task reads itself).
    const TaskResult* r = ours.find(name);
    if (!r && results.size() == 1) r = &ours;
    ASSERT_NE(r, nullptr) << where << ": no result named " << name;
    for (const auto& [key, value] : metrics.items()) {
      if (!value.is_number() || key.find(',') == std::string::npos) continue;
      const std::string metric = key.substr(0, key.find(','));
      const std::string filter = key.substr(key.find(',') + 1);
      const bool is_stderr = metric.ends_with("_stderr");
      const MetricValue* m =
          r->metric(is_stderr ? metric.substr(0, metric.size() - 7) : metric, filter);
      ASSERT_NE(m, nullptr) << where << " " << name << " " << key;
      const double mine = is_stderr ? m->stderr.value_or(NAN) : m->value;
      const double want = value.get<double>();
      const double tol = metric.find("perplexity") != std::string::npos
                             ? kAggregateTolerance * std::abs(want)
                             : kAggregateTolerance;
      EXPECT_NEAR(mine, want, tol) << where << " " << name << " " << key;
    }
  }
}

// lm-eval's tokens for the request (recorded by the generator) against ours: pinpoints a
// tokenization or BOS difference before it shows as a loglikelihood difference.
void check_tokens(const LanguageModel& lm, const Request& r, const json& g) {
  auto ids = [](const json& a) { return a.get<std::vector<int64_t>>(); };
  if (r.type == RequestType::kLoglikelihood && g.contains("context_tokens") &&
      !r.context->empty()) {
    auto [ctx, cont] = split_context_continuation(*r.context, r.continuation);
    const auto ctx_tokens = encode_for_eval(lm, ctx, BosPolicy::kTokenizerDefault);
    auto whole = encode_for_eval(lm, ctx + cont, BosPolicy::kTokenizerDefault);
    EXPECT_EQ(ctx_tokens, ids(g["context_tokens"])) << "doc " << r.doc_index;
    EXPECT_EQ(std::vector<int64_t>(whole.begin() + std::min(whole.size(), ctx_tokens.size()),
                                   whole.end()),
              ids(g["continuation_tokens"]))
        << "doc " << r.doc_index;
  } else if (r.type == RequestType::kLoglikelihoodRolling && g.contains("tokens")) {
    EXPECT_EQ(encode_for_eval(lm, r.continuation, BosPolicy::kTokenizerDefault), ids(g["tokens"]))
        << "doc " << r.doc_index;
  } else if (r.type == RequestType::kGenerateUntil && g.contains("context_tokens")) {
    auto prompt = encode_for_eval(lm, *r.context, BosPolicy::kTokenizerDefault, true);
    const size_t keep = static_cast<size_t>(lm.max_length() - g.at("max_gen_toks").get<int64_t>());
    if (prompt.size() > keep) prompt.erase(prompt.begin(), prompt.end() - keep);
    EXPECT_EQ(prompt, ids(g["context_tokens"])) << "doc " << r.doc_index;
  }
}

void check_run(const std::filesystem::path& file) {
  SCOPED_TRACE(file.string());
  json ref = json::parse(std::ifstream(file));
  const auto root = root_of(file);
  const auto path = model_path(ref.at("model"), root);
  auto model = load_model(path, {});
  ModelLanguageModel lm(*model, load_model_tokenizer(path), ref.at("max_length").get<int64_t>());

  TaskOptions options;
  options.data_dir = data_dir(ref, root);
  if (ref.contains("num_fewshot") && ref["num_fewshot"].is_number())
    options.num_fewshot = ref["num_fewshot"].get<int>();
  if (ref.contains("limit") && ref["limit"].is_number()) options.limit = ref["limit"].get<size_t>();
  auto task = make_task(ref.at("task"), options);
  std::vector<Request> requests = task->requests();
  // lm-eval ran with --gen_kwargs (e.g. max_gen_toks 32 for GSM8K).
  if (ref.contains("gen_kwargs") && ref["gen_kwargs"].is_object()) {
    for (auto& r : requests)
      if (r.type == RequestType::kGenerateUntil && ref["gen_kwargs"].contains("max_gen_toks"))
        r.generation.max_gen_toks = ref["gen_kwargs"]["max_gen_toks"].get<int>();
  }
  // The special tokens lm-eval used.
  const json& tok = ref.at("tokenizer");
  EXPECT_EQ(lm.prefix_token(), tok.at("prefix_token_id").get<int64_t>());
  // transformers' GGUF tokenizer conversion names the BOS token as EOS too (integrations/ggml.py
  // reads proto.bos_token_id for both); we keep the file's EOS, so only HF folders compare.
  if (ref.at("model").at("kind") == "hf_folder")
    EXPECT_EQ(lm.eos_text(), tok.at("eot_text").get<std::string>());

  std::multimap<std::string, const json*> golden;
  for (const auto& g : ref.at("requests")) golden.emplace(golden_key(g), &g);
  ASSERT_EQ(golden.size(), requests.size()) << "request count differs from lm-eval's";
  std::vector<const json*> match(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    auto it = golden.find(request_key(requests[i]));
    ASSERT_NE(it, golden.end()) << "lm-eval made no request like ours #" << i << ": "
                                << request_key(requests[i]).substr(0, 200);
    match[i] = it->second;
    check_tokens(lm, requests[i], *it->second);
    if (golden.count(it->first) > 1) golden.erase(it);  // duplicates pair off in order
  }

  Evaluator evaluator(lm, {});
  std::vector<Response> ours = evaluator.run(requests), theirs;
  double max_ll_diff = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const Response want = golden_response(*match[i]);
    theirs.push_back(want);
    const double diff = std::abs(ours[i].loglikelihood - want.loglikelihood);
    max_ll_diff = std::max(max_ll_diff, diff);
    switch (requests[i].type) {
      case RequestType::kLoglikelihood:
        EXPECT_LE(diff, kLoglikelihoodTolerance) << "request " << i;
        EXPECT_EQ(ours[i].is_greedy, want.is_greedy) << "request " << i;
        break;
      case RequestType::kLoglikelihoodRolling:
        EXPECT_LE(diff, kLoglikelihoodTolerance +
                            kRollingRelativeTolerance * std::abs(want.loglikelihood))
            << "document " << requests[i].doc_index;
        break;
      case RequestType::kGenerateUntil:
        EXPECT_EQ(ours[i].generation, want.generation) << "doc " << requests[i].doc_index;
        break;
    }
  }
  std::cout << "[lm-eval model parity] " << file.parent_path().filename().string() << "/"
            << file.stem().string() << ": " << requests.size()
            << " requests, max |dLL| = " << max_ll_diff << "\n";
  const TaskResult mine = task->score(ours), reference = task->score(theirs);
  compare_items(mine, reference, task->name());
  compare_aggregates(mine, ref.at("results"), task->name());
}

// Every golden run under reference-data/NAME; a generator that exists but wrote nothing fails.
void check_golden_runs(const std::string& name, const std::string& generator) {
  const auto root = test::reference_dir(name);
  const auto files = root.empty() ? std::vector<std::filesystem::path>{} : golden_files(root);
  if (files.empty()) {
    const bool exists = std::filesystem::exists(std::filesystem::path(SLMQ_SOURCE_DIR) /
                                                "scripts/reference" / generator);
    ASSERT_FALSE(exists) << generator << " exists but wrote no golden files under "
                         << (root.empty() ? name : root.string())
                         << " (slow generators run with scripts/test.sh --slow)";
    GTEST_SKIP() << "no lm-eval golden files: scripts/reference/" << generator
                 << " is not in this checkout";
  }
  for (const auto& f : files) check_run(f);
}

TEST(LmEvalModelParity, EveryGoldenRunOfTheTinyModels) {
  check_golden_runs(kTinyGolden, "gen_lm_eval_model.py");
}

TEST(LmEvalModelParitySlow, EveryGoldenRunOfSmolLM2) {
  check_golden_runs(kSmolLM2Golden, "gen_lm_eval_smollm2_slow.py");
}

}  // namespace
}  // namespace slmq::eval
