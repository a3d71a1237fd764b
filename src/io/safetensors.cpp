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

// The reference implementation refuses headers over 100 MB; so do we, before allocating.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeSpec {
  const char* name;
  int bits;
  std::optional<c10::ScalarType> torch_type;
};

const DtypeSpec kDtypes[] = {
    {"BOOL", 8, c10::kBool},
    {"U8", 8, c10::kByte},
    {"I8", 8, c10::kChar},
    {"F8_E5M2", 8, c10::kFloat8_e5m2},
    {"F8_E4M3", 8, c10::kFloat8_e4m3fn},
    {"F8_E8M0", 8, c10::kFloat8_e8m0fnu},
    {"I16", 16, c10::kShort},
    {"U16", 16, c10::kUInt16},
    {"F16", 16, c10::kHalf},
    {"BF16", 16, c10::kBFloat16},
    {"I32", 32, c10::kInt},
    {"U32", 32, c10::kUInt32},
    {"F32", 32, c10::kFloat},
    {"I64", 64, c10::kLong},
    {"U64", 64, c10::kUInt64},
    {"F64", 64, c10::kDouble},
    {"F4", 4, std::nullopt},
    {"F6_E2M3", 6, std::nullopt},
    {"F6_E3M2", 6, std::nullopt},
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

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

[[noreturn]] void bad(const std::filesystem::path& path, const std::string& what) {
  throw DataError("safetensors file '" + path.string() + "': " + what);
}

[[noreturn]] void bad_tensor(const std::filesystem::path& path, const std::string& tensor,
                             const std::string& what) {
  bad(path, "tensor '" + escape_message(tensor) + "': " + what);
}

SafetensorsTensorInfo parse_entry(const std::filesystem::path& path, const std::string& name,
                                  const nlohmann::json& entry, size_t data_start,
                                  size_t data_size) {
  if (!entry.is_object()) bad_tensor(path, name, "entry is not a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key)) bad_tensor(path, name, std::string("missing '") + key + "'");
  }
  SafetensorsTensorInfo info;
  info.name = name;
  if (!entry["dtype"].is_string()) bad_tensor(path, name, "'dtype' is not a string");
  info.dtype = entry["dtype"].get<std::string>();
  const DtypeSpec* dtype = find_dtype(info.dtype);
  if (dtype == nullptr) bad_tensor(path, name, "unknown dtype '" + info.dtype + "'");
  const auto& shape = entry["shape"];
  if (!shape.is_array()) bad_tensor(path, name, "'shape' is not an array");
  uint64_t numel = 1;
  for (const auto& dim : shape) {
    if (!dim.is_number_unsigned())
      bad_tensor(path, name, "shape entries must be non-negative integers");
    uint64_t d = dim.get<uint64_t>();
    if (d != 0 && numel > UINT64_MAX / 8 / d) bad_tensor(path, name, "shape overflows");
    numel *= d;
    info.shape.push_back(static_cast<int64_t>(d));
  }
  const auto& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    bad_tensor(path, name, "'data_offsets' must be two non-negative integers");
  }
  uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  if (begin > end || end > data_size) {
    bad_tensor(path, name,
               "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                   ") lie outside the data section of " + std::to_string(data_size) + " bytes");
  }
  uint64_t bits = numel * static_cast<uint64_t>(dtype->bits);
  if (bits % 8 != 0 || end - begin != bits / 8) {
    bad_tensor(path, name,
               "byte range of " + std::to_string(end - begin) + " bytes does not match " +
                   info.dtype + " × " + nlohmann::json(info.shape).dump() + " (" +
                   std::to_string(bits / 8) + " bytes)");
  }
  info.begin = data_start + begin;
  info.end = data_start + end;
  return info;
}

// The byte buffer must be covered exactly: sorted by offset, each tensor starts where the
// previous ended, the last ends at the end of the file.
void check_coverage(const std::filesystem::path& path, std::vector<SafetensorsTensorInfo> sorted,
                    size_t data_start, size_t file_size) {
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  size_t expected = data_start;
  for (const auto& t : sorted) {
    if (t.begin < expected) bad_tensor(path, t.name, "data overlaps the previous tensor");
    if (t.begin > expected) bad_tensor(path, t.name, "hole in the data section before this tensor");
    expected = t.end;
  }
  if (expected != file_size) {
    bad(path, "data section has " + std::to_string(file_size - expected) +
                  " bytes not covered by any tensor");
  }
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile st;
  st.file_ = std::make_shared<const io::MappedFile>(io::MappedFile::open(path));
  const size_t size = st.file_->size();
  if (size < 8)
    bad(path, "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  uint64_t header_len = read_u64_le(st.file_->data());
  if (header_len > kMaxHeaderBytes)
    bad(path, "header length " + std::to_string(header_len) + " exceeds 100 MB");
  if (header_len > size - 8) {
    bad(path, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                  std::to_string(size) + " bytes)");
  }
  const char* header_begin = reinterpret_cast<const char*>(st.file_->data() + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_len);
  } catch (const nlohmann::json::exception& e) {
    bad(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) bad(path, "header is not a JSON object");
  const size_t data_start = 8 + header_len;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) bad(path, "__metadata__ is not an object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) bad(path, "__metadata__ value '" + k + "' is not a string");
        st.metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    st.index_[name] = st.tensors_.size();
    st.tensors_.push_back(parse_entry(path, name, entry, data_start, size - data_start));
  }
  check_coverage(path, st.tensors_, data_start, size);
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
  if (!dtype->torch_type) {
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
