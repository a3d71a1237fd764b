#pragma once
// What a calibrated QuantMethod receives: the configuration and the token windows drawn from it.
// Methods run their own block-by-block capture (LayerwiseCapture) over the windows.
#include <memory>

#include "slmq/calib/calibration_config.h"
#include "slmq/calib/token_windows.h"
#include "slmq/tokenizer/tokenizer.h"

namespace slmq {

struct CalibrationData {
  CalibrationConfig config;
  CalibrationWindows windows;
  double sampling_seconds = 0;  // reading, tokenizing and sampling the windows
  // A second window set some methods learn from (SpinQuant's rotation training text), drawn
  // with its own configuration; null for the others.
  std::shared_ptr<const CalibrationData> training;

  // {config..., windows, seqlen, tokenized_documents, sampling_seconds}
  nlohmann::json to_json() const;
};

// Windows for `config` drawn with the model's `tokenizer`, timed (reading, tokenizing, sampling).
// The named sources are looked up in config.data_dir as data::resolve_data_dir does.
CalibrationData prepare_calibration(const CalibrationConfig& config, const Tokenizer& tokenizer);

}  // namespace slmq
