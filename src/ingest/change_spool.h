#pragma once
// ChangeSpool: the replication messages (XLogData) that one read of a cdc connection's slot
// received, kept in an unlinked temporary file so that the sync's other streams replay them
// instead of decoding the same WAL again: a sync of N streams decodes the WAL once, not N times
// (Airbyte's CDC reads the slot once for all streams too). Each stream still applies its own
// position and relations while replaying, as it would on the slot.
// Lifecycle: empty → recording (start_recording, by the first read of changes) → complete
// (finish_recording, when that read reached its end). A read that fails leaves it recording: the
// later reads then take the slot themselves, as before. Memory stays bounded: messages go to
// disk as they arrive and are read back one at a time. Not thread-safe (the sync's streams run
// one after another).

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "common/result.h"
#include "pg/replication.h"

namespace strata::ingest {

class ChangeSpool {
 public:
  enum class State { kEmpty, kRecording, kComplete };

  // Opens the temporary file lazily (start_recording). Never fails.
  ChangeSpool() = default;
  ChangeSpool(const ChangeSpool&) = delete;
  ChangeSpool& operator=(const ChangeSpool&) = delete;

  State state() const { return state_; }

  // Creates the file (in TMPDIR, unlinked) and enters kRecording. Errors: kFailed when the file
  // cannot be created. Only from kEmpty.
  Status start_recording();
  // Appends one data message (kind kData). Errors: kFailed (e.g. the disk is full): the spool then stays
  // incomplete.
  Status append(const pg::ReplicationMessage& message);
  // The recording read reached its end (the sync's marker or the idle limit): kComplete.
  Status finish_recording();

  // Replays a complete spool from its start. Not copyable; several readers may exist one after
  // another (each reads with pread at its own offset).
  class Reader {
   public:
    // The next message (kind kData, payload valid until the next call), or kind kEnd after the last.
    // Errors: kFailed.
    Result<pg::ReplicationMessage> next();

   private:
    friend class ChangeSpool;
    explicit Reader(std::FILE* file) : file_(file) {}
    std::FILE* file_;
    int64_t offset_ = 0;
    std::string payload_;
  };
  // Only in kComplete.
  Reader replay() const;

  // Bytes recorded (for tests and reports).
  int64_t bytes() const { return bytes_; }

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file_;
  State state_ = State::kEmpty;
  int64_t bytes_ = 0;
};

}  // namespace strata::ingest
