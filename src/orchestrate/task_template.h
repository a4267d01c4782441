#pragma once
// Rendering of task commands through the jinja module (Jinja2 semantics: filters, tests, `if`,
// `for`, macros). Variables: `data_interval_start`, `data_interval_end`, `logical_date`, `ts`
// (ISO 8601 UTC strings), `ds` (YYYY-MM-DD of the logical date), `ds_nodash`, `ts_nodash`,
// `run_id`, `params` (the pipeline's params overridden by the run's: `{{ params.x }}`,
// `{{ params.a.b }}`), and `triggering_dataset_events` (a dataset-triggered run's events by dataset
// URI, as Airflow's: `{{ triggering_dataset_events['s3://a'][0].source_dag_id }}`; every dataset of
// the pipeline's schedule is a key, with [] when it did not trigger the run). Undefined names are errors (StrictUndefined), so typos do not run as empty
// text. Text without `{{`, `{%` or `{#` is returned unchanged without parsing.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "jinja/environment.h"
#include "orchestrate/metadata_store.h"

namespace strata::orchestrate {

// The variables of one run, and the Jinja environment that renders its commands. Copies share
// the environment; read-only after creation, so renders may run on many threads at once.
struct TemplateContext {
  std::map<std::string, std::string> vars;
  nlohmann::json params = nlohmann::json::object();
  std::shared_ptr<const jinja::Context> jinja_context;  // vars + params as Jinja values
  jinja::Environment environment{jinja::Options{false, false, true, jinja::UndefinedMode::kStrict, 256}};
};

// The variables of a run: its dates, run id and params (the pipeline's params overridden by the run's).
// `triggering`: the events that triggered a dataset-triggered run (MetadataStore::run_dataset_events);
// `datasets`: the pipeline's datasets, each a key of triggering_dataset_events even without events.
TemplateContext run_template_context(const RunRecord& run, const nlohmann::json& pipeline_params,
                                     const std::vector<DatasetEventRecord>& triggering = {},
                                     const std::vector<std::string>& datasets = {});

// Renders text. Errors (kConfig, located at `where`, with Jinja's own line and column in the
// message): syntax errors, undefined variables or params, failing filters.
Result<std::string> render_task_template(std::string_view text, const TemplateContext& context,
                                         const SourceLocation& where = {});

}  // namespace strata::orchestrate
