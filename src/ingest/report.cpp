// Sync reports: JSON (stored for the UI, printed with --json) and a text table.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json_text.h"
#include "ingest/sync.h"

namespace strata::ingest {
namespace {

nlohmann::json optional_text(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

nlohmann::json report_to_json(const SyncReport& report) {
  nlohmann::json streams = nlohmann::json::array();
  for (const StreamReport& s : report.streams) {
    streams.push_back({{"stream", s.stream},
                       {"bronze", s.bronze},
                       {"mode", s.mode},
                       {"status", s.ok ? "success" : "failed"},
                       {"error", s.ok ? nlohmann::json(nullptr) : nlohmann::json(s.error)},
                       {"rows", s.rows},
                       {"bytes", s.bytes},
                       {"nulled_values", s.notes},
                       {"seconds", s.seconds},
                       {"stage_seconds", s.stage_seconds},
                       {"merge_seconds", s.merge_seconds},
                       {"rows_per_second", s.seconds > 0 ? static_cast<double>(s.rows) / s.seconds : 0.0},
                       {"parallelism", s.parallelism},
                       {"cursor_before", optional_text(s.cursor_before)},
                       {"cursor_after", optional_text(s.cursor_after)},
                       {"schema_changes", s.schema_changes},
                       {"warnings", s.warnings}});
  }
  return {{"sync_id", report.sync_id},         {"connection", report.connection},
          {"started_at", report.started_at},   {"finished_at", report.finished_at},
          {"status", report.ok() ? "success" : "failed"}, {"streams", streams}};
}

std::string report_to_text(const SyncReport& report) {
  std::ostringstream out;
  out << "sync " << report.sync_id << " of connection " << report.connection << ": "
      << (report.ok() ? "success" : "FAILED") << "\n";
  for (const StreamReport& s : report.streams) {
    out << "  " << s.stream << " -> " << s.bronze << "  [" << s.mode << "]  ";
    if (!s.ok) {
      out << "FAILED: " << s.error << "\n";
      continue;
    }
    double mb = static_cast<double>(s.bytes) / 1e6;
    out << s.rows << " rows, " << fixed(mb, 1) << " MB, " << fixed(s.seconds, 2) << " s";
    if (s.seconds > 0) {
      out << " (" << fixed(mb / s.seconds, 1) << " MB/s; stage " << fixed(s.stage_seconds, 2) << " s, merge "
          << fixed(s.merge_seconds, 2) << " s)";
    }
    if (s.parallelism > 1) out << ", " << s.parallelism << " readers";
    if (s.cursor_before || s.cursor_after) {
      out << ", cursor " << s.cursor_before.value_or("(none)") << " -> " << s.cursor_after.value_or("(none)");
    }
    out << "\n";
    for (const std::string& c : s.schema_changes) out << "    schema: " << c << "\n";
    for (const std::string& w : s.warnings) out << "    warning: " << w << "\n";
  }
  return out.str();
}

Status store_report(const SyncReport& report, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kFailed, "cannot create " + dir + ": " + ec.message());
  std::string path = (std::filesystem::path(dir) / (report.sync_id + ".json")).string();
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << json_text(report_to_json(report), 2) << "\n";
    if (!f) return Error(ErrorCode::kFailed, "cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error(ErrorCode::kFailed, "cannot write " + path + ": " + ec.message());
  return ok_status();
}

}  // namespace strata::ingest
