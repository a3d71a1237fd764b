#pragma once
// Calibration token windows drawn from text with the sampling rules of the reference code
// (CalibSampling), so the same seed gives the same windows as the Python original.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "slmq/calib/calibration_config.h"

namespace slmq {

class Tokenizer;

struct CalibrationWindows {
  at::Tensor ids;   // [N, seqlen] int64 (CPU)
  at::Tensor mask;  // [N, seqlen] int64, 1 = token, 0 = right padding; undefined = all tokens
  int64_t tokenized_documents = 0;  // documents the rule had to tokenize

  int64_t size() const { return ids.defined() ? ids.size(0) : 0; }
  int64_t seqlen() const { return ids.defined() ? ids.size(1) : 0; }
};

// The documents of a calibration file as `format` splits them. DataError naming the file (and
// line) for a missing file, bad JSON or a row without a string `text_field`.
std::vector<std::string> load_calibration_documents(const std::filesystem::path& path,
                                                    CalibFormat format,
                                                    const std::string& text_field);

// Token ids of one text: HF `tokenizer(text)` (special tokens added as the post-processor says).
using Encoder = std::function<std::vector<int32_t>(const std::string&)>;
Encoder tokenizer_encoder(const Tokenizer& tokenizer);

// Applies config.sampling to documents (tokenized lazily with `encode`, each at most once).
// DataError when the documents cannot give a single window of seqlen tokens.
CalibrationWindows sample_windows(const std::vector<std::string>& documents, const Encoder& encode,
                                  const CalibrationConfig& config);

// Load + sample: the windows for `config` with the model's tokenizer.
CalibrationWindows build_calibration_windows(const CalibrationConfig& config,
                                             const Tokenizer& tokenizer,
                                             const std::filesystem::path& data_dir = {});

}  // namespace slmq
