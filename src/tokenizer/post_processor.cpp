#include "slmq/tokenizer/post_processor.h"

#include <map>
#include <string>

namespace slmq::tokenizer {
namespace {

// Any post-processor reduces, for one sequence, to fixed ids before and after it.
class WrapProcessor : public PostProcessor {
 public:
  WrapProcessor(std::vector<std::int32_t> prefix, std::vector<std::int32_t> suffix)
      : prefix_(std::move(prefix)), suffix_(std::move(suffix)) {}
  void add_special_tokens(std::vector<std::int32_t>& ids) const override {
    ids.insert(ids.begin(), prefix_.begin(), prefix_.end());
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  }
  std::vector<std::int32_t> prefix() const override { return prefix_; }
  std::vector<std::int32_t> suffix() const override { return suffix_; }

 private:
  std::vector<std::int32_t> prefix_, suffix_;
};

std::vector<std::int32_t> template_special_ids(const JsonView& special_tokens,
                                               const std::string& name) {
  auto entry = special_tokens.find(name);
  if (!entry) special_tokens.fail("template uses special token '" + name + "' not listed here");
  const JsonView ids = (*entry)["ids"];
  std::vector<std::int32_t> out;
  for (std::size_t i = 0; i < ids.size(); ++i)
    out.push_back(static_cast<std::int32_t>(ids.at(i).as_int()));
  return out;
}

std::unique_ptr<PostProcessor> make_template(const JsonView& node) {
  const JsonView single = node["single"];
  const JsonView special_tokens = node["special_tokens"];
  std::vector<std::int32_t> prefix, suffix;
  bool seen_sequence = false;
  for (std::size_t i = 0; i < single.size(); ++i) {
    const JsonView piece = single.at(i);
    std::string special;
    if (piece.is_string()) {
      // Short form: "$A", "$B", "$0", optionally ":type_id"; anything else is a special token.
      std::string s = piece.as_string();
      s = s.substr(0, s.find(':'));
      if (s.empty() || s[0] != '$') special = s;
    } else if (auto token = piece.find("SpecialToken")) {
      special = (*token)["id"].as_string();
    } else if (!piece.find("Sequence")) {
      piece.fail("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
    }
    if (special.empty()) {
      if (seen_sequence) single.fail("a single-sequence template holds one sequence");
      seen_sequence = true;
      continue;
    }
    auto ids = template_special_ids(special_tokens, special);
    auto& target = seen_sequence ? suffix : prefix;
    target.insert(target.end(), ids.begin(), ids.end());
  }
  if (!seen_sequence) single.fail("the single-sequence template has no sequence");
  return std::make_unique<WrapProcessor>(std::move(prefix), std::move(suffix));
}

std::int32_t pair_id(const JsonView& pair) {
  // ["token", id]
  if (!pair.is_array() || pair.size() != 2) pair.fail("expected [token, id]");
  return static_cast<std::int32_t>(pair.at(1).as_int());
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const JsonView& node) {
  const std::string type = node["type"].as_string();
  if (type == "TemplateProcessing") return make_template(node);
  if (type == "ByteLevel")
    return std::make_unique<WrapProcessor>(std::vector<std::int32_t>{},
                                           std::vector<std::int32_t>{});
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    return std::make_unique<WrapProcessor>(std::vector<std::int32_t>{pair_id(node["cls"])},
                                           std::vector<std::int32_t>{pair_id(node["sep"])});
  }
  if (type == "Sequence") {
    const JsonView list = node["processors"];
    std::vector<std::int32_t> prefix, suffix;
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto part = make_post_processor(list.at(i));
      // Each processor wraps the output of the previous one.
      auto p = part->prefix();
      prefix.insert(prefix.begin(), p.begin(), p.end());
      auto s = part->suffix();
      suffix.insert(suffix.end(), s.begin(), s.end());
    }
    return std::make_unique<WrapProcessor>(std::move(prefix), std::move(suffix));
  }
  node["type"].unsupported("post-processor type '" + type + "' is not supported");
}

}  // namespace slmq::tokenizer
