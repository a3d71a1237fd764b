#pragma once
// tokenizer.json post-processors for single sequences: TemplateProcessing, BertProcessing,
// RobertaProcessing, ByteLevel (ids unchanged) and Sequence. They add special tokens around the
// encoded ids when encode() is asked to.
#include <cstdint>
#include <memory>
#include <vector>

#include "slmq/tokenizer/json_view.h"

namespace slmq::tokenizer {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Wraps `ids` (one sequence) with the special tokens of the single-sequence template.
  virtual void add_special_tokens(std::vector<std::int32_t>& ids) const = 0;
  // The ids added before and after a sequence (for BOS/EOS bookkeeping).
  virtual std::vector<std::int32_t> prefix() const { return {}; }
  virtual std::vector<std::int32_t> suffix() const { return {}; }
};

std::unique_ptr<PostProcessor> make_post_processor(const JsonView& node);

}  // namespace slmq::tokenizer
