#pragma once
// The expression tree of the Jinja subset (jinja_template.h) and its parser (internal).
#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace slmq::eval::detail {

struct TemplateNode {
  enum class Kind { kName, kLiteral, kList, kAttr, kIndex, kSlice, kCall, kFilter, kBinary };
  Kind kind = Kind::kLiteral;
  std::string name;  // field, attribute, method, filter or operator
  nlohmann::json literal;
  std::vector<std::shared_ptr<TemplateNode>> args;  // operands; [0] is the target for postfix
  bool has_lo = false, has_hi = false;              // slices: which bounds are given
};

// Parses the body of one `{{ ... }}`; adds the document fields it reads to `fields`. ConfigError
// naming `where` on a syntax error or an unsupported construct.
std::shared_ptr<TemplateNode> parse_expression(const std::string& body, const std::string& where,
                                               std::set<std::string>& fields);

}  // namespace slmq::eval::detail
