#include "orchestrate/datasets.h"

#include <algorithm>

#include "common/time.h"
#include "orchestrate/pipeline.h"

namespace strata::orchestrate {
namespace {

constexpr const char* kUriHint = "a dataset is a URI such as s3://bucket/orders or warehouse://gold/daily_sales";

Result<std::string> parse_uri(const YamlDocument& doc, const YamlNode& node, const char* what) {
  STRATA_ASSIGN(std::string uri, yaml_string(doc, node, what));
  if (std::string problem = dataset_uri_problem(uri); !problem.empty()) return doc.error(node, problem, kUriHint);
  return uri;
}

Result<DatasetCondition> parse_condition(const YamlDocument& doc, const YamlNode& node, int depth);

Result<DatasetCondition> parse_parts(const YamlDocument& doc, const YamlNode& list, DatasetCondition::Kind kind,
                                     int depth) {
  if (!list.is_sequence() || list.size() == 0)
    return doc.error(list, "a dataset condition needs a non-empty list of datasets",
                     "e.g. schedule: [s3://bucket/orders, s3://bucket/customers]");
  DatasetCondition out;
  out.kind = kind;
  for (const auto& item : list) {
    STRATA_ASSIGN(DatasetCondition part, parse_condition(doc, item, depth + 1));
    out.parts.push_back(std::move(part));
  }
  return out;
}

Result<DatasetCondition> parse_condition(const YamlDocument& doc, const YamlNode& node, int depth) {
  if (depth > 32) return doc.error(node, "dataset conditions nest too deeply", "at most 32 levels of all/any");
  if (node.is_sequence()) return parse_parts(doc, node, DatasetCondition::Kind::kAll, depth);
  if (node.is_map()) {
    if (node.size() != 1 || !(node["all"] || node["any"]))
      return doc.error(node, "a dataset condition mapping has exactly one key, `all` or `any`",
                       "e.g. {any: [s3://a, s3://b]}: a run once either is updated");
    const bool all = static_cast<bool>(node["all"]);
    return parse_parts(doc, all ? node["all"] : node["any"],
                       all ? DatasetCondition::Kind::kAll : DatasetCondition::Kind::kAny, depth);
  }
  DatasetCondition out;
  STRATA_ASSIGN(out.uri, parse_uri(doc, node, "dataset"));
  return out;
}

void collect(const DatasetCondition& c, std::vector<std::string>& out) {
  if (c.kind == DatasetCondition::Kind::kDataset) {
    if (std::find(out.begin(), out.end(), c.uri) == out.end()) out.push_back(c.uri);
    return;
  }
  for (const auto& p : c.parts) collect(p, out);
}

}  // namespace

bool DatasetCondition::met(const std::set<std::string>& updated) const {
  switch (kind) {
    case Kind::kDataset:
      return updated.count(uri) > 0;
    case Kind::kAll:
      return std::all_of(parts.begin(), parts.end(), [&](const DatasetCondition& p) { return p.met(updated); });
    case Kind::kAny:
      return std::any_of(parts.begin(), parts.end(), [&](const DatasetCondition& p) { return p.met(updated); });
  }
  return false;
}

std::vector<std::string> DatasetCondition::uris() const {
  std::vector<std::string> out;
  collect(*this, out);
  return out;
}

std::string DatasetCondition::to_string() const {
  if (kind == Kind::kDataset) return uri;
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += kind == Kind::kAll ? " & " : " | ";
    out += p.kind == Kind::kDataset || p.parts.size() == 1 ? p.to_string() : "(" + p.to_string() + ")";
  }
  return out;
}

std::string dataset_uri_problem(const std::string& uri) {
  if (uri.empty()) return "a dataset URI is empty";
  if (uri.size() > 3000) return "a dataset URI is longer than 3000 characters";
  for (unsigned char c : uri) {
    if (c >= 0x80) return "dataset URI '" + uri + "' is not ASCII";
    if (c <= 0x20 || c == 0x7f) return "dataset URI '" + uri + "' holds whitespace or a control character";
  }
  return {};
}

std::map<std::string, DatasetUse> dataset_uses(const std::vector<std::shared_ptr<const PipelineSpec>>& pipelines) {
  std::map<std::string, DatasetUse> uses;
  for (const auto& p : pipelines) {
    for (const auto& t : p->tasks) {
      const std::string& task = t.outlets_build.empty() ? t.id : t.outlets_build;
      for (const auto& uri : t.outlets) {
        auto& producers = uses[uri].producers;
        const std::pair<std::string, std::string> producer{p->name, task};
        if (std::find(producers.begin(), producers.end(), producer) == producers.end()) producers.push_back(producer);
      }
    }
    if (p->datasets)
      for (const auto& uri : p->datasets->uris()) uses[uri].consumers.push_back(p->name);
  }
  return uses;
}

Status check_known_dataset(const std::string& uri, const std::vector<std::shared_ptr<const PipelineSpec>>& pipelines) {
  const auto uses = dataset_uses(pipelines);
  if (uses.count(uri)) return ok_status();
  std::string known;
  for (const auto& [name, use] : uses) known += (known.empty() ? "" : ", ") + name;
  return Error(ErrorCode::kNotFound, "no pipeline names dataset '" + uri + "'", {},
               known.empty() ? "give a task `outlets: [" + uri + "]` or schedule a pipeline on it"
                             : "the datasets the pipelines name: " + known);
}

nlohmann::json dataset_event_json(const DatasetEventRecord& e) {
  nlohmann::json extra = nlohmann::json::parse(e.extra_json, nullptr, false);
  return nlohmann::json{{"id", e.id},
                        {"uri", e.uri},
                        {"dataset", {{"uri", e.uri}}},
                        {"timestamp", format_iso8601(e.at)},
                        {"source_pipeline", e.source_pipeline},
                        {"source_dag_id", e.source_pipeline},
                        {"source_run_id", e.source_run_id},
                        {"source_task_id", e.source_task_id},
                        {"extra", extra.is_object() ? extra : nlohmann::json::object()}};
}

Result<DatasetCondition> parse_dataset_schedule(const YamlDocument& doc, const YamlNode& node) {
  return parse_condition(doc, node, 0);
}

Result<std::vector<std::string>> parse_outlets(const YamlDocument& doc, const YamlNode& node) {
  std::vector<std::string> out;
  if (node.is_scalar()) {
    STRATA_ASSIGN(std::string uri, parse_uri(doc, node, "outlets"));
    out.push_back(std::move(uri));
    return out;
  }
  if (!node.is_sequence())
    return doc.error(node, "outlets must be a dataset URI or a list of them", "e.g. outlets: [s3://bucket/orders]");
  for (const auto& item : node) {
    STRATA_ASSIGN(std::string uri, parse_uri(doc, item, "outlets"));
    if (std::find(out.begin(), out.end(), uri) == out.end()) out.push_back(std::move(uri));
  }
  return out;
}

}  // namespace strata::orchestrate
