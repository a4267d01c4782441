#pragma once
// The syntax tree of a parsed template. Nodes are immutable after parsing; evaluation
// (eval/exec, defined in eval_*.cpp) takes all mutable state from the Renderer. Internal.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "jinja/environment.h"
#include "jinja/value.h"

namespace strata::jinja::detail {

class Renderer;

// Statement results: Result<Done> costs nothing on success (unlike Status, which builds an Error).
struct Done {};
using Exec = Result<Done>;
inline Exec done() { return Exec(Done{}); }

// The kinds (bit 1 << Kind) having a built-in Python method `name` (methods.cpp); computed once
// per attribute node by the parser.
std::uint16_t builtin_method_kinds(std::string_view name);

// The built-in `default` filter, and whether a registered filter is it (not a host override):
// the evaluator runs `x | default(y)` inline then (filters.cpp).
Result<Value> filter_default(const Value& v, CallArgs& args, CallContext& context);
bool is_builtin_default_filter(const FilterFunction& f);

// Counters of the `loop` variable the evaluator reads without a call (see Renderer::innermost_loop).
enum class LoopAttr : std::uint8_t { kNone, kIndex, kIndex0, kRevindex, kRevindex0, kFirst, kLast, kLength };

struct Pos {
  int line = 0;
  int column = 0;
};

struct Expr {
  Pos pos;
  int depth = 1;  // height of this subtree (the parser refuses very deep trees)
  virtual ~Expr() = default;
  virtual Result<Value> eval(Renderer& r) const = 0;
  // Evaluates without copying when the value already lives somewhere (a variable, a dict item):
  // returns a pointer to it, else evaluates into `scratch` and returns &scratch. The pointer is
  // valid until the renderer evaluates anything else or changes scopes: use it at once.
  virtual Result<const Value*> eval_ref(Renderer& r, Value& scratch) const;
  // True when evaluating this expression cannot run code (calls, filters) that may mutate
  // containers, so references from eval_ref stay valid while it is evaluated.
  virtual bool pure() const { return false; }
  // The fast path of eval_ref for variables, dict items and literals: no errors, no copies.
  // nullptr means "take the full path" (eval_ref), which then also produces any error.
  virtual const Value* try_ref(Renderer&, Value&) const { return nullptr; }
  // Truthiness without building a Value: 0 or 1, or -1 for "take the full path".
  virtual int try_truthy(Renderer& r) const;
  // A literal's value (for constant folding of tag headers); nullptr otherwise.
  virtual const Value* constant() const { return nullptr; }
};
using ExprPtr = std::unique_ptr<Expr>;

// Arguments of a call, filter or test.
struct Args {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star;         // *args
  ExprPtr double_star;  // **kwargs
};

struct Literal : Expr {
  Value value;
  Result<Value> eval(Renderer& r) const override;
  const Value* constant() const override { return &value; }
  Result<const Value*> eval_ref(Renderer&, Value&) const override { return &value; }
  bool pure() const override { return true; }
  const Value* try_ref(Renderer&, Value&) const override { return &value; }
};
struct Name : Expr {
  std::string name;
  std::size_t hash = 0;  // std::hash of name, computed by the parser
  Value undefined_value;  // undefined with the hint "'name' is undefined", built by the parser
  // Where the variable probably is in the innermost scope (a for loop's `loop` and target), or -1.
  // Only a hint: used when that slot holds this very name, else the scopes are searched.
  int slot_hint = -1;
  HashedName key() const { return HashedName(name, hash); }
  Result<Value> eval(Renderer& r) const override;
  Result<const Value*> eval_ref(Renderer& r, Value& scratch) const override;
  bool pure() const override { return true; }
  const Value* try_ref(Renderer& r, Value& scratch) const override;
};
struct ListExpr : Expr {
  std::vector<ExprPtr> items;
  bool tuple = false;
  Result<Value> eval(Renderer& r) const override;
};
struct DictExpr : Expr {
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
  Result<Value> eval(Renderer& r) const override;
};
enum class UnaryOp { kNeg, kPos, kNot };
struct Unary : Expr {
  UnaryOp op;
  ExprPtr operand;
  Result<Value> eval(Renderer& r) const override;
  int try_truthy(Renderer& r) const override;
};
enum class BinOp { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow, kConcat, kAnd, kOr };
struct Binary : Expr {
  BinOp op;
  ExprPtr left, right;
  Result<Value> eval(Renderer& r) const override;
};
enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };
struct Compare : Expr {
  ExprPtr first;
  std::vector<std::pair<CmpOp, ExprPtr>> rest;
  Result<Value> eval(Renderer& r) const override;
};
struct CondExpr : Expr {
  ExprPtr test, yes, no;  // no may be null (undefined)
  Result<Value> eval(Renderer& r) const override;
};
struct GetAttr : Expr {
  ExprPtr object;
  std::string name;
  std::size_t hash = 0;  // std::hash of name, computed by the parser
  std::uint16_t method_kinds = 0;  // builtin_method_kinds(name), computed by the parser
  LoopAttr loop_attr = LoopAttr::kNone;  // when name is one of the loop variable's counters
  Value dict_missing;  // undefined: "'dict object' has no attribute 'name'", built by the parser
  HashedName key() const { return HashedName(name, hash); }
  Result<Value> eval(Renderer& r) const override;
  Result<const Value*> eval_ref(Renderer& r, Value& scratch) const override;
  bool pure() const override { return object->pure(); }
  const Value* try_ref(Renderer& r, Value& scratch) const override;
};
struct SliceExpr : Expr {
  ExprPtr start, stop, step;  // each may be null
  Result<Value> eval(Renderer& r) const override;
};
struct GetItem : Expr {
  ExprPtr object;
  ExprPtr key;  // may be a SliceExpr
  Result<Value> eval(Renderer& r) const override;
};
struct Call : Expr {
  ExprPtr callee;
  const GetAttr* method = nullptr;  // callee as `obj.name` (a method call), set by the parser
  Args args;
  Result<Value> eval(Renderer& r) const override;
};
struct FilterExpr : Expr {
  ExprPtr input;  // null inside a {% filter %} block chain (input supplied by the block)
  std::string name;
  Args args;
  // Resolved by the parser when the filter is registered by then (else looked up per call).
  const FilterFunction* fn = nullptr;
  bool keeps_undefined = false;  // `default`/`d`: accepts undefined input in strict mode
  bool inline_default = false;   // the built-in default with at most one positional argument
  bool args_pure = false;        // every argument is pure(): the input may be passed by reference
  Result<Value> eval(Renderer& r) const override;
  const Value* try_ref(Renderer& r, Value& scratch) const override;  // inline_default only
  Result<Value> apply(Renderer& r, const Value& input) const;
};
struct TestExpr : Expr {
  ExprPtr input;
  std::string name;
  Args args;
  const TestFunction* fn = nullptr;  // resolved by the parser when registered by then
  bool args_pure = false;
  bool negated = false;
  Result<Value> eval(Renderer& r) const override;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  Pos pos;
  virtual ~Stmt() = default;
  virtual Exec exec(Renderer& r, std::string& out) const = 0;
};

