#pragma once
// The declaration of a rotated model's online transforms in its checkpoint (config.json's
// kOnlineTransformsKey, compressed_tensors.h): written from a model's OnlineHadamardLinear
// wrappers and KvQuantTransform, and put back on a loaded model.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "slmq/model/linear_backend.h"

namespace slmq {

class Model;

// The declaration for `model` (null when it has no online transform). Every layer must carry the
// same transforms (the rotation methods make them so); InternalError otherwise.
nlohmann::json describe_online_transforms(const Model& model);

// `backend` (the loaded linear at `relative_name`, e.g. "mlp.down_proj") wrapped as declared, or
// returned as is. Throws DataError naming `where` for a malformed entry.
std::unique_ptr<LinearBackend> wrap_declared_online(std::unique_ptr<LinearBackend> backend,
                                                    const std::string& relative_name,
                                                    const nlohmann::json& declaration,
                                                    const std::string& where);

// Attaches the declared attention transform (R3 and KV quantizers) to every layer.
void attach_declared_attention(Model& model, const nlohmann::json& declaration,
                               const std::string& where);

}  // namespace slmq
