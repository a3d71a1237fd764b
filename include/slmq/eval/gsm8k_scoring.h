#pragma once
// GSM8K answer extraction and matching as lm-eval's gsm8k.yaml (v3.0) configures them.
#include <string>

namespace slmq::eval {

// Filter "strict-match": first match of `#### (\-?[0-9\.\,]+)`, stripped; "[invalid]" if none.
std::string gsm8k_strict_match(const std::string& response);
// Filter "flexible-extract": last match of `(-?[$0-9.,]{2,})|(-?[0-9]+)`, its non-empty group,
// stripped; "[invalid]" if none.
std::string gsm8k_flexible_extract(const std::string& response);
// exact_match with regexes_to_ignore [",", "\$", "(?s).*#### ", "\.$"] applied to both sides,
// then lower-cased: 1.0 when equal, else 0.0.
double gsm8k_exact_match(const std::string& prediction, const std::string& reference);

}  // namespace slmq::eval
