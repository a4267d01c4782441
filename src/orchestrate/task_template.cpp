#include "orchestrate/task_template.h"

#include "common/strings.h"
#include "common/time.h"
#include "orchestrate/datasets.h"

namespace strata::orchestrate {

namespace {

std::string without(std::string text, std::string_view chars) {
  std::string out;
  for (char c : text)
    if (chars.find(c) == std::string_view::npos) out += c;
  return out;
}

}  // namespace

TemplateContext run_template_context(const RunRecord& run, const nlohmann::json& pipeline_params,
                                     const std::vector<DatasetEventRecord>& triggering,
                                     const std::vector<std::string>& datasets) {
  TemplateContext ctx;
  ctx.vars["data_interval_start"] = format_iso8601(run.interval_start);
  ctx.vars["data_interval_end"] = format_iso8601(run.interval_end);
  ctx.vars["logical_date"] = format_iso8601(run.logical_date);
  ctx.vars["ts"] = ctx.vars["logical_date"];
  ctx.vars["ds"] = ctx.vars["logical_date"].substr(0, 10);
  ctx.vars["ds_nodash"] = without(ctx.vars["ds"], "-");
  ctx.vars["ts_nodash"] = without(ctx.vars["ts"].substr(0, 19), "-:");
  ctx.vars["run_id"] = run.run_id;
  ctx.params = pipeline_params.is_object() ? pipeline_params : nlohmann::json::object();
  auto overrides = nlohmann::json::parse(run.params_json, nullptr, false);
  if (overrides.is_object())
    for (auto& [k, v] : overrides.items()) ctx.params[k] = v;
  auto jc = std::make_shared<jinja::Context>();
  for (const auto& [name, value] : ctx.vars) jc->set(name, jinja::Value(value));
  jc->set("params", jinja::Value::from_json(ctx.params));
  nlohmann::json events = nlohmann::json::object();
  for (const auto& uri : datasets) events[uri] = nlohmann::json::array();
  for (const auto& e : triggering) events[e.uri].push_back(dataset_event_json(e));
  jc->set("triggering_dataset_events", jinja::Value::from_json(events));
  ctx.jinja_context = std::move(jc);
  return ctx;
}

Result<std::string> render_task_template(std::string_view text, const TemplateContext& ctx,
                                         const SourceLocation& where) {
  if (text.find("{{") == std::string_view::npos && text.find("{%") == std::string_view::npos &&
      text.find("{#") == std::string_view::npos)
    return std::string(text);
  jinja::Context context(ctx.jinja_context);
  auto rendered = ctx.environment.render(text, context, "task command");
  if (rendered.ok()) return rendered;
  const Error& e = rendered.error();
  return Error(ErrorCode::kConfig, "task template: " + e.to_string(), where,
               "variables: data_interval_start, data_interval_end, logical_date, ds, ds_nodash, ts, ts_nodash, "
               "run_id, triggering_dataset_events, params.NAME (declare params under `params:` or pass --param NAME=VALUE)");
}

}  // namespace strata::orchestrate
