// Reading one cdc stream: its snapshot (read_stream in the slot's exported snapshot) or its
// changes, pgoutput messages turned into binary COPY tuples for the stream's CopyBinaryDecoder.
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "common/time.h"
#include "ingest/bronze.h"
#include "ingest/cdc.h"
#include "ingest/discover.h"
#include "pg/copy_binary.h"
#include "pg/pgoutput.h"

namespace strata::ingest {
namespace {

// How long one wait for the replication stream lasts, and how long a stream that does not move
// (no data, no keepalive with a later WAL end) is waited for before the read ends where it is.
constexpr std::chrono::milliseconds kPoll{250};
constexpr int64_t kIdleMicros = 10'000'000;

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}
void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}
void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// True for the kinds whose text form is what the decoder reads (a value pgoutput sends as text
// because its type has no binary send function is only readable for these).
bool reads_text(pg::WireKind kind) { return kind == pg::WireKind::kText || kind == pg::WireKind::kTextUnchecked; }

// The stream's view of one relation of the replication stream.
struct RelationMap {
  bool target = false;
  std::vector<int> columns;  // per source column of the plan: its index in the relation's tuples, or -1
  std::vector<int> key;      // the stream's primary key columns' indexes in the relation's tuples
};

// Turns the values of read.text_columns into the snapshot read's text on the source: one
// statement per column and batch of changes, `SELECT <expression> FROM (VALUES (0, $1::type), …)`
// with the values as binary parameters and the result in binary (a text's bytes, or a text[]'s
// binary array). Opens a connection of its own when the read has none.
class TextConverter {
 public:
  explicit TextConverter(const ReadOptions& options) : options_(options) {}

  // Replaces each value with its text, in place (NULLs stay NULL).
  Status convert(const TextConversion& conversion, std::vector<std::string*>& values) {
    STRATA_ASSIGN(pg::Connection * conn, connection());
    constexpr size_t kChunk = 1000;
    for (size_t first = 0; first < values.size(); first += kChunk) {
      const size_t n = std::min(kChunk, values.size() - first);
      std::string sql = "SELECT " + conversion.expression + " FROM (VALUES ";
      std::vector<std::optional<std::string>> params;
      params.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        if (i) sql += ", ";
        sql += "(" + std::to_string(i) + ", $" + std::to_string(i + 1) + "::" + conversion.type + ")";
        params.emplace_back(std::move(*values[first + i]));
      }
      sql += ") AS u(o, \"v\") ORDER BY o";
      STRATA_ASSIGN(pg::PgResult r, conn->exec_params(sql, params, pg::Format::kBinary, pg::Format::kBinary));
      if (r.rows() != static_cast<int>(n)) {
        return Error(ErrorCode::kInternal, "a text conversion of " + conversion.type + " returned " +
                                               std::to_string(r.rows()) + " rows for " + std::to_string(n));
      }
      for (size_t i = 0; i < n; ++i) values[first + i]->assign(r.value(static_cast<int>(i), 0));
    }
    return ok_status();
  }

 private:
  Result<pg::Connection*> connection() {
    if (options_.connection) return options_.connection;
    if (!own_) {
      STRATA_ASSIGN(pg::Connection conn, pg::Connection::connect(options_.conninfo,
                                                                 source_connect_options(options_.masker, "strata sync")));
      own_.emplace(std::move(conn));
      if (options_.cancel) STRATA_TRY(options_.cancel->add(own_->canceller()));
    }
    return &*own_;
  }

  const ReadOptions& options_;
  std::optional<pg::Connection> own_;
};

// Turns changes into binary COPY tuples (the source columns, then _strata_lsn,
// _strata_deleted_at and, when the plan has it, kUnchangedToastColumn) for a CopyBinaryDecoder,
// which hands out the batches. With text conversions, rows wait (up to kPendingRows or
// kPendingBytes) until their values are converted.
class ChangeEncoder {
 public:
  ChangeEncoder(const ReadPlan& plan, const CdcRead& read, const ReadOptions& options, pg::BatchSink sink)
      : plan_(plan),
        decoder_(plan.columns, std::move(sink), options.decoder),
        sources_(source_column_count(plan)),
        flags_column_(plan.columns.size() > sources_ + 2),
        converter_(options) {
    conversions_.resize(sources_);
    for (size_t i = 0; i < sources_; ++i) {
      auto it = read.text_columns.find(plan.columns[i].name);
      if (it != read.text_columns.end()) conversions_[i] = &it->second;
      converting_ = converting_ || conversions_[i];
    }
  }

