#pragma once
// Decoding of PostgreSQL's binary COPY format (`COPY … TO STDOUT (FORMAT binary)`) straight into
// sql::ColumnBatch columns: no text round trip, no row objects. The byte stream may arrive in
// chunks split anywhere (even inside the header or a field length); only complete tuples are ever
// appended to a batch. Values that the target logical type cannot represent become NULL and the
// row's `_strata_meta` JSON records {column, change, reason}.
//
// Not thread-safe: one decoder per COPY stream, fed by one thread.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/column_batch.h"

namespace strata::pg {

// How a value travels on the wire (the binary send format of the column's type; for domains the
// base type's; types without a dedicated kind are selected cast to text and arrive as kText).
enum class WireKind : uint8_t {
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kFloat4,
  kFloat8,
  kNumeric,
  kMoney,
  kText,   // text, varchar, bpchar, name, enums, anything cast to text
  kBytea,
  kDate,
  kTime,
  kTimeTz,  // decoded into TIMETZ, or VARCHAR in PostgreSQL's text form ("12:34:56.5+05:30")
  kTimestamp,
  kTimestampTz,
  kInterval,
  kUuid,
  kJson,
  kJsonb,  // a version byte (1) then the JSON text
  // Text whose bytes the server did not check (a SQL_ASCII database): a value that is not valid
  // UTF-8 becomes NULL with a note. The decoder reads kText so when CopyDecoderOptions::check_utf8.
  kTextUnchecked,
};

// One column of the COPY stream. For an array, `array_depth` is the number of dimensions (the
// target type is that many LISTs around the element's type) and `kind` is the element's kind.
struct CopyColumn {
  std::string name;
  WireKind kind = WireKind::kText;
  int array_depth = 0;
  // The target type. Must match kind: e.g. kNumeric → DECIMAL(p,s) or VARCHAR (lossless text),
  // kMoney → DECIMAL(19,2), kTimeTz → TIMETZ or VARCHAR, kJson/kJsonb → JSON.
  sql::LogicalType type;
};

// Receives each full batch (and the last partial one at finish()). The batch is moved in.
using BatchSink = std::function<Status(sql::ColumnBatch&& batch)>;

struct CopyDecoderOptions {
  size_t batch_rows = sql::kBatchRows;
  // A batch is also handed over once its values reach this many wire bytes (bounds memory for
  // wide rows such as 1 MB texts).
  size_t batch_bytes = 16u << 20;
  // Adds a trailing JSON column `_strata_meta`: NULL, or {"changes":[{column,change,reason},…]}.
  bool meta_column = true;
  // The source does not guarantee its text is UTF-8 (server_encoding SQL_ASCII): every kText
  // value is checked, and one that is not valid UTF-8 becomes NULL with a note.
  bool check_utf8 = false;
};

// True when the bytes are well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool valid_utf8(std::string_view bytes);

// Name of the per-row notes column.
inline constexpr const char* kMetaColumn = "_strata_meta";

class CopyBinaryDecoder {
 public:
  // columns: the stream's fields in order. sink: called with every batch of options.batch_rows.
  CopyBinaryDecoder(std::vector<CopyColumn> columns, BatchSink sink, CopyDecoderOptions options = {});

  // Consumes the next chunk. Errors (kFailed): malformed stream (bad signature, field count or
  // value length), or the sink's error. After an error the decoder must not be fed again.
  Status feed(std::string_view chunk);
  // Call at the end of the stream: flushes the last batch. Errors when the trailer was not seen or
  // bytes are left over.
  Status finish();

  // The batch schema handed to the sink (the columns, plus _strata_meta when enabled).
  const sql::Schema& schema() const { return schema_; }
  uint64_t rows() const { return rows_; }
  uint64_t bytes() const { return bytes_; }
  // Values replaced by NULL so far.
  uint64_t notes() const { return notes_; }
  bool at_end() const { return trailer_seen_; }

 private:
  size_t consume(const uint8_t* data, size_t size, Status& status);
  // Appends one complete tuple's fields to batch_; false (and status set) when malformed.
  bool decode_tuple(const uint8_t* fields, Status& status);
  Status flush();

  std::vector<CopyColumn> columns_;
  BatchSink sink_;
  CopyDecoderOptions options_;
  sql::Schema schema_;
  sql::ColumnBatch batch_;
  std::string pending_;  // an incomplete header or tuple carried over to the next chunk
  bool header_seen_ = false;
  bool trailer_seen_ = false;
  size_t batch_payload_ = 0;
  uint64_t rows_ = 0;
  uint64_t bytes_ = 0;
  uint64_t notes_ = 0;
  std::string row_notes_;  // JSON objects of the current row, comma separated
};

// Formats a PostgreSQL numeric's binary form as its exact text ("-12.3400", "NaN", "Infinity").
// Errors (kFailed) when the bytes are malformed.
Result<std::string> numeric_to_text(std::string_view bytes);

}  // namespace strata::pg
