#pragma once
// The tokenizer part of a GGUF export (internal to src/export).
#include "slmq/model/model_loader.h"

namespace slmq::io {
class GgufWriter;
}

namespace slmq::gguf_export {

// tokenizer.ggml.* and tokenizer.chat_template into `w`: every "tokenizer." key of a .gguf source
// as it is; from tokenizer.json (byte-level BPE only) and tokenizer_config.json otherwise, with
// the special token ids of `m`. DataError without a tokenizer, UnsupportedError for others.
void add_tokenizer(const ModelSource& source, const ModelConfig& m, io::GgufWriter& w);

}  // namespace slmq::gguf_export
