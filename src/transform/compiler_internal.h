#pragma once
// Internal to the compiler: host objects of the dbt Jinja context. Not a public API.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "jinja/environment.h"
#include "jinja/template.h"
#include "jinja/value.h"
#include "transform/compiler.h"

namespace strata::transform::detail {

const char* builtin_macros_source();

// A relation as templates see it: `{{ rel }}` prints the quoted name; attributes database,
// schema, identifier/name/table, type, is_table, is_view.
class RelationObject : public jinja::Object {
 public:
  RelationObject(const sql::Dialect& dialect, std::string database, std::string schema, std::string identifier,
                 std::string type = "table")
      : dialect_(dialect), database_(std::move(database)), schema_(std::move(schema)),
        identifier_(std::move(identifier)), type_(std::move(type)) {}
  std::string type_name() const override { return "Relation"; }
  std::optional<jinja::Value> get_attr(std::string_view name) const override;
  std::string to_string() const override;

  const std::string& database() const { return database_; }
  const std::string& schema() const { return schema_; }
  const std::string& identifier() const { return identifier_; }

 private:
  const sql::Dialect& dialect_;
  std::string database_, schema_, identifier_, type_;
};

// State of one render, reached through CallContext::user_data().
struct RenderState {
  size_t node = static_cast<size_t>(-1);
  RenderOptions options;
  bool parse_mode = false;
  ParseCapture capture;
  std::vector<size_t> ephemerals;  // ephemeral nodes referenced, in order
  std::map<std::string, jinja::Value> statements;
};

// Converts a query result into dbt's agate-like table value (rows, columns, column_names).
jinja::Value table_value(const std::vector<std::string>& names, const std::vector<std::vector<jinja::Value>>& rows);

}  // namespace strata::transform::detail
