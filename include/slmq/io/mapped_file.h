#pragma once
// A whole file mapped read-only into memory (RAII). Weight files are large and read once in
// pieces, so mapping beats reading them into buffers; the pages stay shared with the page cache.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace slmq::io {

class MappedFile {
 public:
  // Maps `path` read-only. Throws DataError naming the path when it cannot be opened, is not a
  // regular file or cannot be mapped. An empty file maps to data() == nullptr, size() == 0.
  static MappedFile open(const std::filesystem::path& path);

  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  void reset() noexcept;

  std::filesystem::path path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace slmq::io
