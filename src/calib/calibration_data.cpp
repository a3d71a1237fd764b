#include "slmq/calib/calibration_data.h"

#include "slmq/core/timing.h"

namespace slmq {

nlohmann::json CalibrationData::to_json() const {
  nlohmann::json j = config.to_json();
  j["windows"] = windows.size();
  j["window_tokens"] = windows.seqlen();
  j["tokenized_documents"] = windows.tokenized_documents;
  j["sampling_seconds"] = sampling_seconds;
  if (training) j["training"] = training->to_json();
  return j;
}

CalibrationData prepare_calibration(const CalibrationConfig& config, const Tokenizer& tokenizer) {
  const auto start = SteadyClock::now();
  CalibrationData data;
  data.config = config;
  data.windows = build_calibration_windows(config, tokenizer, config.data_dir);
  data.sampling_seconds = seconds_since(start);
  return data;
}

}  // namespace slmq
