#pragma once
// Parser: tokens -> Program (syntax tree), with Jinja2's grammar and error messages. Internal.

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "jinja/ast.h"
#include "jinja/env_state.h"
#include "jinja/lexer.h"

namespace strata::jinja::detail {

// Parses tokens of template `name`. `source` is the text the tokens came from (for raw bodies).
Result<std::unique_ptr<Program>> parse_program(std::vector<Token> tokens, std::string_view source,
                                               const std::shared_ptr<EnvironmentState>& env, const std::string& name);

}  // namespace strata::jinja::detail