  Status start() {
    static constexpr char kSignature[] = "PGCOPY\n\377\r\n";
    buffer_.assign(kSignature, sizeof kSignature);  // with its terminating NUL
    put_u32(buffer_, 0);  // flags
    put_u32(buffer_, 0);  // header extension
    return send();
  }

  // One row: `tuple`'s values by `map` (an unchanged TOASTed value is taken from `old` when it
  // has it), the change's LSN and, for a delete, its commit time.
  Status row(const RelationMap& map, const pg::TupleData& tuple, const pg::TupleData* old, pg::Lsn lsn,
             std::optional<int64_t> deleted_at) {
    ++rows_;
    flags_.clear();
    if (!converting_) {
      encode([&](size_t i) { return bytes_of(value(map, i, tuple, old)); }, lsn, deleted_at, flags_);
      return send();
    }
    Pending row{std::vector<std::optional<std::string>>(sources_), lsn, deleted_at, {}};
    for (size_t i = 0; i < sources_; ++i) {
      const pg::TupleValue* v = value(map, i, tuple, old);
      if (!v) continue;
      row.values[i] = std::string(v->bytes);
      pending_bytes_ += v->bytes.size();
      // A type without a binary send function arrives as its output function's text: the snapshot's.
      if (conversions_[i] && v->kind == 'b') to_convert_.push_back({pending_.size(), i});
    }
    row.flags = flags_;
    pending_.push_back(std::move(row));
    if (pending_.size() >= kPendingRows || pending_bytes_ >= kPendingBytes) return flush();
    return ok_status();
  }

  Status finish() {
    STRATA_TRY(flush());
    put_u16(buffer_, 0xFFFF);
    STRATA_TRY(send());
    return decoder_.finish();
  }

  uint64_t rows() const { return rows_; }
  uint64_t unchanged_toast() const { return unchanged_toast_; }
  // The source columns (plan indexes) that had an unchanged TOASTed value in some row.
  const std::set<size_t>& unchanged_columns() const { return unchanged_columns_; }
  uint64_t text_values() const { return text_values_; }

 private:
  static constexpr size_t kPendingRows = 4096;
  static constexpr size_t kPendingBytes = size_t{8} << 20;

  struct Pending {
    std::vector<std::optional<std::string>> values;
    pg::Lsn lsn;
    std::optional<int64_t> deleted_at;
    std::string flags;  // see flags_
  };

  // Source column i's value in a change, or null for NULL (and for values it cannot use).
  const pg::TupleValue* value(const RelationMap& map, size_t i, const pg::TupleData& tuple, const pg::TupleData* old) {
    const int at = map.columns[i];
    const pg::TupleValue* v = at >= 0 && static_cast<size_t>(at) < tuple.size() ? &tuple[at] : nullptr;
    if (v && v->kind == 'u') {
      v = old && static_cast<size_t>(at) < old->size() && (*old)[at].kind != 'u' ? &(*old)[at] : nullptr;
      if (!v) {
        ++unchanged_toast_;
        unchanged_columns_.insert(i);
        flags_ += (flags_.empty() ? "," : "") + std::to_string(i) + ",";
      }
    }
    if (v && v->kind == 't' && !reads_text(plan_.columns[i].kind) && !conversions_[i]) {
      ++text_values_;
      v = nullptr;
    }
    return v && v->kind != 'n' ? v : nullptr;
  }

  static std::optional<std::string_view> bytes_of(const pg::TupleValue* v) {
    return v ? std::optional<std::string_view>(v->bytes) : std::nullopt;
  }

  // Appends one tuple: source column i's bytes are value_of(i) (nullopt: NULL), then the cdc
  // columns (`flags`, read after every value_of call, is the row's kUnchangedToastColumn).
  template <typename ValueOf>
  void encode(const ValueOf& value_of, pg::Lsn lsn, std::optional<int64_t> deleted_at, const std::string& flags) {
    put_u16(buffer_, static_cast<uint16_t>(plan_.columns.size()));
    for (size_t i = 0; i < sources_; ++i) {
      const std::optional<std::string_view> v = value_of(i);
      if (!v) {
        put_u32(buffer_, 0xFFFFFFFFu);
        continue;
      }
      put_u32(buffer_, static_cast<uint32_t>(v->size()));
      buffer_.append(*v);
    }
    put_u32(buffer_, 8);
    put_u64(buffer_, lsn);
    if (deleted_at) {
      put_u32(buffer_, 8);
      put_u64(buffer_, static_cast<uint64_t>(*deleted_at));
    } else {
      put_u32(buffer_, 0xFFFFFFFFu);
    }
    if (!flags_column_) return;
    if (flags.empty()) {
      put_u32(buffer_, 0xFFFFFFFFu);
    } else {
      put_u32(buffer_, static_cast<uint32_t>(flags.size()));
      buffer_.append(flags);
    }
  }

