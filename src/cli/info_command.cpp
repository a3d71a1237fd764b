// `slmquant info MODEL`: architecture, parameters, bytes by dtype, tied or not.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "command.h"
#include "model_options.h"

namespace slmq::cli {
namespace {

void print_human(const Model& model, const std::string& path) {
  const auto& c = model.config();
  const auto s = model.summary();
  std::cout << fmt::format("model          {}\n", path)
            << fmt::format("architecture   {} ({})\n", c.architecture, c.model_type)
            << fmt::format("parameters     {} ({:.1f} M)\n", s.parameters, s.parameters / 1e6)
            << fmt::format("layers         {}  hidden {}  intermediate {}  vocab {}\n",
                           c.num_layers, c.hidden_size, c.intermediate_size, c.vocab_size)
            << fmt::format("attention      {} heads, {} kv heads, head dim {}\n", c.num_heads,
                           c.num_kv_heads, c.head_dim)
            << fmt::format("rope           {} theta {}\n", c.rope.type, c.rope.theta)
            << fmt::format("tied lm_head   {}\n", c.tie_word_embeddings ? "yes" : "no")
            << fmt::format("loaded as      {} on {}\n", dtype_name(model.dtype()),
                           model.device().str());
  for (const auto& [dtype, bytes] : s.bytes_by_dtype) {
    std::cout << fmt::format("bytes {:<9}{} ({:.2f} MiB)\n", dtype, bytes, bytes / 1048576.0);
  }
}

const RegisterCommand kInfo{"info", "Describe a model: architecture, parameters, bytes by dtype",
                            [](CLI::App& app) {
                              auto opts = std::make_shared<ModelOptions>();
                              auto json = std::make_shared<bool>(false);
                              opts->dtype = "float32";
                              opts->device = "cpu";
                              opts->add_to(app);
                              app.add_flag("--json", *json, "print JSON instead of text");
                              return [opts, json] {
                                auto model = opts->load();
                                if (*json) {
                                  nlohmann::json j = {{"path", opts->path},
                                                      {"config", model->config().to_json()},
                                                      {"summary", model->summary().to_json()},
                                                      {"dtype", dtype_name(model->dtype())}};
                                  std::cout << j.dump(2) << "\n";
                                } else {
                                  print_human(*model, opts->path);
                                }
                                return 0;
                              };
                            }};

}  // namespace
}  // namespace slmq::cli
