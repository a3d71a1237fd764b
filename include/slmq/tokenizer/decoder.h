#pragma once
// tokenizer.json decoders: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence.
// A decoder maps the token strings of an id sequence to output strings (HF's decode_chain);
// the tokenizer concatenates the result.
#include <memory>
#include <string>
#include <vector>

#include "slmq/tokenizer/json_view.h"

namespace slmq::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const JsonView& node);

// Rust's String::from_utf8_lossy: ill-formed sequences become U+FFFD (maximal subparts).
std::string utf8_lossy(std::string_view bytes);

}  // namespace slmq::tokenizer
