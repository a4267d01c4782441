#pragma once
// jinja::Value — a Python-like value as Jinja2 templates see it: none, undefined, bool, int (int64),
// float, string (with a "safe" markup flag), list, tuple, dict (insertion-ordered, any hashable
// key), callable (C++ function or template macro) and host objects.
//
// Ownership: scalars are stored inline; strings are immutable and shared; lists and dicts are
// shared and mutable (Python reference semantics: `x.append(1)` is visible through every copy).
// Thread-safety: a Value may be copied and read from many threads at once as long as nobody
// mutates a list or dict reachable from it at the same time.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"

namespace strata::jinja {

class Value;
class Dict;
class Callable;
class Object;
class CallContext;

using ValueList = std::vector<Value>;

// String equality inlined for short names (no call to memcmp): variable and key lookups.
inline bool same_chars(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  std::size_t n = a.size();
  if (n >= 8) {  // 8-byte words, the last one overlapping
    std::uint64_t x, y;
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      __builtin_memcpy(&x, p + i, 8);
      __builtin_memcpy(&y, q + i, 8);
      if (x != y) return false;
    }
    __builtin_memcpy(&x, p + n - 8, 8);
    __builtin_memcpy(&y, q + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {  // two overlapping 4-byte words
    std::uint32_t x, y, u, w;
    __builtin_memcpy(&x, p, 4);
    __builtin_memcpy(&y, q, 4);
    __builtin_memcpy(&u, p + n - 4, 4);
    __builtin_memcpy(&w, q + n - 4, 4);
    return x == y && u == w;
  }
  for (; n; --n)
    if (*p++ != *q++) return false;
  return true;
}

// A name with its hash (std::hash<std::string_view>) computed once, for repeated lookups of the
// same name (the parser hashes every variable and attribute name of a template).
struct HashedName {
  std::string_view name;
  std::size_t hash;

  explicit HashedName(std::string_view n) : name(n), hash(std::hash<std::string_view>{}(n)) {}
  HashedName(std::string_view n, std::size_t h) : name(n), hash(h) {}
  friend bool operator==(const HashedName& a, const std::string& b) { return same_chars(a.name, b); }
};

// The type of a Value, as Jinja2 tests (`is string`, `is mapping`, ...) see it.
enum class Kind : std::uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,
  kTuple,
  kDict,
  kCallable,
  kObject,
};

class Value {
 public:
  // An undefined value (lenient: prints as "", iterates as empty, is falsy).
  Value() = default;
  Value(bool b) : kind_(Kind::kBool) { scalar_.b = b; }                    // NOLINT
  Value(int i) : kind_(Kind::kInt) { scalar_.i = i; }                      // NOLINT
  Value(std::int64_t i) : kind_(Kind::kInt) { scalar_.i = i; }             // NOLINT
  Value(double f) : kind_(Kind::kFloat) { scalar_.f = f; }                 // NOLINT
  Value(std::string s);                                                    // NOLINT
  Value(std::string_view s) : Value(std::string(s)) {}                     // NOLINT
  Value(const char* s) : Value(std::string(s)) {}                          // NOLINT
  Value(ValueList items);                                                  // NOLINT: a list
  Value(Dict dict);                                                        // NOLINT

  static Value none();
  // An undefined value; `hint` is the Jinja2 message used when it is used in strict mode or
  // called, e.g. "'foo' is undefined" or "'dict object' has no attribute 'bar'".
  static Value undefined(std::string hint);
  // Same with a shared, prebuilt message (no allocation per use).
  static Value undefined(std::shared_ptr<const std::string> hint);
  // A string marked safe (Markup): `safe` filter, `escape` output.
  static Value safe_string(std::string s);
  static Value tuple(ValueList items);
  static Value callable(std::shared_ptr<const Callable> fn);
  static Value object(std::shared_ptr<Object> obj);
  // Converts JSON: object -> dict, array -> list, number -> int/float, null -> none.
  static Value from_json(const nlohmann::json& json);
  // Same, keeping the object's key order (parse with nlohmann::ordered_json to preserve it).
  static Value from_json(const nlohmann::ordered_json& json);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kTuple; }
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_callable() const { return kind_ == Kind::kCallable; }
  bool is_object() const { return kind_ == Kind::kObject; }
  // A string with the safe (markup) flag.
  bool is_safe() const { return safe_; }

