#pragma once
// Pipeline notifications: Airflow's on_failure_callback / on_retry_callback / on_success_callback
// (and its Slack or webhook notifiers) as configuration. A pipeline file's `notifications:` lists
// webhooks and the events each one wants:
//
//   notifications:
//     - webhook: "{{ env_var('SLACK_WEBHOOK_URL') }}"   # a URL; it is treated as a secret
//       on: [run_failed, task_failed]                    # the default
//       headers: {Authorization: "Bearer {{ env_var('TOKEN') }}"}
//
// Events: run_failed, run_succeeded (a run's end), task_failed (a task's last try failed),
// task_retry (a try failed and another is due), task_succeeded. Each notification is an HTTP POST
// of a JSON object (event, pipeline, run_id, task_id, try_number, state, logical_date, error, and
// a one-line `text`, which is what Slack and Mattermost incoming webhooks display).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/result.h"
#include "common/secrets.h"
#include "common/yaml.h"

namespace strata::orchestrate {

enum class NotifyEvent { kRunFailed, kRunSucceeded, kTaskFailed, kTaskRetry, kTaskSucceeded };

// "run_failed", "task_retry", …
const char* notify_event_name(NotifyEvent event);

// One entry of `notifications:`.
struct NotificationSpec {
  std::set<NotifyEvent> on{NotifyEvent::kRunFailed, NotifyEvent::kTaskFailed};
  std::string webhook;                         // http:// or https:// URL
  std::map<std::string, std::string> headers;  // extra request headers
  SourceLocation where;
};

// Parses the value of `notifications:` (a list). Errors: located kConfig for an unknown key or
// event, a missing or non-HTTP webhook, headers that are not a mapping of strings.
Result<std::vector<NotificationSpec>> parse_notifications(const YamlDocument& doc, const YamlNode& node);

// What happened, for the payload.
struct Notification {
  NotifyEvent event = NotifyEvent::kRunFailed;
  std::string pipeline, run_id, task_id;  // task_id empty for run events
  int try_number = 0;
  int64_t logical_date = 0;  // micros since the epoch
  std::string error;         // the failed try's error, or the ended run's note (RunRecord::note)
};

// Whether any of `specs` wants `event`.
bool wants(const std::vector<NotificationSpec>& specs, NotifyEvent event);

// The JSON body sent for `n`.
nlohmann::json notification_payload(const Notification& n);

// Sends notifications on a thread of its own, so the executor never waits for a slow endpoint.
// Each POST times out after 10 s and is tried up to 3 times (after 1 s, then 2 s) when it cannot
// connect or the endpoint answers 5xx or 429; a notification that still fails is logged, with its
// URL masked. At most kMaxQueued wait; beyond that the oldest is dropped (and logged).
// Thread-safe. The destructor waits for the queue to empty for up to 5 s, then drops the rest.
class Notifier {
 public:
  static constexpr size_t kMaxQueued = 1000;
  // masker (shared) learns every webhook URL and header value; logger receives delivery failures.
  Notifier(SecretMaskerPtr masker, Logger logger);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues `n` for every spec that wants its event. Never blocks on the network.
  void notify(const std::vector<NotificationSpec>& specs, const Notification& n);
  // Waits until everything queued so far was delivered or given up; false on timeout.
  bool drain(int64_t timeout_ms);

 private:
  struct Delivery {
    NotificationSpec spec;
    NotifyEvent event;
    std::string body;
  };
  void loop();
  void deliver(const Delivery& d);

  SecretMaskerPtr masker_;
  Logger logger_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Delivery> queue_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace strata::orchestrate
