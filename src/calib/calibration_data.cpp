#include "slmq/calib/calibration_data.h"

#include "slmq/core/timing.h"
#include "slmq/model/model_tokenizer.h"

namespace slmq {

nlohmann::json CalibrationData::to_json() const {
  nlohmann::json j = config.to_json();
  j["windows"] = windows.size();
  j["window_tokens"] = windows.seqlen();
  j["tokenized_documents"] = windows.tokenized_documents;
  j["sampling_seconds"] = sampling_seconds;
  return j;
}

CalibrationData prepare_calibration(const CalibrationConfig& config,
                                    const std::filesystem::path& model_path) {
  const auto start = SteadyClock::now();
  CalibrationData data;
  data.config = config;
  const Tokenizer tokenizer = load_model_tokenizer(model_path);
  data.windows = build_calibration_windows(config, tokenizer, config.data_dir);
  data.sampling_seconds = seconds_since(start);
  return data;
}

}  // namespace slmq