  // Python truthiness. Undefined is falsy (strict-mode checks happen in the evaluator).
  bool truthy() const;

  // Accessors; calling one for the wrong kind is a programming error (asserts).
  bool as_bool() const { return scalar_.b; }
  std::int64_t as_int() const { return kind_ == Kind::kBool ? static_cast<std::int64_t>(scalar_.b) : scalar_.i; }
  // Int, bool or float as a double.
  double as_float() const;
  const std::string& as_string() const {
    return ptr_ ? *static_cast<const std::string*>(ptr_.get()) : empty_string();
  }
  // The items of a list or tuple; shared with every copy of this Value.
  ValueList& as_list() const { return *const_cast<ValueList*>(static_cast<const ValueList*>(ptr_.get())); }
  Dict& as_dict() const { return *const_cast<Dict*>(static_cast<const Dict*>(ptr_.get())); }
  std::shared_ptr<const Callable> as_callable() const;
  std::shared_ptr<Object> as_object() const;
  // The same without touching the reference count (valid while this Value lives).
  const Callable& callable_ref() const { return *static_cast<const Callable*>(ptr_.get()); }
  Object& object_ref() const { return *const_cast<Object*>(static_cast<const Object*>(ptr_.get())); }
  // The message of an undefined value ("'x' is undefined").
  const std::string& undefined_hint() const;

  // Python str(): what `{{ value }}` prints. Undefined prints as "" (lenient).
  std::string to_string() const;
  // Appends str(value) to out without a temporary where possible.
  void append_to(std::string& out) const;
  // Python repr(): strings quoted, lists as [..], dicts as {..}.
  std::string repr() const;
  // Jinja2's type name for messages: "str object", "int object", "dict object", ...
  std::string type_name() const;
  // JSON for `tojson`; fails for callables, objects and undefined values.
  Result<nlohmann::json> to_json() const;

  // Python ==: 1 == 1.0 == true, [1] == [1], strings by content, lists/dicts deeply.
  bool equals(const Value& other) const;
  friend bool operator==(const Value& a, const Value& b) { return a.equals(b); }
  // A hash consistent with equals() for hashable values (none, bool, numbers, strings, tuples).
  std::size_t hash() const;
  // True for values that may be dict keys.
  bool hashable() const;

 private:
  static const std::string& empty_string();

  Kind kind_ = Kind::kUndefined;
  bool safe_ = false;
  union Scalar {
    bool b;
    std::int64_t i;
    double f;
  } scalar_{};
  // string / undefined hint: std::string; list/tuple: ValueList; dict: Dict; callable; object.
  std::shared_ptr<const void> ptr_;
};

