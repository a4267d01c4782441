#pragma once
// The macros a node or a macro calls: manifest.json's depends_on.macros, which `state:modified`
// follows to find nodes whose macros changed. dbt records them while rendering at parse time;
// Strata scans the Jinja statically (the parser renders only some nodes), which finds the same
// direct calls: `name(…)` and `package.name(…)` inside `{{ }}` and `{% %}`, plus the
// implementations `adapter.dispatch('name')` can pick (every `<prefix>__name`). Calls of names that
// are no macro of the project or its packages (Jinja's own, Strata's built-in dbt macros) are not
// dependencies. Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "transform/parser.h"

namespace strata::transform {

// A name called in Jinja code, as written.
struct JinjaCall {
  std::string name;            // "my_macro", "dbt_utils.star"
  bool dispatched = false;     // the name given to adapter.dispatch('name', …)
  std::string dispatch_package;  // adapter.dispatch's macro_namespace, "" when not given
};

// Every call in the Jinja regions of `text`, in order of appearance, repeats removed; comments
// and string literals are skipped. In a macro file, the `{% macro name(…) %}` tag itself is no call.
std::vector<JinjaCall> jinja_calls(std::string_view text);

// Sets depends_on_macros of every node and macro of the project from their text. An unqualified
// name resolves as dbt resolves it: the caller's package, then the root project, then any package.
void link_macro_dependencies(ParsedProject& project);

}  // namespace strata::transform
