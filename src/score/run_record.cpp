#include "slmq/score/run_record.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "slmq/core/error.h"

namespace slmq::score {
namespace {

using nlohmann::json;

// Reads one JSON object, remembering which keys were consumed so the rest can be reported.
class Reader {
 public:
  Reader(const json& obj, std::string path, const std::string& source,
         std::vector<std::string>* unknown)
      : obj_(obj), path_(std::move(path)), source_(source), unknown_(unknown) {
    if (!obj_.is_object()) fail(path_.empty() ? "<document>" : path_, "must be a JSON object");
  }
  ~Reader() {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (!used_.count(it.key())) unknown_->push_back(key(it.key()));
    }
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  [[noreturn]] void fail(const std::string& key_path, const std::string& what) const {
    throw DataError(fmt::format("{}: '{}' {}", source_, key_path, what));
  }
  std::string key(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }
  const json* find(const std::string& k) {
    used_.insert(k);
    auto it = obj_.find(k);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }
  const json& require(const std::string& k) {
    const json* v = find(k);
    if (!v) fail(key(k), "is required");
    return *v;
  }
  std::optional<double> number(const std::string& k, double min = -HUGE_VAL) {
    const json* v = find(k);
    if (!v) return std::nullopt;
    if (!v->is_number()) fail(key(k), "must be a number");
    double d = v->get<double>();
    if (!std::isfinite(d) || d < min)
      fail(key(k), fmt::format("must be a finite number >= {}", min));
    return d;
  }
  std::optional<std::int64_t> integer(const std::string& k, std::int64_t min) {
    const json* v = find(k);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) fail(key(k), "must be an integer");
    auto i = v->get<std::int64_t>();
    if (i < min) fail(key(k), fmt::format("must be >= {}", min));
    return i;
  }
  std::optional<int> small_int(const std::string& k, int min) {
    auto i = integer(k, min);
    return i ? std::optional<int>(static_cast<int>(*i)) : std::nullopt;
  }
  std::string string(const std::string& k, const std::string& fallback = "") {
    const json* v = find(k);
    if (!v) return fallback;
    if (!v->is_string()) fail(key(k), "must be a string");
    return v->get<std::string>();
  }
  std::optional<bool> boolean(const std::string& k) {
    const json* v = find(k);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) fail(key(k), "must be true or false");
    return v->get<bool>();
  }
  Reader child(const std::string& k) {
    static const json kEmpty = json::object();
    const json* v = find(k);
    return Reader(v ? *v : kEmpty, key(k), source_, unknown_);
  }
  const std::string& source() const { return source_; }

 private:
  const json& obj_;
  std::string path_;
  const std::string& source_;
  std::vector<std::string>* unknown_;
  std::set<std::string> used_;
};

ModelInfo read_model(Reader r) {
  ModelInfo m;
  m.name = r.string("name");
  if (m.name.empty()) r.fail(r.key("name"), "is required and must be non-empty");
  m.family = r.string("family");
  m.params = r.integer("params", 1);
  m.source = r.string("source");
  m.dtype = r.string("dtype");
  return m;
}

// "FP32" for float32, "BF16" for bfloat16, "FP16" for float16 and when unknown (the published
// tables' baselines).
std::string dtype_label(const std::string& dtype) {
  if (dtype == "float32") return "FP32";
  if (dtype == "bfloat16") return "BF16";
  if (dtype.empty() || dtype == "float16") return "FP16";
  return dtype;
}

QuantInfo read_quant(Reader r, const std::string& model_dtype) {
  QuantInfo q;
  q.method = r.string("method", "none");
  q.w_bits = r.small_int("w_bits", 1).value_or(16);
  q.a_bits = r.small_int("a_bits", 1).value_or(16);
  q.kv_bits = r.small_int("kv_bits", 1);
  // One encoding: a group size only for per_group weights. Files written before it said -1 for
  // per channel; read that as no group (docs/result_schema.md).
  q.group_size = r.small_int("group_size", -1);
  if (q.group_size && *q.group_size < 1) q.group_size.reset();
  q.label = r.string("label");
  // Written by `slmquant run` for the record; the scores do not use them.
  r.find("granularity");
  r.find("config");
  r.find("summary");
  if (q.label.empty()) {
    q.label = q.is_baseline() ? dtype_label(model_dtype)
                              : fmt::format("{} W{}A{}", q.method, q.w_bits, q.a_bits);
  }
  return q;
}

