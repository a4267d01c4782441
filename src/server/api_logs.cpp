// Attempt logs: full, tail, text download and live Server-Sent Events.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/json_text.h"
#include "common/time.h"
#include "server/api.h"

namespace strata::server {
namespace {

constexpr size_t kMaxJsonLog = 8u << 20;
constexpr size_t kStreamChunk = 256u << 10;
constexpr int64_t kPingEvery = 10'000'000;

// An attempt's log: the local file, or, when this process has no file for it (another scheduler,
// perhaps on another machine, executed the attempt with `strata worker`s), the log its worker
// shipped to the metadata store (refresh_log() reads the chunks added since the last call).
struct LogRef {
  std::string pipeline, run_id, task_id, path;
  int try_number = 0;
  bool from_store = false;
  std::string shipped;       // from_store: the text read so far
  int64_t shipped_seq = 0;   // from_store: the last chunk read
};

void refresh_log(Api& api, LogRef& ref) {
  if (!ref.from_store) return;
  auto chunks = api.ctx.store->work_log(
      orchestrate::WorkKey{ref.pipeline, ref.run_id, ref.task_id, ref.try_number}, ref.shipped_seq);
  if (!chunks.ok()) return;
  for (const auto& [seq, text] : *chunks) {
    ref.shipped += text;
    ref.shipped_seq = seq;
  }
}

// The attempt's log file, checked to lie inside the log root (no traversal through stored paths).
Result<LogRef> find_log(Api& api, const httplib::Request& req) {
  LogRef ref;
  ref.run_id = capture(req, 1);
  ref.task_id = capture(req, 2);
  const std::string try_text = capture(req, 3);
  if (try_text.empty() || try_text.size() > 6)
    return Error(ErrorCode::kUsage, "the try number must be a positive integer", {}, "…/logs/1");
  ref.try_number = std::stoi(try_text);
  STRATA_ASSIGN(auto run, require_run(api, req, ref.run_id));
  ref.pipeline = run.pipeline;
  STRATA_ASSIGN(auto attempts, api.ctx.store->attempts(ref.pipeline, ref.run_id, ref.task_id));
  for (const auto& a : attempts) {
    if (a.try_number != ref.try_number) continue;
    std::error_code ec;
    const auto root = std::filesystem::weakly_canonical(api.ctx.log_root, ec);
    const auto file = std::filesystem::weakly_canonical(a.log_path, ec);
    const std::string r = root.string() + "/";
    const bool inside = !ec && file.string().compare(0, r.size(), r) == 0;
    if (inside && std::filesystem::exists(file, ec)) {
      ref.path = file.string();
      return ref;
    }
    // Not a file of this process: the log a worker shipped, if a worker ran it.
    auto item = api.ctx.store->work_item(orchestrate::WorkKey{ref.pipeline, ref.run_id, ref.task_id, ref.try_number});
    if (item.ok() && item->has_value()) {
      ref.from_store = true;
      refresh_log(api, ref);
      return ref;
    }
    if (!inside) return Error(ErrorCode::kNotFound, "the log of this attempt is not under the log folder");
    ref.path = file.string();
    return ref;
  }
  return Error(ErrorCode::kNotFound, "task '" + ref.task_id + "' of run '" + ref.run_id + "' has no try " + try_text,
               {}, "GET /api/v1/runs/" + ref.run_id + "/tasks/" + ref.task_id + "?pipeline=" + ref.pipeline +
                       " lists its attempts");
}

// Reads [offset, offset + max) of a file; empty when nothing is there.
std::string read_file_range(const std::string& path, uint64_t offset, size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(max, '\0');
  in.read(out.data(), static_cast<std::streamsize>(max));
  out.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  return out;
}

uint64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// [offset, offset + max) of the log, from its file or from what was read from the store.
std::string read_range(const LogRef& ref, uint64_t offset, size_t max) {
  if (!ref.from_store) return read_file_range(ref.path, offset, max);
  if (offset >= ref.shipped.size()) return "";
  return ref.shipped.substr(static_cast<size_t>(offset), max);
}

uint64_t log_size(const LogRef& ref) { return ref.from_store ? ref.shipped.size() : file_size_or_zero(ref.path); }

// The last `lines` lines of text.
std::string tail_lines(const std::string& text, int lines) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (int n = 0; n < lines; ++n) {
    const size_t nl = pos == 0 ? std::string::npos : text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    pos = nl;
  }
  return text.substr(pos + 1);
}

Result<bool> attempt_finished(Api& api, const LogRef& ref) {
  STRATA_ASSIGN(auto attempts, api.ctx.store->attempts(ref.pipeline, ref.run_id, ref.task_id));
  for (const auto& a : attempts)
    if (a.try_number == ref.try_number)  // a sensor between pokes appends to this try's log again
      return a.state != orchestrate::TaskState::kRunning && a.state != orchestrate::TaskState::kUpForReschedule;
  return true;
}

std::string sse_event(const char* event, const Json& data, int64_t id) {
  std::string out;
  if (id >= 0) out += "id: " + std::to_string(id) + "\n";
  out += std::string("event: ") + event + "\ndata: " + json_text(data) +
         "\n\n";
  return out;
}

// One live log stream: each call of step() sends what is new, or waits a poll interval.
struct LogStream {
  Api& api;
  LogRef ref;
  uint64_t offset = 0;
  int64_t last_write = 0;

