#pragma once
// The safetensors format, read through mmap and validated as strictly as the reference
// implementation (the checks: safetensors_header.h). Every failure is a DataError naming the
// file and, where there is one, the tensor.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "slmq/io/mapped_file.h"
#include "slmq/io/safetensors_header.h"

namespace slmq {

class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_->path(); }
  const std::vector<SafetensorsTensorInfo>& tensors() const { return tensors_; }  // file order
  const SafetensorsTensorInfo* find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // An owned CPU copy in the stored dtype. Sub-byte float types (F4, F6_*) have no torch
  // equivalent and throw UnsupportedError naming the tensor.
  at::Tensor load(const std::string& name) const;

 private:
  std::shared_ptr<const io::MappedFile> file_;  // shared: copies of the reader share one mapping
  std::vector<SafetensorsTensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Writes CPU tensors (any torch dtype that safetensors has) atomically; header padded to 8 bytes.
void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// A checkpoint folder: model.safetensors, or shards listed by model.safetensors.index.json.
class SafetensorsCheckpoint {
 public:
  // `folder` holds the checkpoint; throws DataError when neither file is there or the index
  // names a missing shard or a tensor its shard lacks.
  static SafetensorsCheckpoint open(const std::filesystem::path& folder);

  std::vector<std::string> tensor_names() const;
  const SafetensorsTensorInfo* find(const std::string& name) const;
  at::Tensor load(const std::string& name) const;

 private:
  std::filesystem::path folder_;
  std::vector<SafetensorsFile> shards_;
  std::map<std::string, size_t> shard_of_;
};

}  // namespace slmq
