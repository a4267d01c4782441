#pragma once
// Rendering of task commands: `{{ data_interval_start }}`, `{{ data_interval_end }}`,
// `{{ logical_date }}`, `{{ ds }}` (YYYY-MM-DD of the logical date), `{{ ts }}`, `{{ run_id }}`,
// `{{ params.x }}` (nested: params.a.b). Dates render as ISO 8601 UTC. This is a plain
// substitution of `{{ name }}` expressions; other text is left untouched.
// TODO(orch): render through the jinja module once it lands, so filters and logic work too.

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "orchestrate/metadata_store.h"

namespace strata::orchestrate {

struct TemplateContext {
  std::map<std::string, std::string> vars;
  nlohmann::json params = nlohmann::json::object();
};

// The variables of a run: its dates, run id and params (the pipeline's params overridden by the run's).
TemplateContext run_template_context(const RunRecord& run, const nlohmann::json& pipeline_params);

// Renders text. Errors (kConfig, located at `where`): an unknown variable or param, an unclosed `{{`.
Result<std::string> render_task_template(std::string_view text, const TemplateContext& context,
                                         const SourceLocation& where = {});

}  // namespace strata::orchestrate
