#include "ingest/catalog.h"

#include <algorithm>
#include <array>
#include <sstream>

#include "common/strings.h"

namespace strata::ingest {
namespace {

// Names that usually mark a row's last change, best first.
constexpr std::array<const char*, 14> kCursorNames = {
    "updated_at", "modified_at", "last_modified", "last_modified_at", "last_updated", "last_updated_at",
    "changed_at", "updated",     "modified",      "update_time",      "modification_time", "_updated_at",
    "row_version", "version"};

bool cursor_capable(const sql::LogicalType& t) {
  switch (t.id()) {
    case sql::TypeId::kTimestamp:
    case sql::TypeId::kTimestampTz:
    case sql::TypeId::kDate:
    case sql::TypeId::kInt16:
    case sql::TypeId::kInt32:
    case sql::TypeId::kInt64: return true;
    default: return false;
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string CatalogTable::not_readable_reason() const {
  return unlogged_on_standby ? "an unlogged table, whose rows a standby server does not have" : "no SELECT privilege";
}

std::string CatalogTable::not_readable_hint() const {
  return unlogged_on_standby ? "read it from the primary server, or leave the stream out"
                             : "grant the connection's user SELECT on the table, or leave the stream out";
}

const char* table_kind_name(TableKind kind) {
  switch (kind) {
    case TableKind::kTable: return "table";
    case TableKind::kView: return "view";
    case TableKind::kMaterializedView: return "materialized view";
    case TableKind::kPartitioned: return "partitioned table";
    case TableKind::kForeign: return "foreign table";
  }
  return "table";
}

const CatalogColumn* CatalogTable::column(const std::string& column_name) const {
  for (const CatalogColumn& c : columns) {
    if (c.name == column_name) return &c;
  }
  return nullptr;
}

const CatalogTable* Catalog::find(const std::string& schema, const std::string& name) const {
  for (const CatalogTable& t : tables) {
    if (t.schema == schema && t.name == name) return &t;
  }
  return nullptr;
}

std::vector<std::string> suggest_cursors(const std::vector<CatalogColumn>& columns) {
  std::vector<std::pair<size_t, std::string>> ranked;
  for (const CatalogColumn& c : columns) {
    if (c.mapping.array_depth > 0 || !cursor_capable(c.mapping.type)) continue;
    std::string name = lower(c.name);
    auto it = std::find(kCursorNames.begin(), kCursorNames.end(), name);
    bool is_time = c.mapping.type.id() == sql::TypeId::kTimestamp || c.mapping.type.id() == sql::TypeId::kTimestampTz;
    if (it != kCursorNames.end()) {
      ranked.emplace_back(static_cast<size_t>(it - kCursorNames.begin()), c.name);
    } else if (is_time && name.size() > 3 && name.ends_with("_at") && name != "deleted_at") {
      ranked.emplace_back(kCursorNames.size() + (name == "created_at" ? 1 : 0), c.name);
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& r : ranked) out.push_back(std::move(r.second));
  return out;
}

nlohmann::json catalog_to_json(const Catalog& catalog) {
  nlohmann::json tables = nlohmann::json::array();
  for (const CatalogTable& t : catalog.tables) {
    nlohmann::json cols = nlohmann::json::array();
    for (const CatalogColumn& c : t.columns) {
      cols.push_back({{"name", c.name},
                      {"pg_type", c.pg_type},
                      {"logical_type", c.mapping.type.to_string()},
                      {"nullable", !c.not_null},
                      {"read_as_text", c.mapping.cast_to_text}});
    }
    nlohmann::json rows = t.estimated_rows < 0 ? nlohmann::json(nullptr)
                                               : nlohmann::json(static_cast<int64_t>(t.estimated_rows));
    tables.push_back({{"schema", t.schema},
                      {"name", t.name},
                      {"stream", t.full_name()},
                      {"kind", table_kind_name(t.kind)},
                      {"readable", t.readable},
                      {"not_readable", t.readable ? nlohmann::json(nullptr) : nlohmann::json(t.not_readable_reason())},
                      {"estimated_rows", rows},
                      {"size_bytes", t.size_bytes},
                      {"primary_key", t.primary_key},
                      {"suggested_cursors", t.suggested_cursors},
                      {"columns", cols}});
  }
  return {{"tables", tables}};
}

std::optional<StreamName> parse_stream_name(const std::string& text, std::string& why) {
  const bool quoted = !text.empty() && (text[0] == '"' || text.find(".\"") != std::string::npos);
  if (!quoted) {
    // The first dot splits; the stream's table lookup tries the others. A double quote inside a
    // part is part of the name.
    const size_t dot = text.find('.');
    StreamName name{"public", text};
    if (dot != std::string::npos) name = {text.substr(0, dot), text.substr(dot + 1)};
    if (name.schema.empty() || name.table.empty()) {
      why = "it must be schema.table";
      return std::nullopt;
    }
    return name;
  }
  // Parts separated by dots; a part that starts with a double quote runs to its closing quote
  // ("" inside stands for one) and may hold dots.
  std::vector<std::string> parts{""};
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '.') {
      parts.emplace_back();
    } else if (text[i] != '"' || !parts.back().empty()) {
      parts.back() += text[i];
    } else {
      const size_t open = i;
      for (++i;; ++i) {
        if (i >= text.size()) {
          why = "the double quote at character " + std::to_string(open + 1) + " is never closed";
          return std::nullopt;
        }
        if (text[i] != '"') {
          parts.back() += text[i];
        } else if (i + 1 < text.size() && text[i + 1] == '"') {
          parts.back() += '"';
          ++i;
        } else {
          break;
        }
      }
      if (i + 1 < text.size() && text[i + 1] != '.') {
        why = "a dot must follow the closing double quote at character " + std::to_string(i + 1);
        return std::nullopt;
      }
    }
  }
  if (parts.size() == 1) parts.insert(parts.begin(), "public");
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    why = "it must be two parts, schema.table (a part that holds a dot in double quotes)";
    return std::nullopt;
  }
  return StreamName{parts[0], parts[1], true};
}

std::string quoted_stream_name(const std::string& schema, const std::string& table) {
  auto needs_quotes = [](const std::string& part) { return part.find_first_of(".\"") != std::string::npos; };
  if (!needs_quotes(schema) && !needs_quotes(table)) return schema + "." + table;
  auto quote = [](const std::string& part) {
    std::string out = "\"";
    for (char c : part) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  return quote(schema) + "." + quote(table);
}

std::string catalog_to_text(const Catalog& catalog) {
  std::ostringstream out;
  for (const CatalogTable& t : catalog.tables) {
    out << quoted_stream_name(t.schema, t.name) << "  (" << table_kind_name(t.kind);
    if (t.estimated_rows >= 0) out << ", ~" << static_cast<int64_t>(t.estimated_rows) << " rows";
    if (!t.readable) out << ", not readable: " << t.not_readable_reason();
    out << ")\n";
    out << "  primary key: " << (t.primary_key.empty() ? "(none)" : join(t.primary_key, ", ")) << "\n";
    if (!t.suggested_cursors.empty()) out << "  suggested cursor: " << join(t.suggested_cursors, ", ") << "\n";
    for (const CatalogColumn& c : t.columns) {
      out << "    " << c.name << "  " << c.pg_type << " -> " << c.mapping.type.to_string()
          << (c.not_null ? "  not null" : "") << "\n";
    }
  }
  if (catalog.tables.empty()) out << "(no tables found)\n";
  return out.str();
}

}  // namespace strata::ingest
