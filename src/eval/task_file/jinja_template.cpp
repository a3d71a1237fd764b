#include "slmq/eval/jinja_template.h"

#include <utf8proc.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "jinja_node.h"
#include "slmq/core/error.h"
#include "slmq/data/py_regex.h"
#include "slmq/data/py_text.h"

namespace slmq::eval {

using nlohmann::json;

namespace {

using detail::TemplateNode;
using NodePtr = std::shared_ptr<TemplateNode>;
using Kind = TemplateNode::Kind;

std::u32string to_code_points(const std::string& s) {
  std::u32string out;
  size_t pos = 0;
  while (pos < s.size()) {
    utf8proc_int32_t cp = 0;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + pos),
                                    static_cast<utf8proc_ssize_t>(s.size() - pos), &cp);
    if (n <= 0) throw DataError("invalid UTF-8 in a template value");
    out.push_back(static_cast<char32_t>(cp));
    pos += static_cast<size_t>(n);
  }
  return out;
}

std::string to_utf8(const std::u32string& cps) {
  std::string out;
  for (char32_t cp : cps) {
    utf8proc_uint8_t buf[4];
    const auto m = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(m));
  }
  return out;
}

// Unicode simple case mappings per code point, plus Python's full upper-case mappings of ß and
// the Latin ligatures (the multi-letter ones text data holds); the remaining special cases (a few
// Greek, Armenian and İ) keep their simple mapping.
std::string map_case(const std::string& s, bool upper) {
  static const std::map<char32_t, std::u32string> kFullUpper = {
      {U'\u00DF', U"SS"},  {U'\uFB00', U"FF"},  {U'\uFB01', U"FI"}, {U'\uFB02', U"FL"},
      {U'\uFB03', U"FFI"}, {U'\uFB04', U"FFL"}, {U'\uFB05', U"ST"}, {U'\uFB06', U"ST"}};
  std::u32string out;
  for (char32_t cp : to_code_points(s)) {
    const auto it = upper ? kFullUpper.find(cp) : kFullUpper.end();
    if (it != kFullUpper.end()) {
      out += it->second;
      continue;
    }
    out.push_back(static_cast<char32_t>(upper
                                            ? utf8proc_toupper(static_cast<utf8proc_int32_t>(cp))
                                            : utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
  }
  return to_utf8(out);
}

std::string py_repr_string(const std::string& s) {
  const bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == '\\' || c == q) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out + q;
}

std::string py_repr(const json& v) { return v.is_string() ? py_repr_string(v) : py_str(v); }

// Python's str.split(sep) (sep given) or str.split() (whitespace runs, no empty pieces).
json py_split(const std::string& s, const json* sep) {
  json out = json::array();
  if (sep && !sep->is_null()) {
    const std::string d = sep->get<std::string>();
    if (d.empty()) throw DataError("split(): empty separator");
    size_t start = 0, hit;
    while ((hit = s.find(d, start)) != std::string::npos) {
      out.push_back(s.substr(start, hit - start));
      start = hit + d.size();
    }
    out.push_back(s.substr(start));
    return out;
  }
  const std::u32string cps = to_code_points(s);
  std::u32string word;
  for (char32_t cp : cps) {
    if (data::is_py_space(cp)) {
      if (!word.empty()) out.push_back(to_utf8(word));
      word.clear();
    } else {
      word.push_back(cp);
    }
  }
  if (!word.empty()) out.push_back(to_utf8(word));
  return out;
}

std::string strip_side(const std::string& s, bool left, bool right) {
  std::u32string cps = to_code_points(s);
  size_t b = 0, e = cps.size();
  while (left && b < e && data::is_py_space(cps[b])) ++b;
  while (right && e > b && data::is_py_space(cps[e - 1])) --e;
  return to_utf8(cps.substr(b, e - b));
}

class Evaluator {
 public:
  Evaluator(const json& doc, const std::string& where) : doc_(doc), where_(where) {}

  json eval(const TemplateNode& n) const {
    switch (n.kind) {
      case Kind::kLiteral:
        return n.literal;
      case Kind::kName: {
        const auto it = doc_.find(n.name);
        if (it == doc_.end()) fail("'" + n.name + "' is undefined (not a field of the document)");
        return *it;
      }
      case Kind::kList: {
        json out = json::array();
        for (const auto& a : n.args) out.push_back(eval(*a));
        return out;
      }
      case Kind::kAttr: {
        const json target = eval(*n.args[0]);
        if (!target.is_object() || !target.contains(n.name))
          fail("no attribute '" + n.name + "' on " + py_repr(target).substr(0, 60));
        return target.at(n.name);
      }
      case Kind::kIndex:
        return index(eval(*n.args[0]), eval(*n.args[1]));
      case Kind::kSlice:
        return slice(n);
      case Kind::kCall:
        return call(n);
      case Kind::kFilter:
        return filter(n);
      case Kind::kBinary:
        return binary(n.name, eval(*n.args[0]), eval(*n.args[1]));
    }
    throw InternalError("template node kind");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw DataError(where_ + ": " + what); }

  std::string str_arg(const TemplateNode& n, size_t i, const std::string& what) const {
    if (n.args.size() <= i) fail(what + ": missing argument");
    const json v = eval(*n.args[i]);
    if (!v.is_string()) fail(what + ": expected a string argument");
    return v.get<std::string>();
  }

  static int64_t normalize(int64_t i, int64_t size) { return i < 0 ? i + size : i; }

  json index(const json& target, const json& key) const {
    if (target.is_object()) {
      if (!key.is_string() || !target.contains(key.get<std::string>()))
        fail("no key " + py_repr(key) + " in mapping");
      return target.at(key.get<std::string>());
    }
    if (!key.is_number_integer()) fail("index must be an integer");
    if (target.is_array()) {
      const int64_t i = normalize(key.get<int64_t>(), static_cast<int64_t>(target.size()));
      if (i < 0 || i >= static_cast<int64_t>(target.size())) fail("list index out of range");
      return target[static_cast<size_t>(i)];
    }
    if (target.is_string()) {
      const std::u32string cps = to_code_points(target.get<std::string>());
      const int64_t i = normalize(key.get<int64_t>(), static_cast<int64_t>(cps.size()));
      if (i < 0 || i >= static_cast<int64_t>(cps.size())) fail("string index out of range");
      return to_utf8(cps.substr(static_cast<size_t>(i), 1));
    }
    fail("value is not subscriptable");
  }

  json slice(const TemplateNode& n) const {
    const json target = eval(*n.args[0]);
    const bool is_str = target.is_string();
    if (!is_str && !target.is_array()) fail("value cannot be sliced");
    const std::u32string cps = is_str ? to_code_points(target.get<std::string>()) : U"";
    const int64_t size = is_str ? static_cast<int64_t>(cps.size()) : target.size();
    auto bound = [&](bool given, const NodePtr& node, int64_t fallback) {
      if (!given) return fallback;
      const json v = eval(*node);
      if (!v.is_number_integer()) fail("slice bounds must be integers");
      return std::clamp(normalize(v.get<int64_t>(), size), int64_t{0}, size);
    };
    const int64_t lo = bound(n.has_lo, n.args[1], 0),
                  hi = std::max(lo, bound(n.has_hi, n.args[2], size));
    if (is_str) return to_utf8(cps.substr(static_cast<size_t>(lo), static_cast<size_t>(hi - lo)));
    json out = json::array();
    for (int64_t i = lo; i < hi; ++i) out.push_back(target[static_cast<size_t>(i)]);
    return out;
  }

  json call(const TemplateNode& n) const {
    const json target = eval(*n.args[0]);
    if (n.name == "index") {
      if (!target.is_array() || n.args.size() != 2) fail("index(x) applies to a list");
      const json x = eval(*n.args[1]);
      for (size_t i = 0; i < target.size(); ++i)
        if (target[i] == x) return static_cast<int64_t>(i);
      fail(py_repr(x) + " is not in list");
    }
    if (!target.is_string()) fail(n.name + "() applies to a string");
    const std::string s = target.get<std::string>();
    if (n.name == "split") {
      json sep = n.args.size() > 1 ? eval(*n.args[1]) : json();
      return py_split(s, &sep);
    }
    if (n.name == "strip") return strip_side(s, true, true);
    if (n.name == "lstrip") return strip_side(s, true, false);
    if (n.name == "rstrip") return strip_side(s, false, true);
    if (n.name == "lower") return map_case(s, false);
    if (n.name == "upper") return map_case(s, true);
    return data::py_replace(s, str_arg(n, 1, "replace"), str_arg(n, 2, "replace"));
  }

  json filter(const TemplateNode& n) const {
    const json v = eval(*n.args[0]);
    const std::string& f = n.name;
    if (f == "join") {
      if (!v.is_array()) fail("join applies to a list");
      const std::string sep = n.args.size() > 1 ? str_arg(n, 1, "join") : "";
      std::string out;
      for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + py_str(v[i]);
      return out;
    }
    if (f == "string") return py_str(v);
    if (f == "length") {
      if (v.is_string()) return static_cast<int64_t>(data::py_len(v.get<std::string>()));
      if (v.is_array() || v.is_object()) return static_cast<int64_t>(v.size());
      fail("length applies to a string, list or mapping");
    }
    if (f == "first" || f == "last") {
      if (!v.is_array() || v.empty()) fail(f + " applies to a non-empty list");
      return f == "first" ? v.front() : v.back();
    }
    if (f == "int") {
      if (v.is_number()) return static_cast<int64_t>(v.get<double>());
      try {
        return static_cast<int64_t>(std::stoll(data::py_strip(py_str(v))));
      } catch (const std::exception&) {
        return int64_t{0};  // Jinja's int filter default
      }
    }
    const std::string s = py_str(v);
    if (f == "trim") return strip_side(s, true, true);
    if (f == "lower") return map_case(s, false);
    if (f == "upper") return map_case(s, true);
    if (f == "replace")
      return data::py_replace(s, str_arg(n, 1, "replace"), str_arg(n, 2, "replace"));
    // regex_replace(pattern, repl): re.sub over the whole string.
    const std::string pattern = str_arg(n, 1, "regex_replace");
    try {
      return data::PyRegex(pattern).sub(s, str_arg(n, 2, "regex_replace"));
    } catch (const InternalError& e) {
      fail("regex_replace: bad pattern '" + pattern + "'");
    }
  }

  json binary(const std::string& op, const json& a, const json& b) const {
    if (op == "~") return py_str(a) + py_str(b);
    if (op == "-") {
      if (a.is_number_integer() && b.is_number_integer())
        return a.get<int64_t>() - b.get<int64_t>();
      if (a.is_number() && b.is_number()) return a.get<double>() - b.get<double>();
      fail("'-' applies to numbers");
    }
    if (a.is_number_integer() && b.is_number_integer()) return a.get<int64_t>() + b.get<int64_t>();
    if (a.is_number() && b.is_number()) return a.get<double>() + b.get<double>();
    if (a.is_string() && b.is_string()) return a.get<std::string>() + b.get<std::string>();
    if (a.is_array() && b.is_array()) {
      json out = a;
      for (const auto& x : b) out.push_back(x);
      return out;
    }
    fail("cannot add " + py_repr(a).substr(0, 40) + " and " + py_repr(b).substr(0, 40));
  }

  const json& doc_;
  const std::string& where_;
};

}  // namespace

