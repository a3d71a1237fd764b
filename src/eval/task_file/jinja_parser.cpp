#include <cctype>

#include "jinja_node.h"
#include "slmq/core/error.h"

namespace slmq::eval::detail {
namespace {

using nlohmann::json;
using NodePtr = std::shared_ptr<TemplateNode>;
using Kind = TemplateNode::Kind;

struct Token {
  enum Type { kName, kString, kInt, kPunct, kEnd } type = kEnd;
  std::string text;
};

// Splits one `{{ ... }}` body into tokens; ConfigError naming `where` on anything else.
std::vector<Token> lex(const std::string& s, const std::string& where) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out.push_back({Token::kName, s.substr(i, j - i)});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      out.push_back({Token::kInt, s.substr(i, j - i)});
      i = j;
    } else if (c == '\'' || c == '"') {
      std::string text;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          const char e = s[++j];
          text += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          text += s[j];
        }
      }
      if (j >= s.size()) throw ConfigError(where + ": unterminated string literal in '" + s + "'");
      out.push_back({Token::kString, text});
      i = j + 1;
    } else if (std::string(".[](),|+~:-").find(c) != std::string::npos) {
      out.push_back({Token::kPunct, std::string(1, c)});
      ++i;
    } else {
      throw ConfigError(where + ": unsupported character '" + std::string(1, c) +
                        "' in template expression '" + s + "'");
    }
  }
  out.push_back({Token::kEnd, ""});
  return out;
}

class Parser {
 public:
  Parser(const std::string& body, std::string where, std::set<std::string>& fields)
      : body_(body), where_(std::move(where)), toks_(lex(body, where_)), fields_(fields) {}

  NodePtr parse() {
    NodePtr n = additive();
    if (peek().type != Token::kEnd) fail("unexpected '" + peek().text + "'");
    return n;
  }

 private:
  const Token& peek() const { return toks_[pos_]; }
  bool accept(const std::string& punct) {
    if (peek().type == Token::kPunct && peek().text == punct) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(const std::string& punct) {
    if (!accept(punct)) fail("expected '" + punct + "'");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(where_ + ": " + what + " in template expression '{{" + body_ + "}}'");
  }
  static NodePtr make(Kind kind, std::string name = {}, std::vector<NodePtr> args = {}) {
    auto n = std::make_shared<TemplateNode>();
    n->kind = kind;
    n->name = std::move(name);
    n->args = std::move(args);
    return n;
  }

  NodePtr additive() {
    NodePtr left = filtered();
    while (peek().type == Token::kPunct &&
           (peek().text == "+" || peek().text == "-" || peek().text == "~")) {
      const std::string op = toks_[pos_++].text;
      left = make(Kind::kBinary, op, {left, filtered()});
    }
    return left;
  }

  NodePtr filtered() {
    NodePtr n = postfix();
    while (accept("|")) {
      if (peek().type != Token::kName) fail("expected a filter name after '|'");
      const std::string name = toks_[pos_++].text;
      static const std::set<std::string> kFilters = {"join",    "trim",  "lower",        "upper",
                                                     "replace", "first", "last",         "length",
                                                     "string",  "int",   "regex_replace"};
      if (!kFilters.count(name)) fail("unsupported filter '" + name + "'");
      std::vector<NodePtr> args = {n};
      if (accept("(")) arguments(args);
      n = make(Kind::kFilter, name, std::move(args));
    }
    return n;
  }

  void arguments(std::vector<NodePtr>& args) {
    if (accept(")")) return;
    do {
      args.push_back(additive());
    } while (accept(","));
    expect(")");
  }

  NodePtr postfix() {
    NodePtr n = primary();
    while (true) {
      if (accept(".")) {
        if (peek().type != Token::kName) fail("expected a name after '.'");
        const std::string name = toks_[pos_++].text;
        if (accept("(")) {
          static const std::set<std::string> kMethods = {"split", "strip", "lstrip",  "rstrip",
                                                         "lower", "upper", "replace", "index"};
          if (!kMethods.count(name)) fail("unsupported method '" + name + "'");
          std::vector<NodePtr> args = {n};
          arguments(args);
          n = make(Kind::kCall, name, std::move(args));
        } else {
          n = make(Kind::kAttr, name, {n});
        }
      } else if (accept("[")) {
        n = subscript(n);
      } else {
        return n;
      }
    }
  }

  NodePtr subscript(const NodePtr& target) {
    NodePtr lo, hi;
    if (!(peek().type == Token::kPunct && peek().text == ":")) lo = additive();
    if (accept(":")) {
      if (!(peek().type == Token::kPunct && peek().text == "]")) hi = additive();
      expect("]");
      auto n = make(Kind::kSlice, "", {target, lo, hi});
      n->has_lo = lo != nullptr;
      n->has_hi = hi != nullptr;
      return n;
    }
    expect("]");
    return make(Kind::kIndex, "", {target, lo});
  }

  NodePtr primary() {
    const Token t = peek();
    if (t.type == Token::kName) {
      ++pos_;
      if (t.text == "true" || t.text == "True") return literal(true);
      if (t.text == "false" || t.text == "False") return literal(false);
      if (t.text == "none" || t.text == "None") return literal(nullptr);
      fields_.insert(t.text);
      return make(Kind::kName, t.text);
    }
    if (t.type == Token::kString) {
      ++pos_;
      return literal(t.text);
    }
    if (t.type == Token::kInt) {
      ++pos_;
      return literal(std::stoll(t.text));
    }
    if (accept("-")) {
      if (peek().type != Token::kInt) fail("expected a number after '-'");
      return literal(-std::stoll(toks_[pos_++].text));
    }
    if (accept("(")) {
      NodePtr n = additive();
      expect(")");
      return n;
    }
    if (accept("[")) {
      std::vector<NodePtr> items;
      if (!accept("]")) {
        do {
          items.push_back(additive());
        } while (accept(","));
        expect("]");
      }
      return make(Kind::kList, "", std::move(items));
    }
    fail(t.type == Token::kEnd ? "unexpected end" : "unexpected '" + t.text + "'");
  }

  static NodePtr literal(json value) {
    auto n = make(Kind::kLiteral);
    n->literal = std::move(value);
    return n;
  }

  std::string body_, where_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  std::set<std::string>& fields_;
};

}  // namespace

std::shared_ptr<TemplateNode> parse_expression(const std::string& body, const std::string& where,
                                               std::set<std::string>& fields) {
  return Parser(body, where, fields).parse();
}

}  // namespace slmq::eval::detail