// Assignment target: a name, a tuple of targets, or `ns.attr`.
struct Target {
  std::string name;
  std::size_t hash = 0;          // std::hash of name
  std::string attr;              // non-empty for `ns.attr`
  std::vector<Target> items;     // non-empty for unpacking
  bool is_tuple = false;
  Pos pos;
};

struct TextStmt : Stmt {
  std::string text;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct OutputStmt : Stmt {
  ExprPtr expr;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct IfStmt : Stmt {
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body else_body;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct ForStmt : Stmt {
  Target target;
  ExprPtr iter;
  ExprPtr filter;  // `for x in y if cond`
  Body body, else_body;
  bool recursive = false;
  Exec exec(Renderer& r, std::string& out) const override;
  Exec run(Renderer& r, std::string& out, const Value& iterable, int depth) const;
};
struct SetStmt : Stmt {
  Target target;
  ExprPtr value;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct SetBlockStmt : Stmt {
  Target target;
  std::vector<std::unique_ptr<FilterExpr>> filters;
  Body body;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct MacroParam {
  std::string name;
  std::size_t hash = 0;  // std::hash of name
  ExprPtr default_value;  // may be null
};
// A macro definition; shared by the Macro callables made from it.
struct MacroDef {
  std::string name;
  std::vector<MacroParam> params;
  Body body;
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false;
  Pos pos;
};
struct MacroStmt : Stmt {
  std::shared_ptr<MacroDef> def;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct CallBlockStmt : Stmt {
  std::shared_ptr<MacroDef> caller;  // the block body as the `caller` macro
  std::unique_ptr<Call> call;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct DoStmt : Stmt {
  ExprPtr expr;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct FilterBlockStmt : Stmt {
  std::vector<std::unique_ptr<FilterExpr>> filters;
  Body body;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct WithStmt : Stmt {
  std::vector<std::pair<Target, ExprPtr>> assignments;
  Body body;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct IncludeStmt : Stmt {
  ExprPtr name;
  bool ignore_missing = false;
  bool with_context = true;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct ImportStmt : Stmt {
  ExprPtr name;
  std::string alias;                                       // `import x as alias`
  std::vector<std::pair<std::string, std::string>> names;  // `from x import a as b`
  bool with_context = false;
  Exec exec(Renderer& r, std::string& out) const override;
};
enum class LoopControl { kNone, kBreak, kContinue };
struct LoopControlStmt : Stmt {
  LoopControl kind;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct BlockStmt : Stmt {  // {% block %} without inheritance: renders its body in place
  Body body;
  Exec exec(Renderer& r, std::string& out) const override;
};
struct CustomBodyStmt : Stmt {  // host body tag; index into Program::custom_blocks
  std::size_t index = 0;
  Exec exec(Renderer& r, std::string& out) const override;
};

// A parsed template.
struct Program {
  Body body;
  std::size_t text_size = 0;  // bytes of literal text (to reserve output)
  std::vector<std::shared_ptr<MacroDef>> macros;  // top-level macros, in source order
  std::vector<CustomBlock> custom_blocks;
};

}  // namespace strata::jinja::detail