  // Converts the waiting rows' values and encodes the rows.
  Status flush() {
    for (size_t column = 0; column < sources_ && !to_convert_.empty(); ++column) {
      if (!conversions_[column]) continue;
      std::vector<std::string*> values;
      for (const auto& [row, col] : to_convert_)
        if (col == column) values.push_back(&*pending_[row].values[col]);
      if (!values.empty()) STRATA_TRY(converter_.convert(*conversions_[column], values));
    }
    to_convert_.clear();
    for (const Pending& row : pending_) {
      encode([&](size_t i) { return row.values[i] ? std::optional<std::string_view>(*row.values[i]) : std::nullopt; },
             row.lsn, row.deleted_at, row.flags);
    }
    pending_.clear();
    pending_bytes_ = 0;
    return send();
  }

  Status send() {
    Status fed = decoder_.feed(buffer_);
    buffer_.clear();
    return fed;
  }

  const ReadPlan& plan_;
  pg::CopyBinaryDecoder decoder_;
  size_t sources_;
  bool flags_column_;
  // The row being encoded's unchanged TOASTed values that nothing could fill: ",i,j," (their
  // source column indexes), empty when none.
  std::string flags_;
  std::set<size_t> unchanged_columns_;
  std::vector<const TextConversion*> conversions_;  // per source column; null: no conversion
  bool converting_ = false;
  TextConverter converter_;
  std::vector<Pending> pending_;
  size_t pending_bytes_ = 0;
  std::vector<std::pair<size_t, size_t>> to_convert_;  // (pending row, source column)
  std::string buffer_;
  uint64_t rows_ = 0, unchanged_toast_ = 0, text_values_ = 0;
};

RelationMap map_relation(const pg::PgOutputMessage& m, const StreamConfig& stream, const ReadPlan& plan) {
  RelationMap map;
  const std::string schema = m.schema.empty() ? "pg_catalog" : m.schema;
  map.target = schema == stream.schema && m.name == stream.table;
  if (!map.target) return map;
  auto index_of = [&](const std::string& name) {
    for (size_t i = 0; i < m.columns.size(); ++i)
      if (m.columns[i].name == name) return static_cast<int>(i);
    return -1;
  };
  for (size_t i = 0; i < source_column_count(plan); ++i) map.columns.push_back(index_of(plan.columns[i].name));
  for (const std::string& k : stream.primary_key) map.key.push_back(index_of(k));
  return map;
}

// Whether an update's old row has another key than its new one (the old key's row is then gone).
bool key_changed(const RelationMap& map, const pg::TupleData& old, const pg::TupleData& now) {
  if (map.key.empty()) return false;
  for (int k : map.key) {
    if (k < 0 || static_cast<size_t>(k) >= old.size() || static_cast<size_t>(k) >= now.size()) return false;
    const pg::TupleValue &a = old[k], &b = now[k];
    if (a.kind == 'u' || b.kind == 'u') continue;
    if (a.kind != b.kind || a.bytes != b.bytes) return true;
  }
  return false;
}

