#include "orchestrate/task_template.h"

#include "common/strings.h"
#include "common/time.h"

namespace strata::orchestrate {
namespace {

std::string json_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "True" : "False";  // as Python prints them
  if (value.is_null()) return "None";
  return value.dump();
}

}  // namespace

TemplateContext run_template_context(const RunRecord& run, const nlohmann::json& pipeline_params) {
  TemplateContext ctx;
  ctx.vars["data_interval_start"] = format_iso8601(run.interval_start);
  ctx.vars["data_interval_end"] = format_iso8601(run.interval_end);
  ctx.vars["logical_date"] = format_iso8601(run.logical_date);
  ctx.vars["ts"] = ctx.vars["logical_date"];
  ctx.vars["ds"] = ctx.vars["logical_date"].substr(0, 10);
  ctx.vars["run_id"] = run.run_id;
  ctx.params = pipeline_params.is_object() ? pipeline_params : nlohmann::json::object();
  auto overrides = nlohmann::json::parse(run.params_json, nullptr, false);
  if (overrides.is_object())
    for (auto& [k, v] : overrides.items()) ctx.params[k] = v;
  return ctx;
}

Result<std::string> render_task_template(std::string_view text, const TemplateContext& ctx,
                                         const SourceLocation& where) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos)
      return Error(ErrorCode::kConfig, "unclosed '{{' in a task template", where, "close it with '}}'");
    out.append(text.substr(pos, open - pos));
    std::string name(trim(text.substr(open + 2, close - open - 2)));
    if (starts_with(name, "params.")) {
      const nlohmann::json* value = &ctx.params;
      for (const auto& part : split(name.substr(7), '.')) {
        if (!value->is_object() || !value->contains(part))
          return Error(ErrorCode::kConfig, "unknown param '" + name.substr(7) + "' in a task template", where,
                       "declare it under `params:` in the pipeline or pass --param " + part + "=VALUE");
        value = &(*value)[part];
      }
      out += json_text(*value);
    } else if (auto it = ctx.vars.find(name); it != ctx.vars.end()) {
      out += it->second;
    } else {
      return Error(ErrorCode::kConfig, "unknown template variable '" + name + "'", where,
                   "use data_interval_start, data_interval_end, logical_date, ds, ts, run_id or params.NAME");
    }
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace strata::orchestrate
