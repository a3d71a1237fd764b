#pragma once
// A model path opened once for a run: its config and tokenizer files, the model built from it (and,
// for a KL baseline, a second unquantized copy from the same open files), and the tokenizer built
// on first use. Every pipeline block takes this instead of reopening the path.
#include <filesystem>
#include <memory>

#include "slmq/model/model_loader.h"
#include "slmq/tokenizer/tokenizer.h"

namespace slmq {

class RunModel {
 public:
  // Opens `path` with every checkpoint format (pipeline/model_open.h) and builds the model with
  // `options`; with `baseline_copy` builds a second copy from the same files (the model before
  // quantization, for KL). The weight files are released once built. load_seconds covers opening
  // and the first build. Throws what open_model and build_model throw.
  static RunModel open(const std::filesystem::path& path, const LoadOptions& options,
                       bool baseline_copy = false);
  // A fresh model built from `source`, which the caller keeps open (weights mapped) to build
  // more; `baseline` (the unquantized model, may be null) and `tokenizer` (may be null: built on
  // first use) are shared with other runs and never changed. load_seconds covers the build.
  static RunModel from_source(const ModelSource& source, const LoadOptions& options,
                              std::shared_ptr<const Model> baseline,
                              std::shared_ptr<const Tokenizer> tokenizer);

  const std::filesystem::path& path() const { return source_.path; }
  // Config, HF config.json and tokenizer JSON (weights already released).
  const ModelSource& source() const { return source_; }
  Model& model() { return *model_; }
  const Model& model() const { return *model_; }
  // The unquantized copy, or null without baseline_copy.
  const Model* baseline() const { return baseline_.get(); }
  // The path's tokenizer (tokenizer.json + tokenizer_config.json, or the GGUF's), built once on
  // first use. DataError naming the path when it has none.
  std::shared_ptr<const Tokenizer> tokenizer() const;
  double load_seconds() const { return load_seconds_; }

 private:
  ModelSource source_;
  std::unique_ptr<Model> model_;
  std::shared_ptr<const Model> baseline_;
  mutable std::shared_ptr<const Tokenizer> tokenizer_;
  double load_seconds_ = 0;
};

// The tokenizer of an opened model path; DataError naming the path when it has none.
Tokenizer source_tokenizer(const ModelSource& source);

}  // namespace slmq