std::vector<std::int8_t> read_correct(Reader& r, const std::string& k) {
  std::vector<std::int8_t> out;
  const json* v = r.find(k);
  if (!v) return out;
  if (!v->is_array()) r.fail(r.key(k), "must be an array of 0/1");
  out.reserve(v->size());
  for (const auto& x : *v) {
    if (!x.is_number_integer() || (x.get<int>() != 0 && x.get<int>() != 1)) {
      r.fail(r.key(k), "must contain only 0 and 1");
    }
    out.push_back(static_cast<std::int8_t>(x.get<int>()));
  }
  return out;
}

std::vector<std::int64_t> read_ids(Reader& r, const std::string& k) {
  std::vector<std::int64_t> out;
  const json* v = r.find(k);
  if (!v) return out;
  if (!v->is_array()) r.fail(r.key(k), "must be an array of integers");
  for (const auto& x : *v) {
    if (!x.is_number_integer()) r.fail(r.key(k), "must contain only integers");
    out.push_back(x.get<std::int64_t>());
  }
  return out;
}

TaskResult read_task(Reader r) {
  TaskResult t;
  std::string kind = r.string("kind", "accuracy");
  if (kind == "accuracy") {
    t.kind = TaskKind::kAccuracy;
  } else if (kind == "perplexity") {
    t.kind = TaskKind::kPerplexity;
  } else {
    r.fail(r.key("kind"), "must be \"accuracy\" or \"perplexity\"");
  }
  t.metric = r.string("metric");
  if (t.metric.empty()) r.fail(r.key("metric"), "is required");
  if (!r.find("value")) r.fail(r.key("value"), "is required");
  t.value = *r.number("value", 0);
  if (t.kind == TaskKind::kAccuracy && t.value > 1) {
    r.fail(r.key("value"), "is an accuracy and must be a fraction in [0, 1]");
  }
  if (t.kind == TaskKind::kPerplexity && t.value < 1)
    r.fail(r.key("value"), "is a perplexity and must be >= 1");
  t.stderr_value = r.number("stderr", 0);
  t.n = r.integer("n", 1);
  t.num_fewshot = r.small_int("num_fewshot", 0);
  t.correct = read_correct(r, "correct");
  t.doc_ids = read_ids(r, "doc_ids");
  if (!t.doc_ids.empty() && t.doc_ids.size() != t.correct.size()) {
    r.fail(r.key("doc_ids"), "must have as many entries as 'correct'");
  }
  if (!t.correct.empty() && t.n && *t.n != static_cast<std::int64_t>(t.correct.size())) {
    r.fail(r.key("correct"), fmt::format("has {} items but n is {}", t.correct.size(), *t.n));
  }
  if (!t.correct.empty() && !t.n) t.n = static_cast<std::int64_t>(t.correct.size());
  return t;
}

