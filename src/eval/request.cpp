#include "slmq/eval/request.h"

#include "slmq/data/py_text.h"

namespace slmq::eval {

const char* request_type_name(RequestType type) {
  switch (type) {
    case RequestType::kLoglikelihood:
      return "loglikelihood";
    case RequestType::kLoglikelihoodRolling:
      return "loglikelihood_rolling";
    case RequestType::kGenerateUntil:
      return "generate_until";
  }
  return "?";
}

std::pair<std::string, std::string> split_context_continuation(const std::string& context,
                                                               const std::string& continuation) {
  const std::string stripped = data::py_rstrip(context);
  if (stripped.size() == context.size()) return {context, continuation};
  return {stripped, context.substr(stripped.size()) + continuation};
}

std::string truncate_at_stop(std::string text, const std::vector<std::string>& until) {
  for (const auto& stop : until) {
    if (stop.empty()) continue;
    const size_t pos = text.find(stop);
    if (pos != std::string::npos) text.resize(pos);
  }
  return text;
}

}  // namespace slmq::eval
