#include "slmq/eval/task_filters.h"

#include <memory>

#include "slmq/core/error.h"
#include "slmq/data/py_regex.h"
#include "slmq/data/py_text.h"
#include "slmq/eval/jinja_template.h"

namespace slmq::eval {

std::string regex_filter(const FilterStep& step, const std::string& response) {
  std::unique_ptr<data::PyRegex> re;
  try {
    re = std::make_unique<data::PyRegex>(step.regex_pattern);
  } catch (const InternalError&) {
    throw ConfigError("filter_list: regex_pattern '" + step.regex_pattern + "' does not compile");
  }
  const auto matches = re->findall(response);
  if (matches.empty()) return step.fallback;
  const int64_t n = static_cast<int64_t>(matches.size());
  const int64_t i = step.group_select < 0 ? step.group_select + n : step.group_select;
  if (i < 0 || i >= n)
    throw DataError("regex filter: group_select " + std::to_string(step.group_select) + " but " +
                    std::to_string(n) + " matches in the response");
  const auto& groups = matches[static_cast<size_t>(i)];
  if (groups.size() < 2) return data::py_strip(groups.front());
  for (const auto& g : groups)
    if (!g.empty()) return data::py_strip(g);
  return data::py_strip(step.fallback);
}

std::string apply_filter(const FilterSpec& spec, std::string text) {
  for (const auto& step : spec.steps) {
    if (step.function == "regex")
      text = regex_filter(step, text);
    else if (step.function == "lowercase")
      text = py_lower(text);
    else if (step.function == "uppercase")
      text = py_upper(text);
    else if (step.function == "remove_whitespace")
      text = data::py_strip(text);
  }
  return text;
}

double exact_match(const MetricSpec& m, std::string pred, std::string ref) {
  for (const auto& pattern : m.regexes_to_ignore) {
    const data::PyRegex re(pattern);
    pred = re.sub(pred, "");
    ref = re.sub(ref, "");
  }
  if (m.ignore_case) {
    pred = py_lower(pred);
    ref = py_lower(ref);
  }
  auto drop = [](std::string& s, const std::string& chars) {
    std::erase_if(s, [&](char c) { return chars.find(c) != std::string::npos; });
  };
  if (m.ignore_punctuation) {
    const std::string kPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    drop(pred, kPunct);
    drop(ref, kPunct);
  }
  if (m.ignore_numbers) {
    drop(pred, "0123456789");
    drop(ref, "0123456789");
  }
  return pred == ref ? 1.0 : 0.0;
}

}  // namespace slmq::eval