  bool write(httplib::DataSink& sink, const std::string& text) {
    last_write = monotonic_micros();
    return sink.write(text.data(), text.size());
  }

  bool step(httplib::DataSink& sink) {
    if (api.stopping) {
      sink.done();
      return true;
    }
    auto finished = attempt_finished(api, ref);
    const bool done = !finished.ok() || *finished;
    refresh_log(api, ref);
    std::string chunk = read_range(ref, offset, kStreamChunk);
    const size_t nl = chunk.rfind('\n');
    if (nl != std::string::npos || (done && !chunk.empty())) {
      // Only whole lines while the attempt runs, so a secret is never split across two events.
      if (!done || chunk.size() == kStreamChunk) chunk.resize(nl == std::string::npos ? chunk.size() : nl + 1);
      offset += chunk.size();
      return write(sink, sse_event("log", {{"text", api.mask(chunk)}}, static_cast<int64_t>(offset)));
    }
    if (done) {
      auto state = api.ctx.store->attempts(ref.pipeline, ref.run_id, ref.task_id);
      std::string name = "unknown";
      if (state.ok())
        for (const auto& a : *state)
          if (a.try_number == ref.try_number) name = orchestrate::task_state_name(a.state);
      if (!write(sink, sse_event("end", {{"state", name}}, static_cast<int64_t>(offset)))) return false;
      sink.done();
      return true;
    }
    if (monotonic_micros() - last_write > kPingEvery && !write(sink, ": ping\n\n")) return false;
    const int64_t deadline = monotonic_micros() + api.options.sse_poll_ms * 1000;
    while (!api.stopping && monotonic_micros() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return true;
  }
};

Result<uint64_t> stream_start(const httplib::Request& req) {
  std::string text = req.has_param("offset") ? req.get_param_value("offset") : req.get_header_value("Last-Event-ID");
  if (text.empty()) return uint64_t{0};
  if (text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos)
    return Error(ErrorCode::kUsage, "the offset must be a byte count", {}, "offset=0");
  return static_cast<uint64_t>(std::stoll(text));
}

}  // namespace

void add_log_routes(Routes& routes, Api& api) {
  const std::string base = R"(/api/v1/runs/([^/]+)/tasks/([^/]+)/logs/([0-9]+))";
  routes.get_raw(base, [&api](const httplib::Request& req, httplib::Response& res) {
    auto ref = find_log(api, req);
    if (!ref.ok()) return write_error(res, http_status_of(ref.error()), ref.error().message(), ref.error().hint(), api);
    auto tail = int_param(req, "tail", 0, 0, 1'000'000);
    if (!tail.ok()) return write_error(res, 400, tail.error().message(), tail.error().hint(), api);
    const uint64_t size = log_size(*ref);
    if (req.get_param_value("format") == "text") {
      const std::string name = ref->task_id + "." + std::to_string(ref->try_number) + ".log";
      res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
      std::string text = api.mask(read_range(*ref, 0, static_cast<size_t>(size)));
      if (*tail > 0) text = tail_lines(text, *tail);
      res.set_content(text, "text/plain; charset=utf-8");
      return;
    }
    const uint64_t from = size > kMaxJsonLog ? size - kMaxJsonLog : 0;
    std::string text = read_range(*ref, from, static_cast<size_t>(size - from));
    if (*tail > 0) text = tail_lines(text, *tail);
    auto finished = attempt_finished(api, *ref);
    Json body = {{"run_id", ref->run_id},       {"pipeline", ref->pipeline}, {"task_id", ref->task_id},
                 {"try_number", ref->try_number}, {"content", api.mask(text)},
                 {"size", size},                 {"truncated", from > 0},
                 {"finished", finished.ok() && *finished}};
    res.set_header("Cache-Control", "no-store");
    res.set_content(json_text(body), kJsonContentType);
  });
  routes.get_raw(base + "/stream", [&api](const httplib::Request& req, httplib::Response& res) {
    auto ref = find_log(api, req);
    if (!ref.ok()) return write_error(res, http_status_of(ref.error()), ref.error().message(), ref.error().hint(), api);
    auto start = stream_start(req);
    if (!start.ok()) return write_error(res, 400, start.error().message(), start.error().hint(), api);
    auto stream = std::make_shared<LogStream>(LogStream{api, *ref, *start, monotonic_micros()});
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider("text/event-stream",
                                     [stream](size_t, httplib::DataSink& sink) { return stream->step(sink); });
  });
}

}  // namespace strata::server