Profile read_profile(Reader r) {
  Profile p;
  p.device = r.string("device");
  p.batch_size = r.small_int("batch_size", 1);
  p.prompt_tokens = r.small_int("prompt_tokens", 0);
  p.output_tokens = r.small_int("output_tokens", 0);
  p.latency_ms_p50 = r.number("latency_ms_p50", 0);
  p.latency_ms_p95 = r.number("latency_ms_p95", 0);
  p.latency_ms_p99 = r.number("latency_ms_p99", 0);
  p.tokens_per_s = r.number("tokens_per_s", 0);
  p.prefill_tokens_per_s = r.number("prefill_tokens_per_s", 0);
  p.decode_tokens_per_s = r.number("decode_tokens_per_s", 0);
  p.peak_memory_mib = r.number("peak_memory_mib", 0);
  p.memory_kind = r.string("memory_kind", "allocator");
  if (p.memory_kind != "allocator" && p.memory_kind != "device_used") {
    r.fail(r.key("memory_kind"), "must be \"allocator\" or \"device_used\"");
  }
  p.model_size_mib = r.number("model_size_mib", 0);
  p.gmacs = r.number("gmacs", 0);
  p.energy_j = r.number("energy_j", 0);
  p.energy_tokens = r.number("energy_tokens", 0);
  p.energy_idle_subtracted = r.boolean("energy_idle_subtracted");
  p.iterations = r.small_int("iterations", 0);
  p.warmup = r.small_int("warmup", 0);
  p.ttft_ms_p50 = r.number("ttft_ms_p50", 0);
  p.tpot_ms_p50 = r.number("tpot_ms_p50", 0);
  // The profile's details (docs/result_schema.md): kept in the file, not scored.
  for (const char* k :
       {"threads", "seed", "backends", "prefill_tokens_per_s_stddev", "decode_tokens_per_s_stddev",
        "stats", "memory", "macs", "energy", "repetitions"})
    r.find(k);
  return p;
}

QuantCost read_quant_cost(Reader r) {
  QuantCost c;
  c.wall_time_s = r.number("wall_time_s", 0);
  c.peak_memory_mib = r.number("peak_memory_mib", 0);
  c.device = r.string("device");
  r.find("memory_kind");
  r.find("phase_seconds");
  return c;
}

}  // namespace

namespace {

void read_document(const json& doc, const std::string& source, RunRecord* out) {
  RunRecord& rec = *out;
  Reader top(doc, "", source, &rec.unknown_keys);
  if (!top.find("schema_version"))
    top.fail("schema_version", "is missing: not an slmquant result file");
  auto version = top.integer("schema_version", 0);
  if (*version != kRunSchemaVersion) {
    top.fail("schema_version",
             fmt::format("is {}; this slmquant reads version {}", *version, kRunSchemaVersion));
  }
  rec.run_id = top.string("run_id");
  rec.config_hash = top.string("config_hash");
  rec.status = top.string("status", "ok");
  if (rec.status != "ok" && rec.status != "failed")
    top.fail("status", "must be \"ok\" or \"failed\"");
  rec.failed_reason = top.string("failed_reason");
  if (!top.find("model")) top.fail("model", "is required");
  rec.model = read_model(top.child("model"));
  rec.quant = read_quant(top.child("quant"), rec.model.dtype);
  {
    Reader eval = top.child("eval");
    Reader tasks = eval.child("tasks");
    if (const json* t = eval.find("tasks")) {
      for (auto it = t->begin(); it != t->end(); ++it) {
        tasks.find(it.key());
        rec.tasks[it.key()] =
            read_task(Reader(it.value(), tasks.key(it.key()), source, &rec.unknown_keys));
      }
    }
  }
  rec.profile = read_profile(top.child("profile"));
  rec.quant_cost = read_quant_cost(top.child("quant_cost"));
  if (const json* env = top.find("environment")) {
    if (!env->is_object()) top.fail("environment", "must be a JSON object");
    rec.environment = *env;
  }
  if (rec.ok() && rec.tasks.empty()) {
    top.fail("eval.tasks", "is empty in a run whose status is \"ok\" (partial result?)");
  }
}

}  // namespace

RunRecord parse_run_record(const json& doc, const std::string& source) {
  RunRecord rec;
  read_document(doc, source, &rec);
  // Readers report unknown keys from their destructors, so they are complete only here.
  std::sort(rec.unknown_keys.begin(), rec.unknown_keys.end());
  return rec;
}

