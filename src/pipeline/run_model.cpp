#include "slmq/pipeline/run_model.h"

#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/pipeline/model_open.h"

namespace slmq {

RunModel RunModel::open(const std::filesystem::path& path, const LoadOptions& options,
                        bool baseline_copy) {
  const auto start = SteadyClock::now();
  RunModel run;
  run.source_ = open_model(path);
  const ModelSource& s = run.source_;
  run.model_ = build_model(s.config, *s.weights, options, s.linear_loader.get());
  run.load_seconds_ = seconds_since(start);
  if (baseline_copy)
    run.baseline_ = build_model(s.config, *s.weights, options, s.linear_loader.get());
  // Built: the mapped weight files are not needed again (exports write from the Model).
  run.source_.weights.reset();
  run.source_.linear_loader.reset();
  return run;
}

RunModel RunModel::from_source(const ModelSource& source, const LoadOptions& options,
                               std::shared_ptr<const Model> baseline,
                               std::shared_ptr<const Tokenizer> tokenizer) {
  const auto start = SteadyClock::now();
  RunModel run;
  run.model_ = build_model(source.config, *source.weights, options, source.linear_loader.get());
  run.load_seconds_ = seconds_since(start);
  // What RunModel::open keeps after it released the weights.
  run.source_.path = source.path;
  run.source_.hf_config = source.hf_config;
  run.source_.config = source.config;
  run.source_.tokenizer = source.tokenizer;
  run.source_.tokenizer_config = source.tokenizer_config;
  run.baseline_ = std::move(baseline);
  run.tokenizer_ = std::move(tokenizer);
  return run;
}

std::shared_ptr<const Tokenizer> RunModel::tokenizer() const {
  if (!tokenizer_) tokenizer_ = std::make_shared<const Tokenizer>(source_tokenizer(source_));
  return tokenizer_;
}

Tokenizer source_tokenizer(const ModelSource& source) {
  if (source.tokenizer.is_null()) {
    throw DataError("model '" + source.path.string() +
                    "' has no tokenizer (tokenizer.json or GGUF tokenizer metadata)");
  }
  TokenizerConfig config;
  if (!source.tokenizer_config.is_null())
    config = TokenizerConfig::from_json(source.tokenizer_config, source.path.string());
  return Tokenizer(source.tokenizer, config, source.path.string());
}

}  // namespace slmq