Result<CdcReadResult> read_changes(const ConnectionConfig& config, const StreamConfig& stream, const ReadPlan& plan,
                                   const CdcRead& read, const ReadOptions& options, const BatchConsumer& consumer) {
  CdcReadResult result;
  result.lsn = read.from;
  const SourceConfig& src = config.source;
  // Replay the sync's spool when an earlier stream recorded it whole; else read the slot (and
  // record what it sends for the later streams, when no stream did before).
  ChangeSpool* spool = read.spool.get();
  std::optional<ChangeSpool::Reader> replay;
  std::optional<SlotStream> slot;
  bool recording = false;
  if (spool && spool->state() == ChangeSpool::State::kComplete) {
    replay.emplace(spool->replay());
  } else {
    recording = spool && spool->state() == ChangeSpool::State::kEmpty;
    const pg::Lsn from = recording ? std::min(read.spool_from, read.from) : read.from;
    Result<SlotStream> opened = stream_slot(config, from, true, options.masker, options.cancel);
    if (!opened.ok()) return std::move(opened).error();
    slot.emplace(std::move(*opened));
    if (recording) STRATA_TRY(spool->start_recording());
  }
  auto next = [&]() { return replay ? replay->next() : slot->stream.next(kPoll); };
  ChangeEncoder encoder(plan, read, options, [&](sql::ColumnBatch&& batch) -> Status {
    if (options.progress) options.progress->rows.fetch_add(batch.num_rows(), std::memory_order_relaxed);
    return consumer(std::move(batch));
  });
  STRATA_TRY(encoder.start());
  std::map<uint32_t, RelationMap> relations;
  bool in_transaction = false, skip = false;
  bool marker_seen = false, caught_up = false;  // the sync's marker (CdcRead::marker), and its commit
  int64_t commit_time = 0;
  // When the stream last moved (data, or a keepalive with a later WAL end): a stream that stays
  // still for kIdleMicros without bringing the marker ends the read where it is (nothing is lost:
  // the position only moves with what was read).
  int64_t last_message = monotonic_micros();
  pg::Lsn last_wal_end = 0;
  // The commit of the transaction holding the sync's marker ends the read.
  while (true) {
    if (options.cancel) STRATA_TRY(options.cancel->check());
    STRATA_ASSIGN(pg::ReplicationMessage message, next());
    using Kind = pg::ReplicationMessage::Kind;
    if (message.kind == Kind::kEnd && replay) break;
    if (message.kind == Kind::kEnd) {
      return Error(ErrorCode::kFailed,
                   "the source ended the replication stream of slot '" + src.replication_slot + "'");
    }
    if (message.kind == Kind::kTimeout) {
      if (!in_transaction && monotonic_micros() - last_message > kIdleMicros) break;
      continue;
    }
    if (message.kind == Kind::kData || message.wal_end > last_wal_end) last_message = monotonic_micros();
    last_wal_end = std::max(last_wal_end, message.wal_end);
    if (message.kind == Kind::kKeepalive) {
      if (!in_transaction && monotonic_micros() - last_message > kIdleMicros) break;
      // A reply (confirming no more than every stream recorded) keeps the server's keepalives coming.
      if (message.reply_requested) STRATA_TRY(slot->stream.send_status(read.confirmable));
      continue;
    }
    if (recording) STRATA_TRY(spool->append(message));
    if (options.progress) options.progress->bytes.fetch_add(message.payload.size(), std::memory_order_relaxed);
    STRATA_ASSIGN(pg::PgOutputMessage m, pg::parse_pgoutput(message.payload));
    switch (m.type) {
      case 'B':
        in_transaction = true;
        skip = m.lsn < read.from;  // committed at or below the recorded position: in bronze already
        commit_time = m.timestamp;
        break;
      case 'C':
        in_transaction = false;
        if (!skip) result.lsn = std::max(result.lsn, m.end_lsn);
        caught_up = marker_seen;
        break;
      case 'M':
        marker_seen = marker_seen || (in_transaction && m.name == kCdcMarkerPrefix && m.content == read.marker);
        break;
      case 'R':
        relations[m.relation] = map_relation(m, stream, plan);
        break;
      case 'I':
      case 'U':
      case 'D': {
        auto it = relations.find(m.relation);
        if (skip || it == relations.end() || !it->second.target) break;
        const RelationMap& map = it->second;
        const pg::TupleData* old = m.old_kind ? &m.old_tuple : nullptr;
        if (m.type == 'D') {
          STRATA_TRY(encoder.row(map, m.old_tuple, nullptr, message.wal_start, commit_time));
          break;
        }
        if (m.type == 'U' && old && key_changed(map, *old, m.new_tuple)) {
          STRATA_TRY(encoder.row(map, *old, nullptr, message.wal_start, commit_time));
        }
        STRATA_TRY(encoder.row(map, m.new_tuple, m.old_kind == 'O' ? old : nullptr, message.wal_start, std::nullopt));
        break;
      }
      case 'T': {
        if (skip) break;
        for (uint32_t oid : m.truncated) {
          auto it = relations.find(oid);
          if (it != relations.end() && it->second.target) {
            result.warnings.push_back("the source table was truncated (TRUNCATE at LSN " +
                                      pg::format_lsn(message.wal_start) +
                                      "); bronze keeps its rows: a full refresh (--full-refresh) drops them");
          }
        }
        break;
      }
      default:
        break;  // Origin, Type, Message: nothing to do
    }
    if (caught_up) break;
  }
  STRATA_TRY(encoder.finish());
  if (slot) STRATA_TRY(slot->stream.finish());
  if (recording) STRATA_TRY(spool->finish_recording());
  result.unchanged_columns.assign(encoder.unchanged_columns().begin(), encoder.unchanged_columns().end());
  // With kUnchangedToastColumn the merge carries them over (carry_unchanged_sql).
  if (encoder.unchanged_toast() && source_column_count(plan) + 2 == plan.columns.size()) {
    result.warnings.push_back(std::to_string(encoder.unchanged_toast()) +
                              " unchanged TOASTed values of updates were not sent by PostgreSQL and are NULL in bronze "
                              "(ALTER TABLE … REPLICA IDENTITY FULL makes it send them)");
  }
  if (encoder.text_values()) {
    result.warnings.push_back(std::to_string(encoder.text_values()) +
                              " values arrived in text form (a type without a binary send function) and are NULL");
  }
  return result;
}

}  // namespace

