#pragma once
// connections/<name>.yml: a PostgreSQL source, a bronze destination and the streams to sync.
// Every mistake is a located kConfig error (file:line:col, what is wrong, what would fix it;
// exit code 2). Loading checks the file on its own; validate_streams() checks it against the
// source's discovered catalog (unknown table, missing cursor column, dedup without a key).
// Values are plain data; thread-compatible.

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/result.h"
#include "common/yaml.h"

namespace strata::ingest {

struct Catalog;  // discover.h

// The bronze columns of a cdc stream (Airbyte's _ab_cdc_lsn and _ab_cdc_deleted_at): the WAL
// position of the change (of the snapshot for rows of the first sync) as a BIGINT, and the
// commit time of a delete (NULL otherwise). A cdc stream's state keeps its position as the cursor
// of kLsnColumn ("16/B374D848").
inline constexpr const char* kLsnColumn = "_strata_lsn";
inline constexpr const char* kDeletedAtColumn = "_strata_deleted_at";

enum class SyncMode { kFullRefreshOverwrite, kFullRefreshAppend, kIncrementalAppend, kIncrementalDedup };
// "full_refresh_overwrite", …; parse also takes Airbyte's "incremental_deduped_history" for
// incremental_dedup, and returns nullopt for an unknown name.
const char* sync_mode_name(SyncMode mode);
std::optional<SyncMode> parse_sync_mode(std::string_view name);
inline bool is_incremental(SyncMode m) { return m == SyncMode::kIncrementalAppend || m == SyncMode::kIncrementalDedup; }

enum class SchemaChanges { kPropagate, kFail };

struct SourceConfig {
  std::string host = "localhost";
  int port = 5432;
  std::string database;
  std::string user;
  std::string password;  // a secret: registered with the masker, never printed
  std::string sslmode = "prefer";
  std::vector<std::string> schemas;  // empty = every non-system schema
  SourceLocation where_schemas;      // the schemas: value, when given
  // "standard" (cursor-based) or "cdc" (logical replication with pgoutput; see ingest/cdc.h).
  std::string replication = "standard";
  // cdc: the logical replication slot Strata creates on the first sync (default strata_<connection>)
  // and the publication the user creates (default strata_<connection>). Empty when standard.
  std::string replication_slot;
  std::string publication;
  SourceLocation where;
  SourceLocation where_replication, where_slot, where_publication;  // each value's, when given

  bool cdc() const { return replication == "cdc"; }

  // libpq key=value conninfo (values quoted). Contains the password: never log it.
  std::string conninfo() const;
};

struct DestinationConfig {
  std::string target;  // a profiles.yml target; empty = the profile's default
  std::string schema = "bronze";
  // Stop-gap until every caller resolves targets from profiles.yml: a DuckDB file (relative to the
  // connection file's project folder).
  std::string duckdb_path;
  SourceLocation where;
};

struct StreamConfig {
  std::string schema;  // source schema
  std::string table;   // source table
  SyncMode mode = SyncMode::kFullRefreshOverwrite;
  std::string cursor_field;              // empty when none
  std::vector<std::string> primary_key;  // empty = the table's own (filled by validate_streams)
  bool primary_key_given = false;
  // The name was written with quotes (parse_stream_name): schema and table are exact, where an
  // unquoted name's table is looked up at each of its dots.
  bool exact_name = false;
  std::vector<std::string> columns;      // empty = all
  int parallelism = 0;                   // 0 = automatic (by table size)
  std::string bronze_table;              // empty = bronze_table_name's default
  // Set by validate_streams on a stream of an unlisted connection that cannot run (its bronze
  // name collides, a column is named like Strata's own), or on a stream synced before whose table,
  // columns, cursor or key left the source: the sync reports it as failed and runs the others. A
  // listed stream never synced with such a problem is a configuration error instead.
  std::optional<Error> invalid;
  SourceLocation where, where_name, where_mode, where_cursor, where_key, where_columns;

  std::string full_name() const { return schema + "." + table; }
  // Whether the stream reads the source column `name` (every column without a columns: list).
  bool selects(const std::string& name) const {
    return columns.empty() || std::find(columns.begin(), columns.end(), name) != columns.end();
  }
};

struct ConnectionConfig {
  std::string name;       // the file's stem
  std::string file;       // as given
  std::string project_dir;  // the folder holding connections/ (the file's grandparent), or the file's folder
  SourceConfig source;
  DestinationConfig destination;
  SchemaChanges schema_changes = SchemaChanges::kPropagate;
  // Tables above this many bytes (pg_relation_size) are read by max_parallelism readers, when
  // they also fit in the source's shared_buffers (see read_parallelism in sync.h); a stream's
  // own `parallelism` overrides both.
  long long parallel_threshold_bytes = 256LL << 20;
  int max_parallelism = 4;
  bool streams_listed = false;  // false: every discovered table, full_refresh_overwrite
  SourceLocation where_streams;  // the streams: key's value, when listed
  std::vector<StreamConfig> streams;
  // The full names of the streams a sync's --stream left out (streams then holds the selected
  // ones): a cdc sync must not confirm its slot past their recorded positions.
  std::vector<std::string> unselected_streams;
  // Located "file:line:col: warning: …" lines for things that work but should change (a password
  // written in the file); callers print or log them.
  std::vector<std::string> warnings;
};

// The bronze table a source table lands in by default: its name for schema "public", else
// "<schema>_<table>".
std::string default_bronze_table(const std::string& source_schema, const std::string& source_table);
// The stream's bronze table: its `bronze_table`, else the default.
std::string bronze_table_name(const StreamConfig& stream);

// Loads a connection file. options.masker receives the password. Errors: kNotFound (unreadable),
// kConfig (located) for every mistake in the file.
Result<ConnectionConfig> load_connection_config(const std::string& path, const YamlOptions& options = {});
// Resolves a CONN argument: a path to a .yml/.yaml file as is, else `<project_dir>/connections/<name>.yml`.
std::string connection_path(const std::string& project_dir, const std::string& name_or_path);

// What the warehouse's state records of a stream synced before (see StateTable::synced).
struct SyncedStream {
  std::string cursor_field;
  std::string primary_key;  // a JSON array of names; empty when the state predates recording it
};
using SyncedStreams = std::map<std::string, SyncedStream>;  // by stream name (schema.table)

// Checks the streams against the catalog and fills defaults: without a streams list, one
// full_refresh_overwrite stream per discovered table; primary keys from the catalog when not given.
// Errors (kConfig, located at the stream's key): a schema of source.schemas the source lacks,
// unknown table, unknown column, cursor column missing or of a type no cursor may have (see
// cursor_type_supported), dedup without a primary key, a column named like Strata's own
// (`_strata_…`), two columns or two streams' bronze tables whose names differ in case only (as
// DuckDB compares them), no stream at all. Without a streams list, the streams with the last
// problems but one are marked `invalid` instead (as is the second of two tables with one stream
// name). A stream name whose schema holds a dot is matched against the catalog at every dot. A
// stream in `synced` (it has a state: synced before) whose schema, table, columns, cursor or key
// left the source is marked `invalid` instead, so it fails alone and the other streams run: the
// source changed, not the file. When the file changed what failed (another cursor_field or
// primary_key than the state recorded), the problem is the file's: a located error as for a new
// stream.
Status validate_streams(ConnectionConfig& config, const Catalog& catalog, const SyncedStreams& synced = {});

}  // namespace strata::ingest
