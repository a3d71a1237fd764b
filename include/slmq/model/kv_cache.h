#pragma once
// Keys and values of every layer for a batch of sequences, in slots shared by all rows; padding
// slots are marked invalid so attention skips them. Grows by doubling when full.
//
// Storage: the compute dtype, or packed int8 (KvStorage::kInt8): every key and value vector of a
// token and KV head split in groups of 32 (head_dim when 32 does not divide it), each stored as
// int8 codes c = clamp(round_half_even(x / s), -127, 127) with s = max|x| / 127 in fp32 (s = 0:
// codes 0), and read back as c · s. llama.cpp's q8_0 cache type is the same up to its fp16 scale;
// it takes 1.125 bytes per element instead of 4 (fp32) or 2 (bf16/fp16).
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "slmq/model/model_config.h"

namespace slmq {

enum class KvStorage { kCompute, kInt8 };
// "float" (the compute dtype) or "int8"; ConfigError naming `key` otherwise.
KvStorage parse_kv_storage(const std::string& name, const std::string& key);
const char* to_string(KvStorage storage);
// Elements per int8 scale for vectors of head_dim: 32, or head_dim when 32 does not divide it.
int64_t kv_int8_group(int64_t head_dim);
// Bytes one key or value vector of head_dim takes in `storage` (compute dtype `dtype`).
int64_t kv_vector_bytes(KvStorage storage, int64_t head_dim, c10::ScalarType dtype);

class KVCache {
 public:
  KVCache(const ModelConfig& config, int64_t batch, int64_t capacity, c10::ScalarType dtype,
          c10::Device device, KvStorage storage = KvStorage::kCompute);

  KvStorage storage() const { return storage_; }
  int64_t int8_group() const { return group_; }

  int64_t batch() const { return batch_; }
  int64_t length() const { return length_; }  // slots filled so far

  // Next position id of each row ([B] int64): the number of valid tokens seen so far.
  const at::Tensor& next_position() const { return next_position_; }
  // [B, length] bool: which filled slots hold real tokens.
  at::Tensor valid() const;

  // Writes k, v [B,Hkv,T,D] for `layer` at slots [length, length+T) and returns keys and values
  // of slots [0, length+T) (int8 storage: dequantized to k's dtype). Call for every layer, then
  // commit().
  std::pair<at::Tensor, at::Tensor> append(int64_t layer, const at::Tensor& k, const at::Tensor& v);
  // Advances past the T slots just appended; mask [B,T] marks which held real tokens.
  void commit(const at::Tensor& mask);

  // A cache of `batch` rows, each a copy of this one-row cache's filled slots, with room for
  // `extra_slots` more: rows that continue the same prefix attend to its keys and values.
  KVCache repeat_rows(int64_t batch, int64_t extra_slots) const;
  // Keeps only the given rows, in that order (finished generations leave the batch).
  void keep_rows(const std::vector<int64_t>& rows);

  // Slots allocated per row; reserve() grows them (by doubling) to hold at least `slots`.
  int64_t capacity() const;
  void reserve(int64_t slots);

  // Raw access for the tensor-free decode loop (model/decode_loop.h); CPU caches only. Pointers
  // stay valid until reserve(), keep_rows() or repeat_rows() reallocates.
  float* keys_data(int64_t layer);    // [B, Hkv, capacity, D] float32 (compute storage)
  float* values_data(int64_t layer);  // [B, Hkv, capacity, D] float32 (compute storage)
  // Int8 storage: codes [B, Hkv, capacity, D] and scales [B, Hkv, capacity, D / int8_group()].
  int8_t* key_codes(int64_t layer);
  int8_t* value_codes(int64_t layer);
  float* key_scales(int64_t layer);
  float* value_scales(int64_t layer);
  const bool* valid_data() const;  // [B, capacity]
  // Commits one slot in which every row holds a real token (a decode step), as commit() with an
  // all-ones mask does.
  void advance_all_valid();

 private:
  // Every per-layer tensor with a slot dimension 2 (keys, values and, for int8, their scales).
  template <typename F>
  void for_each_store(F&& f);
  // Quantizes x [B,Hkv,T,D] into codes/scales slots [at, at+T); returns slots [0, at+T)
  // dequantized to x's dtype.
  at::Tensor store_int8(at::Tensor& codes, at::Tensor& scales, const at::Tensor& x, int64_t at);

  int64_t batch_;
  int64_t length_ = 0;
  KvStorage storage_ = KvStorage::kCompute;
  int64_t group_ = 0;                   // int8 storage: elements per scale
  std::vector<at::Tensor> keys_;        // per layer [B,Hkv,capacity,D] (int8 codes for kInt8)
  std::vector<at::Tensor> values_;      // per layer [B,Hkv,capacity,D]
  std::vector<at::Tensor> key_scales_;  // kInt8: per layer [B,Hkv,capacity,D/group]
  std::vector<at::Tensor> value_scales_;
  at::Tensor valid_;          // [B, capacity] bool
  at::Tensor next_position_;  // [B] int64
};

}  // namespace slmq