size_t source_column_count(const ReadPlan& plan) {
  for (size_t i = 0; i < plan.columns.size(); ++i)
    if (plan.columns[i].name == kLsnColumn) return i;
  return plan.columns.size();
}

void add_cdc_columns(ReadPlan& plan, const CdcRead& read, const StreamConfig& stream) {
  // Only a variable-width value can be TOASTed.
  bool toastable = false;
  for (const auto& c : plan.columns) {
    const sql::TypeId id = c.type.id();
    toastable = toastable || id == sql::TypeId::kVarchar || id == sql::TypeId::kBlob || id == sql::TypeId::kJson ||
                id == sql::TypeId::kList;
  }
  plan.columns.push_back({kLsnColumn, pg::WireKind::kInt8, 0, sql::LogicalType::int64()});
  plan.columns.push_back({kDeletedAtColumn, pg::WireKind::kTimestampTz, 0, sql::LogicalType::timestamptz()});
  plan.expressions.push_back(std::to_string(read.snapshot_lsn) + "::int8");
  plan.expressions.push_back("NULL::timestamptz");
  if (read.snapshot.empty() && toastable && !stream.primary_key.empty()) {
    plan.columns.push_back({kUnchangedToastColumn, pg::WireKind::kText, 0, sql::LogicalType::varchar()});
    plan.expressions.push_back("NULL::text");
  }
  plan.plain_table = false;
}

std::string carry_unchanged_sql(const sql::Dialect& d, const warehouse::Relation& stage,
                                const std::vector<warehouse::Relation>& prior, const std::vector<std::string>& key,
                                const std::string& column, size_t index) {
  const std::string stage_name = warehouse::qualified_name(d, stage);
  const std::string c = d.quote_identifier(column), lsn = d.quote_identifier(kLsnColumn);
  const std::string flags = d.quote_identifier(kUnchangedToastColumn);
  const std::string flagged = " LIKE " + d.quote_string("%," + std::to_string(index) + ",%");
  const std::string keys = list_columns(d, key, "f.");
  // Each flagged row's candidates: the staged rows of its key before it that have the value
  // (first choice, latest first), then the key's rows in bronze, latest first.
  std::string candidates =
      "SELECT " + keys + ", f." + lsn + " AS _strata_at, p." + c + " AS _strata_v, 1 AS _strata_o, p." + lsn +
      " AS _strata_l FROM " + stage_name + " AS f JOIN " + stage_name + " AS p ON " +
      key_match_sql(d, key, "p", "f", false) + " AND p." + lsn + " < f." + lsn + " AND (p." + flags + " IS NULL OR p." +
      flags + " NOT" + flagged + ") WHERE f." + flags + flagged;
  for (const auto& relation : prior) {
    candidates += "\nUNION ALL SELECT " + keys + ", f." + lsn + ", b." + c + ", 0, b." + lsn + " FROM " + stage_name +
                  " AS f JOIN " + warehouse::qualified_name(d, relation) + " AS b ON " +
                  key_match_sql(d, key, "b", "f", false) + " WHERE f." + flags + flagged;
  }
  return "UPDATE " + stage_name + " AS s SET " + c +
         " = r._strata_v FROM (SELECT *, row_number() OVER (PARTITION BY " + list_columns(d, key) +
         ", _strata_at ORDER BY _strata_o DESC, _strata_l DESC NULLS LAST) AS _strata_rn FROM (" + candidates +
         ") AS x) AS r WHERE r._strata_rn = 1 AND " + key_match_sql(d, key, "r", "s", false) + " AND s." + lsn +
         " = r._strata_at AND s." + flags + flagged + ";\n";
}

Result<CdcReadResult> read_cdc_stream(const ConnectionConfig& config, const StreamConfig& stream, const ReadPlan& plan,
                                      const CdcRead& read, const ReadOptions& options, const BatchConsumer& consumer) {
  if (read.error) return *read.error;
  if (read.snapshot.empty()) return read_changes(config, stream, plan, read, options, consumer);
  ReadOptions in_snapshot = options;
  in_snapshot.snapshot = read.snapshot;
  STRATA_TRY(read_stream(plan, in_snapshot, consumer));
  CdcReadResult result;
  result.lsn = read.snapshot_lsn;
  return result;
}

}  // namespace strata::ingest
