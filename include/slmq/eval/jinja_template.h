#pragma once
// The subset of Jinja2 that lm-eval task YAMLs use in doc_to_text / doc_to_target /
// doc_to_choice, evaluated over one document (a JSON object) with lm-eval's environment
// (StrictUndefined, keep_trailing_newline). Supported inside `{{ ... }}`:
//   names (document fields), string / integer literals, list literals [a, b],
//   attribute and item access (choices.text, x[0], x['k'], x[-1], slices x[a:b]),
//   `+` (numbers, strings, lists), `-` (numbers), `~` (string concatenation), parentheses,
//   string methods split([sep]) strip() lstrip() rstrip() lower() upper() replace(a, b),
//   list method index(x), and the filters join(sep), trim, lower, upper, replace(a, b), first,
//   last, length, string, int, regex_replace(pattern, repl) (lm-eval's own filter).
// Statements (`{% %}`) and comments (`{# #}`) are rejected when the template is parsed.
#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace slmq::eval {

namespace detail {
struct TemplateNode;
}

class JinjaTemplate {
 public:
  // `where` names the template in errors ("tasks/x.yaml:7: doc_to_text"). Throws ConfigError on a
  // syntax error or an unsupported construct.
  JinjaTemplate(std::string source, std::string where);
  ~JinjaTemplate();
  JinjaTemplate(JinjaTemplate&&) noexcept;
  JinjaTemplate& operator=(JinjaTemplate&&) noexcept;

  // True when the template is exactly one `{{ expression }}` with no text around it.
  bool single_expression() const;
  // Document fields the template reads (roots of names).
  const std::set<std::string>& fields() const { return fields_; }
  // The rendered string, as Jinja's render(**doc) gives it. `doc_where` names the document in
  // errors ("data.jsonl:3"); an absent field or a failing method is a DataError naming both.
  std::string render(const nlohmann::json& doc, const std::string& doc_where) const;
  // The value of a single-expression template (InternalError otherwise).
  nlohmann::json evaluate(const nlohmann::json& doc, const std::string& doc_where) const;

 private:
  struct Part {
    std::string text;                            // literal text, when node is null
    std::shared_ptr<detail::TemplateNode> node;  // an expression
  };
  std::string source_, where_;
  std::vector<Part> parts_;
  std::set<std::string> fields_;
};

// str(value) as Python prints a JSON-decoded value (strings as they are, ints, True/False/None;
// lists and mappings in Python's repr).
std::string py_str(const nlohmann::json& value);
// str.lower() / str.upper() with Unicode simple case mappings.
std::string py_lower(const std::string& s);
std::string py_upper(const std::string& s);

}  // namespace slmq::eval
