#include "orchestrate/notifications.h"

#include <chrono>
#include <memory>

#include <curl/curl.h>

#include "common/strings.h"
#include "common/time.h"

namespace strata::orchestrate {
namespace {

constexpr NotifyEvent kEvents[] = {NotifyEvent::kRunFailed, NotifyEvent::kRunSucceeded, NotifyEvent::kTaskFailed,
                                   NotifyEvent::kTaskRetry, NotifyEvent::kTaskSucceeded};
constexpr int kTries = 3;
constexpr long kTimeoutSeconds = 10;

std::string event_list() {
  std::string out;
  for (NotifyEvent e : kEvents) out += std::string(out.empty() ? "" : ", ") + notify_event_name(e);
  return out;
}

Status check_keys(const YamlDocument& doc, const YamlNode& entry) {
  for (const auto& kv : entry) {
    const std::string& key = kv.first.scalar();
    if (key != "webhook" && key != "on" && key != "headers")
      return doc.error(kv.first, "unknown key '" + key + "' in a notification", "valid keys: headers, on, webhook");
  }
  return ok_status();
}

Result<std::set<NotifyEvent>> parse_events(const YamlDocument& doc, const YamlNode& node) {
  std::vector<YamlNode> items;
  if (node.is_sequence()) {
    for (const auto& item : node) items.push_back(item);
  } else {
    items.push_back(node);
  }
  std::set<NotifyEvent> out;
  for (const YamlNode& item : items) {
    STRATA_ASSIGN(std::string name, yaml_string(doc, item, "on"));
    bool known = false;
    for (NotifyEvent e : kEvents) {
      if (name == notify_event_name(e)) {
        out.insert(e);
        known = true;
      }
    }
    if (!known) return doc.error(item, "unknown notification event '" + name + "'", "use " + event_list());
  }
  if (out.empty()) return doc.error(node, "a notification needs at least one event in on:", "use " + event_list());
  return out;
}

Result<NotificationSpec> parse_entry(const YamlDocument& doc, const YamlNode& entry) {
  if (!entry.is_map())
    return doc.error(entry, "a notification must be a mapping", "e.g. - webhook: https://…\n    on: [run_failed]");
  STRATA_TRY(check_keys(doc, entry));
  NotificationSpec spec;
  spec.where = doc.where(entry);
  const YamlNode url = entry["webhook"];
  if (!url.is_defined()) return doc.error(entry, "a notification needs webhook: (the URL to POST to)");
  STRATA_ASSIGN(spec.webhook, yaml_string(doc, url, "webhook"));
  if (!starts_with(spec.webhook, "http://") && !starts_with(spec.webhook, "https://"))
    return doc.error(url, "webhook must be an http:// or https:// URL",
                     "e.g. webhook: \"{{ env_var('SLACK_WEBHOOK_URL') }}\"");
  if (const YamlNode on = entry["on"]; on.is_defined()) {
    STRATA_ASSIGN(spec.on, parse_events(doc, on));
  }
  if (const YamlNode headers = entry["headers"]; headers.is_defined()) {
    if (!headers.is_map()) return doc.error(headers, "headers must be a mapping", "e.g. headers: {X-Token: abc}");
    for (const auto& kv : headers) {
      STRATA_ASSIGN(std::string value, yaml_string(doc, kv.second, "a header value"));
      spec.headers[kv.first.scalar()] = std::move(value);
    }
  }
  return spec;
}

// One POST; the HTTP status, or 0 when no answer came (curl's error in `error`).
long post(const std::string& url, const std::map<std::string, std::string>& headers, const std::string& body,
          std::string& error) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    error = "curl_easy_init failed";
    return 0;
  }
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const auto& [name, value] : headers) list = curl_slist_append(list, (name + ": " + value).c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(list, curl_slist_free_all);
  char message[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, kTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, message);
  // The answer's body is not needed.
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) {
    error = message[0] ? message : curl_easy_strerror(code);
    return 0;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

}  // namespace

const char* notify_event_name(NotifyEvent event) {
  switch (event) {
    case NotifyEvent::kRunFailed: return "run_failed";
    case NotifyEvent::kRunSucceeded: return "run_succeeded";
    case NotifyEvent::kTaskFailed: return "task_failed";
    case NotifyEvent::kTaskRetry: return "task_retry";
    case NotifyEvent::kTaskSucceeded: return "task_succeeded";
  }
  return "unknown";
}

