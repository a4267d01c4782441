#include "pg/pgoutput.h"

#include <cstring>

namespace strata::pg {
namespace {

// Reads big-endian fields from a payload; any read past its end marks it failed.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool failed() const { return failed_; }
  bool at_end() const { return pos_ >= data_.size(); }

  uint64_t uint(size_t bytes) {
    if (!need(bytes)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += bytes;
    return v;
  }
  char byte() { return static_cast<char>(uint(1)); }
  int16_t i16() { return static_cast<int16_t>(uint(2)); }
  int32_t i32() { return static_cast<int32_t>(uint(4)); }
  uint32_t u32() { return static_cast<uint32_t>(uint(4)); }
  uint64_t u64() { return uint(8); }
  std::string_view bytes(size_t n) {
    if (!need(n)) return {};
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  // A NUL-terminated string.
  std::string cstring() {
    const size_t end = failed_ ? std::string_view::npos : data_.find('\0', pos_);
    if (end == std::string_view::npos) {
      failed_ = true;
      return {};
    }
    std::string out(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }

 private:
  bool need(size_t n) {
    if (failed_ || data_.size() - pos_ < n || pos_ > data_.size()) {
      failed_ = true;
      return false;
    }
    return true;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

void read_tuple(Reader& r, TupleData& out) {
  const int16_t n = r.i16();
  if (n < 0) {
    r.bytes(SIZE_MAX);  // fails the reader
    return;
  }
  out.resize(static_cast<size_t>(n));
  for (TupleValue& v : out) {
    v.kind = r.byte();
    if (v.kind == 't' || v.kind == 'b') {
      const int32_t len = r.i32();
      v.bytes = len < 0 ? r.bytes(SIZE_MAX) : r.bytes(static_cast<size_t>(len));
    } else if (v.kind != 'n' && v.kind != 'u') {
      r.bytes(SIZE_MAX);
      return;
    }
    if (r.failed()) return;
  }
}

// Update and Delete: an optional 'K'/'O' old tuple, then (Update) 'N' and the new tuple.
void read_old_new(Reader& r, PgOutputMessage& m, bool has_new) {
  char marker = r.byte();
  if (marker == 'K' || marker == 'O') {
    m.old_kind = marker;
    read_tuple(r, m.old_tuple);
    if (!has_new) return;
    marker = r.byte();
  }
  if (!has_new) {
    r.bytes(SIZE_MAX);  // a delete always sends its old key or row
    return;
  }
  if (marker != 'N') {
    r.bytes(SIZE_MAX);
    return;
  }
  read_tuple(r, m.new_tuple);
}

}  // namespace

Result<PgOutputMessage> parse_pgoutput(std::string_view payload) {
  Reader r(payload);
  PgOutputMessage m;
  m.type = r.byte();
  switch (m.type) {
    case 'B':
      m.lsn = r.u64();
      m.timestamp = static_cast<int64_t>(r.u64());
      m.xid = r.u32();
      break;
    case 'C':
      r.byte();  // flags (unused)
      m.lsn = r.u64();
      m.end_lsn = r.u64();
      m.timestamp = static_cast<int64_t>(r.u64());
      break;
    case 'O':
      m.lsn = r.u64();
      m.name = r.cstring();
      break;
    case 'R': {
      m.relation = r.u32();
      m.schema = r.cstring();
      m.name = r.cstring();
      m.replica_identity = r.byte();
      const int16_t n = r.i16();
      for (int16_t i = 0; i < n && !r.failed(); ++i) {
        RelationColumn c;
        c.key = (r.byte() & 1) != 0;
        c.name = r.cstring();
        c.type_oid = r.u32();
        c.type_modifier = r.i32();
        m.columns.push_back(std::move(c));
      }
      break;
    }
    case 'Y':
      m.relation = r.u32();
      m.schema = r.cstring();
      m.name = r.cstring();
      break;
    case 'I':
      m.relation = r.u32();
      if (r.byte() != 'N') r.bytes(SIZE_MAX);
      read_tuple(r, m.new_tuple);
      break;
    case 'U':
      m.relation = r.u32();
      read_old_new(r, m, true);
      break;
    case 'D':
      m.relation = r.u32();
      read_old_new(r, m, false);
      break;
    case 'T': {
      const uint32_t n = r.u32();
      const char options = r.byte();
      m.cascade = (options & 1) != 0;
      m.restart_identity = (options & 2) != 0;
      for (uint32_t i = 0; i < n && !r.failed(); ++i) m.truncated.push_back(r.u32());
      break;
    }
    case 'M': {
      m.transactional = (r.byte() & 1) != 0;
      m.lsn = r.u64();
      m.name = r.cstring();
      const int32_t len = r.i32();
      m.content = len < 0 ? r.bytes(SIZE_MAX) : r.bytes(static_cast<size_t>(len));
      break;
    }
    default:
      return Error(ErrorCode::kFailed, std::string("malformed pgoutput message: unknown type '") + m.type + "'");
  }
  if (r.failed()) {
    return Error(ErrorCode::kFailed, std::string("malformed pgoutput message of type '") + m.type + "': truncated");
  }
  return m;
}

}  // namespace strata::pg
