#pragma once
// Result files of two runs compared on what they computed: the fields that measure time, memory,
// the machine or how much work a resumed run redid are taken out first.
#include <nlohmann/json.hpp>

#include <string>

namespace slmq::test {

// Whether a result key measures the run rather than the model: timestamps, the environment block,
// durations (*seconds*, *_s), rates (*per_second*), memory (*memory*, *rss*), the inference
// profile, quantization cost and the evaluator's work counters (a resumed run computes less).
inline bool is_volatile_key(const std::string& key) {
  static const char* const kWhole[] = {"started_at", "finished_at", "environment", "quant_cost",
                                       "profile",    "work",        "cost"};
  for (const char* k : kWhole)
    if (key == k) return true;
  for (const char* part : {"seconds", "per_second", "memory", "rss"})
    if (key.find(part) != std::string::npos) return true;
  return key.size() > 2 && key.compare(key.size() - 2, 2, "_s") == 0;
}

// `j` without its volatile keys, at any depth.
inline nlohmann::json without_volatile(const nlohmann::json& j) {
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : j.items())
      if (!is_volatile_key(key)) out[key] = without_volatile(value);
    return out;
  }
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(without_volatile(v));
    return out;
  }
  return j;
}

}  // namespace slmq::test