Result<std::vector<NotificationSpec>> parse_notifications(const YamlDocument& doc, const YamlNode& node) {
  if (!node.is_sequence())
    return doc.error(node, "notifications must be a list", "e.g. notifications:\n  - webhook: https://…");
  std::vector<NotificationSpec> out;
  for (const auto& entry : node) {
    STRATA_ASSIGN(NotificationSpec spec, parse_entry(doc, entry));
    out.push_back(std::move(spec));
  }
  return out;
}

bool wants(const std::vector<NotificationSpec>& specs, NotifyEvent event) {
  for (const NotificationSpec& spec : specs)
    if (spec.on.count(event)) return true;
  return false;
}

nlohmann::json notification_payload(const Notification& n) {
  const std::string what = notify_event_name(n.event);
  const bool task = !n.task_id.empty();
  std::string text = "Strata: " + (task ? "task " + n.task_id + " of " : std::string()) + "pipeline " + n.pipeline +
                     ", run " + n.run_id + ": ";
  switch (n.event) {
    case NotifyEvent::kRunFailed: text += "the run failed"; break;
    case NotifyEvent::kRunSucceeded: text += "the run succeeded"; break;
    case NotifyEvent::kTaskFailed: text += "failed on try " + std::to_string(n.try_number); break;
    case NotifyEvent::kTaskRetry: text += "try " + std::to_string(n.try_number) + " failed; it will be retried"; break;
    case NotifyEvent::kTaskSucceeded: text += "succeeded on try " + std::to_string(n.try_number); break;
  }
  if (!n.error.empty()) text += " (" + n.error + ")";
  nlohmann::json body{{"event", what},
                      {"pipeline", n.pipeline},
                      {"run_id", n.run_id},
                      {"logical_date", format_iso8601(n.logical_date)},
                      {"text", text}};
  if (task) {
    body["task_id"] = n.task_id;
    body["try_number"] = n.try_number;
  }
  if (!n.error.empty()) body["error"] = n.error;
  return body;
}

Notifier::Notifier(SecretMaskerPtr masker, Logger logger)
    : masker_(std::move(masker)), logger_(std::move(logger)), thread_([this] { loop(); }) {}

Notifier::~Notifier() {
  drain(5000);
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  thread_.join();
}

void Notifier::notify(const std::vector<NotificationSpec>& specs, const Notification& n) {
  std::string body;
  std::lock_guard lock(mutex_);
  for (const NotificationSpec& spec : specs) {
    if (!spec.on.count(n.event)) continue;
    masker_->add(spec.webhook);
    for (const auto& [name, value] : spec.headers) masker_->add(value);
    if (body.empty()) body = masker_->mask(notification_payload(n).dump());
    if (queue_.size() >= kMaxQueued) {
      logger_.warn("notification queue full: dropped a {} notification", notify_event_name(n.event));
      queue_.pop_front();
    }
    queue_.push_back({spec, n.event, body});
  }
  changed_.notify_all();
}

bool Notifier::drain(int64_t timeout_ms) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return queue_.empty() && !busy_; });
}

void Notifier::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    Delivery d = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    deliver(d);
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

void Notifier::deliver(const Delivery& d) {
  std::string error;
  long status = 0;
  for (int attempt = 1; attempt <= kTries; ++attempt) {
    error.clear();
    status = post(d.spec.webhook, d.spec.headers, d.body, error);
    if (status >= 200 && status < 300) return;
    const bool retryable = status == 0 || status == 429 || status >= 500;
    if (!retryable || attempt == kTries) break;
    {
      std::unique_lock lock(mutex_);
      if (changed_.wait_for(lock, std::chrono::seconds(attempt), [&] { return stop_; })) return;
    }
  }
  const std::string why = status ? "it answered HTTP " + std::to_string(status) : error;
  // The URL may hold a token (Slack's do): name its host only.
  const size_t host = d.spec.webhook.find("://") + 3;
  const std::string endpoint = d.spec.webhook.substr(0, d.spec.webhook.find('/', host));
  logger_.warn("webhook notification ({}) to {} failed: {}", notify_event_name(d.event), masker_->mask(endpoint),
               masker_->mask(why));
}

}  // namespace strata::orchestrate
