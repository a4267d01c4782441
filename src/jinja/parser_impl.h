#pragma once
// The Jinja parser's class, shared by its two source files: parser.cpp (statements) and
// parser_expr.cpp (expressions). Private to the jinja module; use parse_program() (parser.h).
// One Parser parses one token stream once; not thread-safe.

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jinja/parser.h"
#include "jinja/template.h"

namespace strata::jinja::detail {

// A new AST node positioned at `at`.
template <typename T>
std::unique_ptr<T> make_node(const Token& at) {
  auto n = std::make_unique<T>();
  n->pos = Pos{at.line, at.column};
  return n;
}

// "'a', 'b' or 'c'": tag names for an error message.
std::string quoted_list(const std::vector<std::string>& names);

// Recursive descent over the lexer's tokens into a Program; errors are located kConfig errors.
class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string_view source, const std::shared_ptr<EnvironmentState>& env,
         const std::string& name)
      : toks_(std::move(tokens)), source_(source), env_(env), name_(name) {}

  Result<std::unique_ptr<Program>> run() {
    program_ = std::make_unique<Program>();
    STRATA_ASSIGN(Body body, parse_body({}, ""));
    program_->body = std::move(body);
    return std::move(program_);
  }

 private:
  // ---- token helpers
  const Token& cur() const { return toks_[i_]; }
  const Token& peek(std::size_t n = 1) const { return toks_[std::min(i_ + n, toks_.size() - 1)]; }
  void advance() { if (i_ + 1 < toks_.size()) ++i_; }
  bool is_op(std::string_view op) const { return cur().type == Tok::kOp && cur().value == op; }
  bool is_name(std::string_view n) const { return cur().type == Tok::kName && cur().value == n; }
  bool skip_op(std::string_view op) { if (is_op(op)) { advance(); return true; } return false; }
  bool skip_name(std::string_view n) { if (is_name(n)) { advance(); return true; } return false; }

  Error error(const Token& at, std::string message) const {
    return Error(ErrorCode::kConfig, std::move(message), SourceLocation{name_, at.line, at.column});
  }
  Error unexpected() const {
    if (cur().type == Tok::kEof) return error(cur(), "unexpected end of template");
    return error(cur(), "unexpected '" + describe(cur()) + "'");
  }
  Status expect_op(std::string_view op) {
    if (skip_op(op)) return ok_status();
    return error(cur(), "expected token '" + std::string(op) + "', got '" + describe(cur()) + "'");
  }
  Result<std::string> expect_name() {
    if (cur().type != Tok::kName)
      return error(cur(), "expected token 'name', got '" + describe(cur()) + "'");
    std::string n = cur().value;
    advance();
    return n;
  }
  Status expect_block_end() {
    if (cur().type == Tok::kBlockEnd) { advance(); return ok_status(); }
    return error(cur(), "expected token 'end of statement block', got '" + describe(cur()) + "'");
  }

  // Depth guard: every recursive entry point holds one.
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) { ++p.depth_; }
    ~DepthGuard() { --p.depth_; }
  };
  Status check_depth() const {
    if (depth_ > env_->options.max_depth) return error(cur(), "template nesting too deep");
    return ok_status();
  }

  static constexpr int kMaxExprDepth = 1000;

  // ---- statements (parser.cpp)
  // Parses until `{% name` with name in `ends` (left unconsumed) or the end of the template.
  Result<Body> parse_body(const std::vector<std::string>& ends, const std::string& innermost);
  // Consumes `{% name` (already known to be there) and returns the name.
  std::string take_end_tag();
  Result<StmtPtr> parse_statement(const std::vector<std::string>& ends, const std::string& innermost);
  const CustomTag* find_tag(const std::string& kw) const;
  Result<StmtPtr> parse_if();
  Result<StmtPtr> parse_for();
  Result<StmtPtr> parse_for_statement();
  // A name, `ns.attr` (when allowed), or a tuple of targets (parenthesized or bare).
  Result<Target> parse_target(bool allow_attr);
  Result<Target> parse_single_target(bool allow_attr);
  Result<StmtPtr> parse_set();
  // `name(args)|name2` chain for {% filter %} and {% set x | f %}.
  Result<std::vector<std::unique_ptr<FilterExpr>>> parse_filter_chain(bool require_first);
  Result<std::unique_ptr<FilterExpr>> parse_filter_name_args();
  Status parse_macro_params(MacroDef& def);
  // Scans a macro body for uses of caller/varargs/kwargs (names looked up at runtime anyway;
  // the flags only decide whether extra arguments are accepted).
  void scan_special_names(MacroDef& def, std::size_t from, std::size_t to) const;
  Result<std::shared_ptr<MacroDef>> parse_macro_rest(std::string name, const Token& at, bool params_required);
  Status parse_macro_body(MacroDef& def, const std::string& end_tag, const std::string& innermost);
  Result<StmtPtr> parse_macro();
  StmtPtr macro_statement(const Token& at, std::shared_ptr<MacroDef> def);
  Result<StmtPtr> parse_call_block();
  Result<StmtPtr> parse_filter_block();
  Result<StmtPtr> parse_with();
  // `with context` / `without context`; returns the default when absent.
  bool parse_context_modifier(bool fallback);
  Result<StmtPtr> parse_include();
  Result<StmtPtr> parse_import();
  Result<StmtPtr> parse_block();
  // ---- host tags
  Result<StmtPtr> parse_custom(const CustomTag& tag);
  // The source between body_offset and the `{%` of the end tag just consumed.
  std::string raw_between(std::size_t body_offset) const;
  Status parse_tag_arg(TagHeader& header);
  // A constant expression (literal/list/dict) or a bare name (its string).
  Result<Value> parse_constant();
  Result<Value> fold_constant(const Expr& e, const Token& at) const;
  // ---- expressions (parser_expr.cpp)
  Result<ExprPtr> parse_expression(bool with_condexpr);
  // Sets parent's height from its children; an error past kMaxExprDepth.
  Status deepen(Expr& parent, std::initializer_list<const Expr*> children) const;
  Result<ExprPtr> binary(BinOp op, ExprPtr left, ExprPtr right, const Token& at);
  Result<ExprPtr> parse_or();
  Result<ExprPtr> parse_and();
  Result<ExprPtr> parse_not();
  Result<ExprPtr> parse_compare();
  Result<ExprPtr> parse_math1();
  Result<ExprPtr> parse_concat();
  Result<ExprPtr> parse_math2();
  Result<ExprPtr> parse_pow();
  Result<ExprPtr> parse_unary(bool with_filter);
  Result<ExprPtr> parse_primary();
  Result<ExprPtr> literal(const Token& t, Value v);
  Result<ExprPtr> parse_list();
  Result<ExprPtr> parse_dict();
  bool is_tuple_end(const std::vector<std::string>& extra_end) const;
  Result<ExprPtr> parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end, bool explicit_parens);
  Result<ExprPtr> parse_postfix(ExprPtr n);
  Result<ExprPtr> parse_subscripts();
  Result<ExprPtr> parse_subscript();
  Result<Args> parse_call_args();
  Result<ExprPtr> parse_call(ExprPtr callee);
  Result<ExprPtr> parse_filter_expr(ExprPtr n);
  Result<ExprPtr> parse_test(ExprPtr n);
  static LoopAttr loop_attr_of(std::string_view name);
  static bool args_pure(const Args& args);

  std::vector<Token> toks_;
  std::string_view source_;
  const std::shared_ptr<EnvironmentState>& env_;
  const std::string& name_;
  std::size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  int block_depth_ = 0;
  int for_nesting_ = 0;  // for statements (target to endfor) being parsed, macros included
  const std::string* loop_target_ = nullptr;  // target of the for loop whose body is being parsed
  std::unique_ptr<Program> program_;
};

}  // namespace strata::jinja::detail
