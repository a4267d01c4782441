#pragma once
// Datasets: data-aware scheduling, as Airflow's Datasets (Assets in Airflow 3). A task lists the
// datasets it updates (`outlets:`); each success of it records one dataset event per outlet in the
// metadata store (MetadataStore::add_dataset_event), as does `POST /api/v1/datasets/events`. A
// pipeline scheduled on datasets (`schedule: [uri, …]`, or nested `{all: […]}` / `{any: […]}`)
// gets a run once its condition holds over the datasets updated since its last dataset-triggered
// run (the scheduler: Scheduler::create_dataset_runs). A dataset is a URI string: any text
// without whitespace or control characters, in ASCII, as Airflow requires.
// Values only; thread-safe to share once built.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/yaml.h"
#include "orchestrate/metadata_store.h"

namespace strata::orchestrate {

// A dataset schedule: one dataset, or all / any of several conditions (Airflow's `&` and `|`).
struct DatasetCondition {
  enum class Kind { kDataset, kAll, kAny };
  Kind kind = Kind::kDataset;
  std::string uri;                     // kDataset
  std::vector<DatasetCondition> parts; // kAll, kAny: at least one

  // True when the condition holds with `updated` the datasets that have events queued.
  bool met(const std::set<std::string>& updated) const;
  // Every dataset the condition names, each once, in first-seen order.
  std::vector<std::string> uris() const;
  // As written in Airflow's terms: "a & (b | c)".
  std::string to_string() const;
};

struct PipelineSpec;

// What the pipelines say about one dataset: the tasks that update it, as (pipeline, task) (a
// `build:` task once, not each task it expanded into), and the pipelines scheduled on it.
struct DatasetUse {
  std::vector<std::pair<std::string, std::string>> producers;
  std::vector<std::string> consumers;
};
// Every dataset the pipelines name, by URI.
std::map<std::string, DatasetUse> dataset_uses(const std::vector<std::shared_ptr<const PipelineSpec>>& pipelines);
// Ok when a pipeline names uri (in an outlet or a schedule); else kNotFound listing those it names
// (as Airflow 2.9's API refuses an event of a dataset it does not know: a typo triggers nothing).
Status check_known_dataset(const std::string& uri, const std::vector<std::shared_ptr<const PipelineSpec>>& pipelines);

// Parses `schedule:` given as a sequence (all of its items) or a mapping {all: […]} / {any: […]};
// items are URIs or such mappings. Errors: kConfig, located (an empty list, an unknown key, a URI
// that is not one).
Result<DatasetCondition> parse_dataset_schedule(const YamlDocument& doc, const YamlNode& node);
// Parses a task's `outlets:` (a URI or a list of them). Errors: kConfig, located.
Result<std::vector<std::string>> parse_outlets(const YamlDocument& doc, const YamlNode& node);
// Empty when uri is a valid dataset URI, else what is wrong with it.
std::string dataset_uri_problem(const std::string& uri);
// An event as templates and the API show it: Airflow's DatasetEvent fields (timestamp,
// source_dag_id, source_task_id, source_run_id, extra, dataset.uri) and Strata's names (uri,
// source_pipeline), plus its id.
nlohmann::json dataset_event_json(const DatasetEventRecord& event);

}  // namespace strata::orchestrate
