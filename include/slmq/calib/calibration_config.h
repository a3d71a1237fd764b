#pragma once
// Where calibration text comes from and how token windows are drawn from it: the `calibration:`
// mapping of a run config's `quant:` block (specs/quant_methods.md §9).
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace slmq {

class ConfigNode;

// How the calibration file is split into documents.
enum class CalibFormat {
  kText,      // the whole file is one document
  kWikitext,  // a wikitext *.raw file: one row per line as HF's wikitext script yields them
              // (blank lines become ""), the rows GPTQ's get_wikitext2 joins with "\n\n"
  kJsonl,     // one JSON object per line; the document is its `text_field`
};

// The reference sampling rules.
enum class CalibSampling {
  // GPTQ get_wikitext2 (also QuaRot, OmniQuant): tokenize "\n\n".join(documents) once; each
  // window starts at random.randint(0, L − seqlen − 1) after random.seed(seed).
  kRandomWindows,
  // GPTQ get_c4: per window, random.randint documents until one has ≥ seqlen tokens, then a
  // random window inside it.
  kRandomDocuments,
  // SmoothQuant get_act_scales: the first nsamples documents (after the shuffle), each
  // truncated to seqlen tokens; shorter ones are right-padded and masked.
  kTruncatedDocuments,
  // AWQ get_calib_dataset: documents stripped, encoded, those longer than max_document_tokens
  // skipped, the first nsamples kept, concatenated and split into blocks of seqlen (the number
  // of windows follows from the token count).
  kPackedDocuments,
};

// The defaults are GPTQ's (get_c4); each method registers its reference's (method_registry.h).
struct CalibrationConfig {
  // A file path, or a name: "c4" (calibration/c4/c4_validation_2k.jsonl) or "wikitext2"
  // (wikitext2/wiki.test.raw) under the data directory.
  std::string source = "c4";
  // Where the named sources are; empty: data::resolve_data_dir's order ($SLMQ_DATA_DIR, then
  // assets/data). Not part of the result's settings: it says where, not what.
  std::string data_dir;
  CalibFormat format = CalibFormat::kJsonl;  // follows the source unless given
  std::string text_field = "text";
  CalibSampling sampling = CalibSampling::kRandomDocuments;
  int64_t nsamples = 128;
  int64_t seqlen = 2048;
  int64_t seed = 0;
  // Document orders for the document rules: the reference shuffles with HF datasets (numpy);
  // slmquant shuffles with CPython's random.shuffle(seed), or keeps file order.
  bool shuffle = true;
  int64_t max_document_tokens = 0;  // kPackedDocuments: 0 = seqlen
  // Capture: sequences per layer forward, and whether the next layer's inputs come from the
  // layer as quantized (GPTQ's llama_sequential) or as it was before quantization.
  int64_t batch_size = 8;
  bool propagate_quantized = true;

  nlohmann::json to_json() const;
};

std::string to_string(CalibFormat f);
std::string to_string(CalibSampling s);

// The calibration file `config.source` names (data_dir as data::resolve_data_dir).
std::filesystem::path resolve_calibration_source(const CalibrationConfig& config,
                                                 const std::filesystem::path& data_dir = {});

// Parses `source, format, text_field, sampling, nsamples, seqlen, seed, shuffle,
// max_document_tokens, batch_size, propagate (quantized|original)` on top of `base`; every error
// is a ConfigError naming the key path ("quant.calibration.seqlen").
CalibrationConfig parse_calibration_section(const ConfigNode& node, CalibrationConfig base);

}  // namespace slmq
