#include "slmq/calib/calibration_config.h"

#include <utility>

#include "slmq/config/config_node.h"
#include "slmq/core/error.h"
#include "slmq/data/data_files.h"

namespace slmq {
namespace {

constexpr std::pair<CalibFormat, const char*> kFormats[] = {
    {CalibFormat::kText, "text"},
    {CalibFormat::kWikitext, "wikitext"},
    {CalibFormat::kJsonl, "jsonl"},
};
constexpr std::pair<CalibSampling, const char*> kSamplings[] = {
    {CalibSampling::kRandomWindows, "random_windows"},
    {CalibSampling::kRandomDocuments, "random_documents"},
    {CalibSampling::kTruncatedDocuments, "truncated_documents"},
    {CalibSampling::kPackedDocuments, "packed_documents"},
};

// The named sources and the format a path implies.
CalibFormat implied_format(const std::string& source) {
  if (source == "c4") return CalibFormat::kJsonl;
  if (source == "wikitext2") return CalibFormat::kWikitext;
  const std::string ext = std::filesystem::path(source).extension().string();
  if (ext == ".jsonl") return CalibFormat::kJsonl;
  if (ext == ".raw") return CalibFormat::kWikitext;
  return CalibFormat::kText;
}

void check_positive(const ConfigNode& node, const char* key, int64_t value) {
  if (value < 1) node.fail(key, "must be at least 1, got " + std::to_string(value));
}

}  // namespace

std::string to_string(CalibFormat f) {
  for (const auto& [value, name] : kFormats) {
    if (value == f) return name;
  }
  throw InternalError("unknown CalibFormat");
}

std::string to_string(CalibSampling s) {
  for (const auto& [value, name] : kSamplings) {
    if (value == s) return name;
  }
  throw InternalError("unknown CalibSampling");
}

nlohmann::json CalibrationConfig::to_json() const {
  return {{"source", source},
          {"format", to_string(format)},
          {"text_field", text_field},
          {"sampling", to_string(sampling)},
          {"nsamples", nsamples},
          {"seqlen", seqlen},
          {"seed", seed},
          {"shuffle", shuffle},
          {"max_document_tokens", max_document_tokens},
          {"batch_size", batch_size},
          {"propagate", propagate_quantized ? "quantized" : "original"}};
}

std::filesystem::path resolve_calibration_source(const CalibrationConfig& config,
                                                 const std::filesystem::path& data_dir) {
  const auto dir = data::resolve_data_dir(data_dir);
  if (config.source == "c4") return dir / "calibration" / "c4" / "c4_validation_2k.jsonl";
  if (config.source == "wikitext2") return dir / "wikitext2" / "wiki.test.raw";
  return config.source;
}

CalibrationConfig parse_calibration_section(const ConfigNode& node, CalibrationConfig c) {
  node.allow_only({"source", "data_dir", "format", "text_field", "sampling", "nsamples", "seqlen",
                   "seed", "shuffle", "max_document_tokens", "batch_size", "propagate"});
  c.data_dir = node.get_string("data_dir", c.data_dir);
  if (node.has("source")) {
    c.source = node.require_string("source");
    if (c.source.empty()) node.fail("source", "must name a file or 'c4' / 'wikitext2'");
    c.format = implied_format(c.source);
  }
  const std::string format =
      node.get_choice("format", to_string(c.format), {"text", "wikitext", "jsonl"});
  for (const auto& [value, name] : kFormats) {
    if (format == name) c.format = value;
  }
  c.text_field = node.get_string("text_field", c.text_field);
  const std::string sampling = node.get_choice(
      "sampling", to_string(c.sampling),
      {"random_windows", "random_documents", "truncated_documents", "packed_documents"});
  for (const auto& [value, name] : kSamplings) {
    if (sampling == name) c.sampling = value;
  }
  c.nsamples = node.get_int("nsamples", c.nsamples);
  check_positive(node, "nsamples", c.nsamples);
  c.seqlen = node.get_int("seqlen", c.seqlen);
  check_positive(node, "seqlen", c.seqlen);
  c.seed = node.get_int("seed", c.seed);
  c.shuffle = node.get_bool("shuffle", c.shuffle);
  c.max_document_tokens = node.get_int("max_document_tokens", c.max_document_tokens);
  if (c.max_document_tokens < 0) node.fail("max_document_tokens", "must be 0 (= seqlen) or more");
  c.batch_size = node.get_int("batch_size", c.batch_size);
  check_positive(node, "batch_size", c.batch_size);
  c.propagate_quantized =
      node.get_choice("propagate", c.propagate_quantized ? "quantized" : "original",
                      {"quantized", "original"}) == "quantized";
  return c;
}

}  // namespace slmq