// An insertion-ordered dictionary with Python semantics (keys compared with Value::equals).
// Lookups are O(1): each key's hash is kept, small dicts scan the hashes, larger ones also keep an
// open-addressing index. Not thread-safe for concurrent mutation.
class Dict {
 public:
  using Entry = std::pair<Value, Value>;

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // The value stored under key, or nullptr.
  const Value* find(const Value& key) const;
  Value* find(const Value& key);
  const Value* find(std::string_view key) const { return find(HashedName(key)); }
  Value* find(std::string_view key) { return find(HashedName(key)); }
  const Value* find(const char* key) const { return find(std::string_view(key)); }
  Value* find(const char* key) { return find(std::string_view(key)); }
  const Value* find(const std::string& key) const { return find(std::string_view(key)); }
  Value* find(const std::string& key) { return find(std::string_view(key)); }
  // Same with the key's hash precomputed (std::hash<std::string_view>, as Value::hash).
  const Value* find(const HashedName& key) const;
  Value* find(const HashedName& key) { return const_cast<Value*>(static_cast<const Dict*>(this)->find(key)); }
  // Inserts or replaces (keeping the original position on replace).
  void set(Value key, Value value);
  void set(std::string_view key, Value value) { set(Value(key), std::move(value)); }
  void set(const char* key, Value value) { set(Value(key), std::move(value)); }
  void set(const std::string& key, Value value) { set(Value(key), std::move(value)); }
  // Removes key; false when it was not there.
  bool erase(const Value& key);
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  static constexpr std::size_t kIndexFrom = 8;  // dicts this large get a hash index
  std::ptrdiff_t index_of(const Value& key) const;
  template <typename Eq>
  std::ptrdiff_t probe(std::size_t hash, Eq&& eq) const;
  void index_insert(std::size_t hash, std::size_t position);
  void rebuild_index();

  std::vector<Entry> entries_;
  std::vector<std::size_t> hashes_;  // hash of each key, parallel to entries_
  std::vector<std::int32_t> slots_;  // index into entries_ or -1; empty below kIndexFrom entries
  int slot_bits_ = 0;
};

// Arguments of a call: positional then keyword, in source order.
struct CallArgs {
  ValueList positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // The argument at position `pos`, else the keyword `name`, else nullptr.
  const Value* get(std::size_t pos, std::string_view name) const;
  // Like get() but returns `fallback` when absent.
  Value get_or(std::size_t pos, std::string_view name, Value fallback) const;
  const Value* keyword_arg(std::string_view name) const;
};

// Something callable from a template: a C++ function or a template macro.
// Implementations must be safe to call from several threads at once (each with its own context).
class Callable {
 public:
  virtual ~Callable() = default;
  // Calls with the given arguments; an Error surfaces as a located template error.
  virtual Result<Value> call(CallArgs& args, CallContext& context) const = 0;
  // Name for messages and repr.
  virtual const std::string& name() const = 0;
  virtual bool is_macro() const { return false; }
};

// A C++ function callable from templates: `ref('x')`, `config(materialized='table')`.
using NativeFunction = std::function<Result<Value>(CallArgs& args, CallContext& context)>;
// Wraps a NativeFunction as a callable Value.
Value make_function(std::string name, NativeFunction fn);

// A host object (dbt's `adapter`, `this`, `model`, `target`, `modules.re`...). The default
// implementations describe an object with no attributes, no items, not iterable.
// Implementations must be safe for concurrent calls if shared between renders on several threads.
class Object {
 public:
  virtual ~Object() = default;
  // "Relation", "Adapter": used in messages as "'<type_name> object' has no attribute 'x'".
  virtual std::string type_name() const { return "object"; }
  // `obj.name`: the attribute, or nullopt when there is none (the template sees undefined).
  virtual std::optional<Value> get_attr(std::string_view name) const;
  // `obj.name(args)`: the default looks the attribute up and calls it when it is callable.
  virtual Result<Value> call_method(std::string_view name, CallArgs& args, CallContext& context) const;
  // `obj[key]`: nullopt when absent (the template sees undefined).
  virtual std::optional<Value> get_item(const Value& key) const;
  // `for x in obj`: the items, or nullopt when not iterable.
  virtual std::optional<ValueList> iterate() const { return std::nullopt; }
  // `obj(args)`: an error unless overridden.
  virtual Result<Value> call(CallArgs& args, CallContext& context) const;
  // str(obj): what `{{ obj }}` prints.
  virtual std::string to_string() const { return "<" + type_name() + " object>"; }
  virtual bool truthy() const { return true; }
  // True for an object Jinja2's `is mapping` test accepts (a Python object that is a Mapping).
  virtual bool is_mapping() const { return false; }
};

}  // namespace strata::jinja
