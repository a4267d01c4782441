#include "ingest/cdc.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include <unistd.h>

#include "common/strings.h"
#include "common/time.h"
#include "ingest/bronze.h"
#include "ingest/discover.h"

namespace strata::ingest {
namespace {

// Where a source setting's error points: the value's own location, else the replication: value's.
const SourceLocation& located(const SourceLocation& own, const SourceConfig& source) {
  if (!own.empty()) return own;
  return source.where_replication.empty() ? source.where : source.where_replication;
}

Error config_error(const SourceLocation& at, std::string message, std::string hint) {
  return Error(ErrorCode::kConfig, std::move(message), at, std::move(hint));
}

std::string relation_text(const StreamConfig& s) {
  return pg::Connection::quote_identifier(s.schema) + "." + pg::Connection::quote_identifier(s.table);
}

// wal_level, the publication and its tables, each table's replica identity and column types.
Status check_source(const ConnectionConfig& config, pg::Connection& source, const Catalog& catalog) {
  const SourceConfig& src = config.source;
  STRATA_ASSIGN(pg::PgResult level, source.exec("SHOW wal_level"));
  if (level.value(0, 0) != "logical") {
    return config_error(located({}, src),
                        "the source's wal_level is " + std::string(level.value(0, 0)) +
                            "; replication: cdc needs wal_level = logical",
                        "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (or use replication: standard)");
  }
  std::vector<std::string> tables;
  for (const StreamConfig& s : config.streams) tables.push_back(relation_text(s));
  STRATA_ASSIGN(pg::PgResult pub,
                source.exec_params("SELECT pubviaroot FROM pg_publication WHERE pubname = $1", {src.publication}));
  if (pub.rows() == 0) {
    return config_error(located(src.where_publication, src), "publication '" + src.publication + "' does not exist",
                        "create it as a superuser or the tables' owner: CREATE PUBLICATION " +
                            pg::Connection::quote_identifier(src.publication) + " FOR TABLE " +
                            join(tables, ", ") + ";");
  }
  STRATA_ASSIGN(pg::PgResult published, source.exec_params("SELECT schemaname, tablename FROM pg_publication_tables "
                                                           "WHERE pubname = $1",
                                                           {src.publication}));
  std::set<std::pair<std::string, std::string>> in_publication;
  for (int r = 0; r < published.rows(); ++r) {
    in_publication.emplace(std::string(published.value(r, 0)), std::string(published.value(r, 1)));
  }
  for (const StreamConfig& s : config.streams) {
    if (s.invalid) continue;
    const CatalogTable* table = catalog.find(s.schema, s.table);
    // Without publish_via_partition_root, a partition's changes come under the partition's name.
    if (table && table->kind == TableKind::kPartitioned && pub.value(0, 0) != "t") {
      return config_error(s.where_name,
                          "table " + s.full_name() + " is partitioned, and publication '" + src.publication +
                              "' publishes its partitions' changes under their own names",
                          "ALTER PUBLICATION " + pg::Connection::quote_identifier(src.publication) +
                              " SET (publish_via_partition_root = true);");
    }
    if (!in_publication.count({s.schema, s.table})) {
      return config_error(s.where_name, "table " + s.full_name() + " is not in publication '" + src.publication + "'",
                          "ALTER PUBLICATION " + pg::Connection::quote_identifier(src.publication) + " ADD TABLE " +
                              relation_text(s) + ";");
    }
    STRATA_ASSIGN(pg::PgResult identity,
                  source.exec_params("SELECT relreplident FROM pg_class WHERE oid = $1::regclass", {relation_text(s)}));
    const std::string replident(identity.rows() ? identity.value(0, 0) : "d");
    const bool has_key = table && !table->primary_key.empty();
    if (replident == "n" || (replident == "d" && !has_key)) {
      return config_error(s.where_name,
                          "table " + s.full_name() + " has no primary key" +
                              (replident == "n" ? " and REPLICA IDENTITY NOTHING" : "") +
                              ", so PostgreSQL cannot replicate which row an update or delete changed",
                          "add a primary key, or ALTER TABLE " + relation_text(s) + " REPLICA IDENTITY FULL;");
    }
  }
  return ok_status();
}

pg::Lsn parse_lsn_or_zero(std::string_view text) { return pg::parse_lsn(text).value_or(0); }

// The stream's columns that a change carries in a binary form the snapshot read turns into text.
std::map<std::string, TextConversion> text_conversions(const StreamConfig& stream, const Catalog& catalog) {
  std::map<std::string, TextConversion> out;
  const CatalogTable* table = catalog.find(stream.schema, stream.table);
  for (const CatalogColumn& c : table ? table->columns : std::vector<CatalogColumn>{}) {
    if (!stream.selects(c.name) || !c.mapping.cast_to_text) continue;
    out.emplace(c.name, TextConversion{c.pg_type, pg::copy_select_expression("\"v\"", c.mapping)});
  }
  return out;
}

struct SlotInfo {
  std::string plugin, database;
  pg::Lsn confirmed = 0;
};

Result<std::optional<SlotInfo>> find_slot(pg::Connection& source, const std::string& slot) {
  STRATA_ASSIGN(pg::PgResult r, source.exec_params("SELECT plugin, database, confirmed_flush_lsn::text, "
                                                   "current_database() FROM pg_replication_slots WHERE slot_name = $1",
                                                   {slot}));
  if (r.rows() == 0) return std::optional<SlotInfo>();
  SlotInfo info;
  info.plugin = r.value(0, 0);
  info.database = r.value(0, 1);
  info.confirmed = parse_lsn_or_zero(r.value(0, 2));
  if (info.database != r.value(0, 3)) info.plugin += " (database " + info.database + ")";
  return std::optional<SlotInfo>(std::move(info));
}

}  // namespace

Result<pg::Connection> connect_replication(const ConnectionConfig& config, SecretMasker* masker) {
  pg::ConnectOptions options = source_connect_options(masker, "strata sync");
  options.params.emplace_back("replication", "database");
  return pg::Connection::connect(config.source.conninfo(), options);
}

Result<SlotStream> stream_slot(const ConnectionConfig& config, pg::Lsn from, bool binary, SecretMasker* masker,
                               pg::CancelGroup* cancel) {
  const SourceConfig& src = config.source;
  const std::string statement = "START_REPLICATION SLOT " + src.replication_slot + " LOGICAL " + pg::format_lsn(from) +
                                " (proto_version '1', publication_names '" +
                                pg::Connection::quote_identifier(src.publication) + "'" +
                                ", messages 'true'" + (binary ? ", binary 'true')" : ")");
  const int64_t give_up = monotonic_micros() + 10'000'000;
  while (true) {
    STRATA_ASSIGN(pg::Connection conn, connect_replication(config, masker));
    if (cancel) STRATA_TRY(cancel->add(conn.canceller()));
    Result<pg::ReplicationStream> started = conn.start_replication(statement);
    if (started.ok()) return SlotStream{std::move(conn), std::move(*started)};
    // 55006 object_in_use: "replication slot … is active for PID …".
    if (started.error().state() != "55006" || monotonic_micros() > give_up) return started.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<std::unique_ptr<CdcSync>> CdcSync::start(const ConnectionConfig& config, pg::Connection& source,
                                                const Catalog& catalog, const StateTable& states, bool full_refresh,
                                                bool some_streams, SecretMasker* masker) {
  STRATA_TRY(check_source(config, source, catalog));
  const SourceConfig& src = config.source;
  std::unique_ptr<CdcSync> sync(new CdcSync());
  sync->config_ = &config;
  sync->masker_ = masker;
  STRATA_ASSIGN(std::optional<SlotInfo> slot, find_slot(source, src.replication_slot));
  if (slot && slot->plugin != "pgoutput") {
    return config_error(located(src.where_slot, src),
                        "replication slot '" + src.replication_slot + "' belongs to " + slot->plugin +
                            ", not to pgoutput in this database",
                        "name another slot: replication_slot: <name> (Strata creates it)");
  }
  // Each selected stream's recorded position, and those of the streams --stream left out (the
  // slot must keep their changes too).
  std::vector<std::pair<std::string, std::optional<pg::Lsn>>> recorded;
  std::vector<std::pair<std::string, pg::Lsn>> others;
  bool any = false;
  auto recorded_lsn = [&](const std::string& stream) -> Result<std::optional<pg::Lsn>> {
    const std::optional<StreamState> state = states.find(stream);
    if (state && state->cursor_field == kLsnColumn && state->cursor_value) return pg::parse_lsn(*state->cursor_value);
    return std::optional<pg::Lsn>();
  };
  std::map<std::string, const StreamConfig*> streams;
  for (const StreamConfig& s : config.streams) {
    if (s.invalid) continue;
    STRATA_ASSIGN(std::optional<pg::Lsn> lsn, recorded_lsn(s.full_name()));
    any = any || lsn.has_value();
    recorded.emplace_back(s.full_name(), lsn);
    streams[s.full_name()] = &s;
  }
  for (const std::string& stream : config.unselected_streams) {
    STRATA_ASSIGN(std::optional<pg::Lsn> lsn, recorded_lsn(stream));
    if (lsn) others.emplace_back(stream, *lsn);
  }
  any = any || !others.empty();
  const std::string refresh = "strata sync " + config.name + " --full-refresh";
  if (!slot && any && !full_refresh) {
    return config_error(located(src.where_slot, src),
                        "replication slot '" + src.replication_slot +
                            "' does not exist, but the streams recorded positions in it: the changes since are lost",
                        refresh + " creates it again and reads every stream again");
  }
  const bool snapshot = full_refresh || !slot || !any;
  if (snapshot && some_streams) {
    return Error(ErrorCode::kUsage,
                 std::string(full_refresh ? "--full-refresh" : "the first sync") + " of a replication: cdc connection "
                 "reads every stream in one snapshot of a new slot, so it cannot be limited with --stream",
                 {}, "run strata sync " + config.name + (full_refresh ? " --full-refresh" : "") + " without --stream");
  }
  if (snapshot) {
    if (slot) {
      STRATA_TRY(source.exec_params("SELECT pg_drop_replication_slot($1)", {src.replication_slot}));
    }
    STRATA_ASSIGN(ExportedSnapshot exported,
                  sync->export_snapshot("CREATE_REPLICATION_SLOT " + src.replication_slot + " LOGICAL pgoutput"));
    sync->slot_confirmed_ = exported.point;
    for (auto& [stream, lsn] : recorded) sync->reads_.emplace_back(stream, exported.read());
    return sync;
  }
  sync->slot_confirmed_ = slot->confirmed;
  // Where the reads end: a message in a transaction of its own, committed synchronously (so that
  // its WAL, and every record before it, is flushed and the walsender sends it): every
  // transaction committed before now comes before its commit.
  const std::string marker = config.name + " " + std::to_string(now_micros());
  STRATA_TRY(source.execute("BEGIN; SET LOCAL synchronous_commit = on"));
  Result<pg::PgResult> emitted = source.exec_params("SELECT pg_logical_emit_message(true, $1, $2)",
                                                    {std::string(kCdcMarkerPrefix), marker});
  STRATA_TRY(source.execute(emitted.ok() ? "COMMIT" : "ROLLBACK"));
  if (!emitted.ok()) return emitted.error();
  sync->positions_ = others;
  for (const auto& [stream, lsn] : recorded)
    if (lsn) sync->positions_.emplace_back(stream, *lsn);
  pg::Lsn confirmable = UINT64_MAX;
  for (const auto& [stream, lsn] : sync->positions_) confirmable = std::min(confirmable, lsn);
  // A stream without a position (added to the connection after the slot's first sync, or whose
  // first read failed) is read alone in the snapshot of a temporary slot created now: the changes
  // committed after that slot's consistent point come from the connection's slot in later syncs,
  // which keeps the WAL since its confirmed position, below the new one.
  std::optional<ExportedSnapshot> added;
  auto spool = std::make_shared<ChangeSpool>();
  pg::Lsn spool_from = UINT64_MAX;
  for (const auto& [stream, lsn] : recorded)
    if (lsn) spool_from = std::min(spool_from, *lsn);
  for (auto& [stream, lsn] : recorded) {
    if (lsn) {
      CdcRead read;
      read.from = *lsn;
      read.spool = spool;
      read.spool_from = spool_from;
      read.marker = marker;
      read.confirmable = confirmable;
      read.text_columns = text_conversions(*streams[stream], catalog);
      sync->reads_.emplace_back(stream, std::move(read));
      continue;
    }
    if (!added) {
      const std::string temporary = src.replication_slot.substr(0, 40) + "_add_" + std::to_string(::getpid());
      STRATA_ASSIGN(added,
                    sync->export_snapshot("CREATE_REPLICATION_SLOT " + temporary + " TEMPORARY LOGICAL pgoutput"));
    }
    sync->reads_.emplace_back(stream, added->read());
  }
  return sync;
}

Result<CdcSync::ExportedSnapshot> CdcSync::export_snapshot(const std::string& create_slot) {
  STRATA_ASSIGN(replication_, connect_replication(*config_, masker_));
  STRATA_ASSIGN(pg::PgResult created, replication_->exec(create_slot + " (SNAPSHOT 'export')"));
  return ExportedSnapshot{std::string(created.value(0, 2)), parse_lsn_or_zero(created.value(0, 1))};
}

CdcRead CdcSync::ExportedSnapshot::read() const {
  CdcRead read;
  read.snapshot = name;
  read.snapshot_lsn = point;
  return read;
}

CdcSync::~CdcSync() = default;

const CdcRead& CdcSync::read_for(const StreamConfig& stream) const {
  static const CdcRead kMissing = [] {
    CdcRead r;
    r.error = Error(ErrorCode::kInternal, "no cdc read was prepared for the stream");
    return r;
  }();
  for (const auto& [name, read] : reads_)
    if (name == stream.full_name()) return read;
  return kMissing;
}

void CdcSync::committed(const StreamConfig& stream, pg::Lsn lsn) {
  for (auto& [name, position] : positions_) {
    if (name == stream.full_name()) {
      position = lsn;
      return;
    }
  }
  positions_.emplace_back(stream.full_name(), lsn);
}

Status CdcSync::confirm() {
  replication_.reset();  // the snapshot reads are done
  if (positions_.empty()) return ok_status();
  pg::Lsn lowest = UINT64_MAX;
  for (const auto& [name, lsn] : positions_) lowest = std::min(lowest, lsn);
  if (lowest <= slot_confirmed_) return ok_status();
  STRATA_ASSIGN(SlotStream slot, stream_slot(*config_, lowest, false, masker_));
  STRATA_TRY(slot.stream.send_status(lowest));
  STRATA_TRY(slot.stream.finish());
  slot_confirmed_ = lowest;
  return ok_status();
}

}  // namespace strata::ingest