std::string py_lower(const std::string& s) { return map_case(s, false); }
std::string py_upper(const std::string& s) { return map_case(s, true); }

std::string py_str(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_null()) return "None";
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e16)
      return std::to_string(static_cast<int64_t>(d)) + ".0";
    return v.dump();
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + py_repr(v[i]);
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, x] : v.items()) {
      out += (first ? "" : ", ") + py_repr_string(k) + ": " + py_repr(x);
      first = false;
    }
    return out + "}";
  }
  return v.dump();
}

JinjaTemplate::JinjaTemplate(std::string source, std::string where)
    : source_(std::move(source)), where_(std::move(where)) {
  size_t pos = 0;
  while (pos < source_.size()) {
    size_t next = pos;
    while ((next = source_.find('{', next)) != std::string::npos && next + 1 < source_.size() &&
           std::string("{%#").find(source_[next + 1]) == std::string::npos)
      ++next;
    if (next == std::string::npos || next + 1 >= source_.size()) {
      parts_.push_back({source_.substr(pos), nullptr});
      break;
    }
    if (source_[next + 1] != '{')
      throw ConfigError(where_ + ": Jinja statements and comments ('{%', '{#') are not supported");
    if (next > pos) parts_.push_back({source_.substr(pos, next - pos), nullptr});
    const size_t close = source_.find("}}", next + 2);
    if (close == std::string::npos) throw ConfigError(where_ + ": '{{' without '}}'");
    parts_.push_back({"", detail::parse_expression(source_.substr(next + 2, close - next - 2),
                                                   where_, fields_)});
    pos = close + 2;
  }
}

JinjaTemplate::~JinjaTemplate() = default;
JinjaTemplate::JinjaTemplate(JinjaTemplate&&) noexcept = default;
JinjaTemplate& JinjaTemplate::operator=(JinjaTemplate&&) noexcept = default;

bool JinjaTemplate::single_expression() const {
  return parts_.size() == 1 && parts_.front().node != nullptr;
}

std::string JinjaTemplate::render(const json& doc, const std::string& doc_where) const {
  const std::string where = doc_where + " (" + where_ + ")";
  Evaluator ev(doc, where);
  std::string out;
  for (const auto& part : parts_) out += part.node ? py_str(ev.eval(*part.node)) : part.text;
  return out;
}

json JinjaTemplate::evaluate(const json& doc, const std::string& doc_where) const {
  if (!single_expression()) throw InternalError(where_ + ": not a single expression");
  const std::string where = doc_where + " (" + where_ + ")";
  return Evaluator(doc, where).eval(*parts_.front().node);
}

}  // namespace slmq::eval
