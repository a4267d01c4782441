#include "orchestrate/task_runner.h"

#include <filesystem>

#include "common/time.h"

namespace strata::orchestrate {

void CancelToken::cancel(std::string reason) {
  std::map<int, std::function<void()>> callbacks;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_) return;
    cancelled_ = true;
    reason_ = std::move(reason);
    callbacks.swap(callbacks_);
    running_on_ = std::this_thread::get_id();
  }
  struct Done {  // also when a callback throws, so that remove() never waits for ever
    CancelToken& token;
    ~Done() {
      {
        std::lock_guard lock(token.mutex_);
        token.running_on_ = std::thread::id();
      }
      token.callbacks_done_.notify_all();
    }
  } done{*this};
  for (auto& [id, callback] : callbacks) callback();
}

bool CancelToken::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

std::string CancelToken::reason() const {
  std::lock_guard lock(mutex_);
  return reason_;
}

int CancelToken::on_cancel(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (!cancelled_) {
      callbacks_[next_id_] = std::move(callback);
      return next_id_++;
    }
  }
  callback();
  return 0;
}

void CancelToken::remove(int id) {
  std::unique_lock lock(mutex_);
  callbacks_.erase(id);
  // A callback calling remove() itself must not wait for its own thread.
  callbacks_done_.wait(lock, [&] {
    return running_on_ == std::thread::id() || running_on_ == std::this_thread::get_id();
  });
}

Result<std::unique_ptr<TaskLog>> TaskLog::open(const std::string& path, SecretMaskerPtr masker) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::FILE* file = std::fopen(path.c_str(), "ab");
  if (!file)
    return Error(ErrorCode::kFailed, "cannot create the task log '" + path + "'", {},
                 "check that .strata/logs is writable");
  return std::unique_ptr<TaskLog>(new TaskLog(path, file, std::move(masker)));
}

TaskLog::~TaskLog() { std::fclose(file_); }

void TaskLog::write(std::string_view text) {
  std::string masked = masker_ ? masker_->mask(text) : std::string(text);
  std::lock_guard lock(mutex_);
  std::fwrite(masked.data(), 1, masked.size(), file_);
  std::fflush(file_);
  if (tee_) tee_(masked);
}

void TaskLog::set_tee(std::function<void(std::string_view)> tee) {
  std::lock_guard lock(mutex_);
  tee_ = std::move(tee);
}

void TaskLog::line(std::string_view message) {
  write(format_iso8601(now_micros()) + " " + std::string(message) + "\n");
}

std::string task_log_path(const std::string& log_root, const std::string& pipeline, const std::string& run_id,
                          const std::string& task_id, int try_number) {
  return log_root + "/" + pipeline + "/" + run_id + "/" + task_id + "/" + std::to_string(try_number) + ".log";
}

}  // namespace strata::orchestrate
