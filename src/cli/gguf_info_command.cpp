// `slmquant gguf-info FILE.gguf`: the file's metadata and tensor table, for inspection.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <map>

#include "command.h"
#include "slmq/core/atomic_file.h"
#include "slmq/io/gguf_dequant.h"
#include "slmq/io/gguf_file.h"
#include "slmq/io/gguf_model.h"
#include "slmq/model/gguf_model.h"

namespace slmq::cli {
namespace {

std::string dims_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void print_info(const io::GgufFile& file, bool all_tensors) {
  std::cout << fmt::format("file: {}\nGGUF version {}, {} bytes, alignment {}, data at {}\n",
                           file.path().string(), file.version(), file.file_size(), file.alignment(),
                           file.data_offset());
  std::cout << fmt::format("\nmetadata ({} keys):\n", file.metadata().size());
  for (const auto& [key, value] : file.metadata()) {
    std::cout << fmt::format("  {:<42} {:<8} {}\n", key, io::gguf_value_type_name(value.type()),
                             value.to_display_string());
  }
  std::map<std::string, std::pair<int, std::uint64_t>> by_type;
  std::uint64_t total_elements = 0;
  for (const auto& t : file.tensors()) {
    auto& [count, bytes] = by_type[std::string(io::ggml_traits(t.type).name)];
    ++count;
    bytes += t.n_bytes;
    total_elements += static_cast<std::uint64_t>(t.n_elements);
  }
  std::cout << fmt::format("\ntensors ({}, {} elements):", file.tensors().size(), total_elements);
  for (const auto& [type, cb] : by_type) {
    std::cout << fmt::format(" {} x {} ({} bytes);", cb.first, type, cb.second);
  }
  std::cout << "\n";
  std::cout << fmt::format("  {:<34} {:<6} {:<16} {:>12}  {}\n", "name", "type", "shape (HF)",
                           "offset", "HF name");
  // HF names only for the families slmquant knows.
  const Architecture* arch =
      architecture_for_gguf(file.find_string("general.architecture").value_or(""));
  std::size_t shown = 0;
  for (const auto& t : file.tensors()) {
    if (!all_tensors && shown++ >= 24) {
      std::cout << fmt::format("  ... {} more (--all shows them)\n", file.tensors().size() - 24);
      break;
    }
    const std::string hf = arch ? gguf_to_hf_tensor_name(*arch, t.name) : "";
    std::cout << fmt::format("  {:<34} {:<6} {:<16} {:>12}  {}\n", t.name,
                             io::ggml_traits(t.type).name, dims_string(t.shape()), t.offset,
                             hf.empty() ? "-" : hf);
  }
}

// Times what a model load does with the file: open + validate, build the HF config/tokenizer
// JSON, dequantize every weight to fp32 (one thread).
void time_load(const std::string& path) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  const auto t0 = Clock::now();
  const GgufModelFiles files = load_gguf_model_files(path);
  const auto t1 = Clock::now();
  std::uint64_t elements = 0;
  for (const auto& [name, weight] : files.weights) elements += weight.load().size();
  const auto t2 = Clock::now();
  std::cout << fmt::format(
      "load_gguf_model_files: {:.1f} ms; dequantize {} weights ({} elements, fp32): {:.1f} ms; "
      "total {:.1f} ms\n",
      ms(t0, t1), files.weights.size(), elements, ms(t1, t2), ms(t0, t2));
}

// config.json, tokenizer.json and tokenizer_config.json as load_gguf_model_files builds them.
void write_hf_json(const std::string& path, const std::filesystem::path& dir) {
  const io::GgufFile file = io::GgufFile::open(path);
  write_file_atomically(dir / "config.json", gguf_to_hf_config(file).dump(2) + "\n");
  write_file_atomically(dir / "tokenizer.json", io::gguf_to_hf_tokenizer(file).dump(2) + "\n");
  write_file_atomically(dir / "tokenizer_config.json",
                        io::gguf_to_hf_tokenizer_config(file).dump(2) + "\n");
  std::cout << "wrote config.json, tokenizer.json, tokenizer_config.json to " << dir.string()
            << "\n";
}

const RegisterCommand kGgufInfo{
    "gguf-info", "Print a GGUF file's metadata and tensor table", [](CLI::App& app) {
      auto path = std::make_shared<std::string>();
      auto all = std::make_shared<bool>(false);
      auto timing = std::make_shared<bool>(false);
      auto json_dir = std::make_shared<std::string>();
      app.add_option("file", *path, "GGUF file")->required();
      app.add_flag("--all", *all, "List every tensor (default: the first 24)");
      app.add_flag("--time-load", *timing,
                   "Also load it as an HF model (config, tokenizer, every weight dequantized to "
                   "fp32) and print how long that took");
      app.add_option("--hf-json", *json_dir,
                     "Also write the HF config.json, tokenizer.json and tokenizer_config.json "
                     "built from the metadata into this folder");
      return [path, all, timing, json_dir] {
        print_info(io::GgufFile::open(*path), *all);
        if (*timing) time_load(*path);
        if (!json_dir->empty()) write_hf_json(*path, *json_dir);
        return 0;
      };
    }};

}  // namespace
}  // namespace slmq::cli
