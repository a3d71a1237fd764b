#pragma once
// Which backend runs each quantized linear: the fake-quant accuracy path, or a real integer
// kernel where the scheme and device have one (`--backend fake|real|auto`, `model.backend`).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace slmq {

class Model;

enum class BackendChoice {
  kFake,  // keep every FakeQuantLinear
  kReal,  // every quantized linear on a real kernel; UnsupportedError naming the first without
  kAuto,  // real where one exists, fake elsewhere (the default)
};

// "fake" | "real" | "auto"; ConfigError naming `key` otherwise.
BackendChoice parse_backend_choice(const std::string& name, const std::string& key);
std::string to_string(BackendChoice choice);

// What the choice did to a model: the linears by backend kind after it, and every quantized
// linear left on the fake-quant path with the reason it has no real one.
struct BackendReport {
  BackendChoice choice = BackendChoice::kAuto;
  std::map<std::string, int64_t> linears_by_kind;
  std::vector<std::pair<std::string, std::string>> kept_fake;  // (module name, reason)

  // {"choice", "linears_by_kind", "kept_fake": {name: reason}}
  nlohmann::json to_json() const;
};

// Swaps the model's FakeQuantLinears for real backends as `choice` says. Dense linears are left
// as they are. Throws UnsupportedError (kReal) naming the first linear without a real backend.
BackendReport apply_backend_choice(Model& model, BackendChoice choice);

}  // namespace slmq
