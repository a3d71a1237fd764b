#include "slmq/io/safetensors.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <optional>

#include "slmq/core/atomic_file.h"
#include "slmq/core/error.h"
#include "slmq/core/escape.h"
#include "slmq/io/json_file.h"

namespace slmq {
namespace {

struct DtypeSpec {
  const char* name;
  std::optional<c10::ScalarType> torch_type;
};

// Every safetensors dtype (safetensors_header.h knows their sizes) and its torch type.
const DtypeSpec kDtypes[] = {
    {"BOOL", c10::kBool},
    {"U8", c10::kByte},
    {"I8", c10::kChar},
    {"F8_E5M2", c10::kFloat8_e5m2},
    {"F8_E4M3", c10::kFloat8_e4m3fn},
    {"F8_E8M0", c10::kFloat8_e8m0fnu},
    {"I16", c10::kShort},
    {"U16", c10::kUInt16},
    {"F16", c10::kHalf},
    {"BF16", c10::kBFloat16},
    {"I32", c10::kInt},
    {"U32", c10::kUInt32},
    {"F32", c10::kFloat},
    {"I64", c10::kLong},
    {"U64", c10::kUInt64},
    {"F64", c10::kDouble},
    {"F4", std::nullopt},
    {"F6_E2M3", std::nullopt},
    {"F6_E3M2", std::nullopt},
};

const DtypeSpec* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeSpec* find_dtype(c10::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (d.torch_type == type) return &d;
  }
  return nullptr;
}

[[noreturn]] void bad_tensor(const std::filesystem::path& path, const std::string& tensor,
                             const std::string& what) {
  throw DataError("safetensors file '" + path.string() + "': tensor '" + escape_message(tensor) +
                  "': " + what);
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile st;
  st.file_ = std::make_shared<const io::MappedFile>(io::MappedFile::open(path));
  SafetensorsHeader header = parse_safetensors_header(st.file_->bytes(), path);
  st.tensors_ = std::move(header.tensors);
  st.metadata_ = std::move(header.metadata);
  for (size_t i = 0; i < st.tensors_.size(); ++i) st.index_[st.tensors_[i].name] = i;
  return st;
}

const SafetensorsTensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

at::Tensor SafetensorsFile::load(const std::string& name) const {
  const SafetensorsTensorInfo* info = find(name);
  if (info == nullptr) bad_tensor(path(), name, "not in this file");
  const DtypeSpec* dtype = find_dtype(info->dtype);
  if (dtype == nullptr || !dtype->torch_type) {
    throw UnsupportedError("safetensors file '" + path().string() + "': tensor '" + name +
                           "' has dtype " + info->dtype + ", which torch cannot hold");
  }
  at::Tensor out = at::empty(info->shape, at::TensorOptions().dtype(*dtype->torch_type));
  // memcpy rather than from_blob: the mapping may not be aligned for the element type.
  if (info->end > info->begin)
    std::memcpy(out.data_ptr(), file_->data() + info->begin, info->end - info->begin);
  return out;
}

void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  size_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const DtypeSpec* dtype = find_dtype(tensor.scalar_type());
    if (dtype == nullptr) {
      throw UnsupportedError("cannot write tensor '" + name + "' to '" + path.string() +
                             "': dtype " + c10::toString(tensor.scalar_type()) +
                             " has no safetensors equivalent");
    }
    contiguous.push_back(tensor.to(at::kCPU).contiguous());
    size_t bytes = contiguous.back().nbytes();
    header[name] = {{"dtype", dtype->name},
                    {"shape", tensor.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string length(8, '\0');
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  AtomicFileWriter writer(path);
  writer.write(length);
  writer.write(text);
  for (const auto& t : contiguous) {
    writer.write(std::string_view(static_cast<const char*>(t.data_ptr()), t.nbytes()));
  }
  writer.commit();
}

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::filesystem::path& folder) {
  SafetensorsCheckpoint ckpt;
  ckpt.folder_ = folder;
  auto single = folder / "model.safetensors";
  auto index_path = folder / "model.safetensors.index.json";
  if (std::filesystem::exists(single)) {
    ckpt.shards_.push_back(SafetensorsFile::open(single));
    for (const auto& t : ckpt.shards_[0].tensors()) ckpt.shard_of_[t.name] = 0;
    return ckpt;
  }
  if (!std::filesystem::exists(index_path)) {
    throw DataError("'" + folder.string() +
                    "' has neither model.safetensors nor model.safetensors.index.json");
  }
  nlohmann::json index = read_json_file(index_path);
  if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw DataError("'" + index_path.string() + "': missing object 'weight_map'");
  }
  std::map<std::string, size_t> shard_by_file;
  for (const auto& [name, file] : index["weight_map"].items()) {
    if (!file.is_string())
      throw DataError("'" + index_path.string() + "': weight_map['" + name + "'] is not a string");
    std::string file_name = file.get<std::string>();
    // A shard is a file of this folder (as the Hub writes them): a path out of it ("../x", "/x",
    // "a/b") would let a downloaded index make us open any file.
    const std::filesystem::path shard(file_name);
    if (file_name.empty() || shard.has_parent_path() || shard.is_absolute() || file_name == "." ||
        file_name == "..") {
      throw DataError("'" + index_path.string() + "': weight_map['" + escape_message(name) +
                      "'] = '" + escape_message(file_name) +
                      "' is not a file name in the checkpoint's folder");
    }
    auto [it, inserted] = shard_by_file.try_emplace(file_name, ckpt.shards_.size());
    if (inserted) ckpt.shards_.push_back(SafetensorsFile::open(folder / file_name));
    if (ckpt.shards_[it->second].find(name) == nullptr) {
      throw DataError("'" + index_path.string() + "': tensor '" + name + "' is not in shard '" +
                      file_name + "'");
    }
    ckpt.shard_of_[name] = it->second;
  }
  return ckpt;
}

std::vector<std::string> SafetensorsCheckpoint::tensor_names() const {
  std::vector<std::string> names;
  for (const auto& [name, shard] : shard_of_) names.push_back(name);
  return names;
}

const SafetensorsTensorInfo* SafetensorsCheckpoint::find(const std::string& name) const {
  auto it = shard_of_.find(name);
  return it == shard_of_.end() ? nullptr : shards_[it->second].find(name);
}

at::Tensor SafetensorsCheckpoint::load(const std::string& name) const {
  auto it = shard_of_.find(name);
  if (it == shard_of_.end())
    throw DataError("checkpoint '" + folder_.string() + "' has no tensor '" + name + "'");
  return shards_[it->second].load(name);
}

}  // namespace slmq
