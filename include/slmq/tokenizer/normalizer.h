#pragma once
// tokenizer.json normalizers: NFC, NFD, NFKC, NFKD (utf8proc), Replace, Prepend, Strip, Sequence.
// A normalizer rewrites one text fragment in place; the input is valid UTF-8 and stays so.
#include <memory>
#include <string>

#include "slmq/tokenizer/json_view.h"

namespace slmq::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

// Builds the normalizer a tokenizer.json "normalizer" node describes. Throws UnsupportedError
// naming an unknown type, DataError for a malformed node.
std::unique_ptr<Normalizer> make_normalizer(const JsonView& node);

}  // namespace slmq::tokenizer
