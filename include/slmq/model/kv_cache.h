#pragma once
// Keys and values of every layer for a batch of sequences, in slots shared by all rows; padding
// slots are marked invalid so attention skips them. Grows by doubling when full.
#include <ATen/core/Tensor.h>

#include <utility>
#include <vector>

#include "slmq/model/model_config.h"

namespace slmq {

class KVCache {
 public:
  KVCache(const ModelConfig& config, int64_t batch, int64_t capacity, c10::ScalarType dtype,
          c10::Device device);

  int64_t batch() const { return batch_; }
  int64_t length() const { return length_; }  // slots filled so far

  // Next position id of each row ([B] int64): the number of valid tokens seen so far.
  const at::Tensor& next_position() const { return next_position_; }
  // [B, length] bool: which filled slots hold real tokens.
  at::Tensor valid() const;

  // Writes k, v [B,Hkv,T,D] for `layer` at slots [length, length+T) and returns keys and values
  // of slots [0, length+T). Call for every layer, then commit().
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
  float* keys_data(int64_t layer);    // [B, Hkv, capacity, D] float32
  float* values_data(int64_t layer);  // [B, Hkv, capacity, D] float32
  const bool* valid_data() const;     // [B, capacity]
  // Commits one slot in which every row holds a real token (a decode step), as commit() with an
  // all-ones mask does.
  void advance_all_valid();

 private:
  int64_t batch_;
  int64_t length_ = 0;
  std::vector<at::Tensor> keys_;    // per layer [B,Hkv,capacity,D]
  std::vector<at::Tensor> values_;  // per layer [B,Hkv,capacity,D]
  at::Tensor valid_;                // [B, capacity] bool
  at::Tensor next_position_;        // [B] int64
};

}  // namespace slmq