RunRecord load_run_record(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: cannot be read", path.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  json doc;
  try {
    doc = json::parse(ss.str());
  } catch (const json::parse_error& e) {
    throw DataError(fmt::format("{}: not valid JSON (byte {})", path.string(), e.byte));
  } catch (const json::exception& e) {
    // A number out of double's range (1e400) is out_of_range, not a parse_error.
    throw DataError(fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  }
  RunRecord rec = parse_run_record(doc, path.string());
  rec.path = path;
  return rec;
}

namespace {

template <typename T>
void put(nlohmann::json& obj, const char* key, const std::optional<T>& v) {
  if (v) obj[key] = *v;
}

void put(nlohmann::json& obj, const char* key, const std::string& v) {
  if (!v.empty()) obj[key] = v;
}

nlohmann::json task_json(const TaskResult& t) {
  nlohmann::json j = {{"kind", t.kind == TaskKind::kAccuracy ? "accuracy" : "perplexity"},
                      {"metric", t.metric},
                      {"value", t.value}};
  put(j, "stderr", t.stderr_value);
  put(j, "n", t.n);
  put(j, "num_fewshot", t.num_fewshot);
  if (!t.correct.empty()) j["correct"] = t.correct;
  if (!t.doc_ids.empty()) j["doc_ids"] = t.doc_ids;
  return j;
}

nlohmann::json profile_json(const Profile& p) {
  nlohmann::json j = nlohmann::json::object();
  put(j, "device", p.device);
  put(j, "batch_size", p.batch_size);
  put(j, "prompt_tokens", p.prompt_tokens);
  put(j, "output_tokens", p.output_tokens);
  put(j, "latency_ms_p50", p.latency_ms_p50);
  put(j, "latency_ms_p95", p.latency_ms_p95);
  put(j, "latency_ms_p99", p.latency_ms_p99);
  put(j, "tokens_per_s", p.tokens_per_s);
  put(j, "prefill_tokens_per_s", p.prefill_tokens_per_s);
  put(j, "decode_tokens_per_s", p.decode_tokens_per_s);
  put(j, "peak_memory_mib", p.peak_memory_mib);
  j["memory_kind"] = p.memory_kind;
  put(j, "model_size_mib", p.model_size_mib);
  put(j, "gmacs", p.gmacs);
  put(j, "energy_j", p.energy_j);
  put(j, "energy_tokens", p.energy_tokens);
  put(j, "energy_idle_subtracted", p.energy_idle_subtracted);
  put(j, "iterations", p.iterations);
  put(j, "warmup", p.warmup);
  put(j, "ttft_ms_p50", p.ttft_ms_p50);
  put(j, "tpot_ms_p50", p.tpot_ms_p50);
  return j;
}

}  // namespace

nlohmann::json to_json(const RunRecord& r) {
  nlohmann::json j = {{"schema_version", r.schema_version}, {"status", r.status}};
  put(j, "run_id", r.run_id);
  put(j, "config_hash", r.config_hash);
  put(j, "failed_reason", r.failed_reason);
  j["model"] = {{"name", r.model.name}};
  put(j["model"], "family", r.model.family);
  put(j["model"], "params", r.model.params);
  put(j["model"], "source", r.model.source);
  put(j["model"], "dtype", r.model.dtype);
  j["quant"] = {{"method", r.quant.method},
                {"label", r.quant.label},
                {"w_bits", r.quant.w_bits},
                {"a_bits", r.quant.a_bits}};
  put(j["quant"], "kv_bits", r.quant.kv_bits);
  put(j["quant"], "group_size", r.quant.group_size);
  j["eval"]["tasks"] = nlohmann::json::object();
  for (const auto& [name, t] : r.tasks) j["eval"]["tasks"][name] = task_json(t);
  j["profile"] = profile_json(r.profile);
  j["quant_cost"] = nlohmann::json::object();
  put(j["quant_cost"], "wall_time_s", r.quant_cost.wall_time_s);
  put(j["quant_cost"], "peak_memory_mib", r.quant_cost.peak_memory_mib);
  put(j["quant_cost"], "device", r.quant_cost.device);
  j["environment"] = r.environment;
  return j;
}

}  // namespace slmq::score
