#include "slmq/eval/result_json.h"

namespace slmq::eval {

nlohmann::json result_to_json(const TaskResult& result) {
  nlohmann::json j;
  j["name"] = result.name;
  j["version"] = result.version;
  j["num_fewshot"] = result.num_fewshot;
  j["samples"] = result.num_samples;
  nlohmann::json metrics = nlohmann::json::object(), lm_eval = nlohmann::json::object();
  for (const auto& m : result.metrics) {
    nlohmann::json entry = {{"value", m.value}, {"filter", m.filter}};
    entry["stderr"] = m.stderr ? nlohmann::json(*m.stderr) : nlohmann::json(nullptr);
    metrics[m.filter == "none" ? m.name : m.key()] = entry;
    lm_eval[m.key()] = m.value;
    lm_eval[m.stderr_key()] = m.stderr ? nlohmann::json(*m.stderr) : nlohmann::json("N/A");
  }
  j["metrics"] = metrics;
  j["lm_eval"] = lm_eval;
  if (!result.notes.empty()) j["notes"] = result.notes;
  if (!result.children.empty()) {
    j["children"] = nlohmann::json::array();
    for (const auto& c : result.children) j["children"].push_back(result_to_json(c));
  }
  return j;
}

nlohmann::json item_to_json(const ItemRecord& item) {
  nlohmann::json j = {{"doc_id", item.doc_index},
                      {"prompt", item.prompt},
                      {"targets", item.targets},
                      {"metrics", item.metrics}};
  if (!item.loglikelihoods.empty()) j["loglikelihoods"] = item.loglikelihoods;
  if (item.gold >= 0) {
    j["gold"] = item.gold;
    j["prediction"] = item.prediction;
    j["prediction_norm"] = item.prediction_norm;
  }
  if (!item.gold_text.empty()) j["gold_text"] = item.gold_text;
  if (!item.generation.empty() || !item.filtered.empty()) {
    j["generation"] = item.generation;
    j["filtered"] = item.filtered;
  }
  return j;
}

}  // namespace slmq::eval
