#include "jinja/value.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "jinja/format.h"

namespace strata::jinja {
namespace {

class NativeCallable final : public Callable {
 public:
  NativeCallable(std::string name, NativeFunction fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  Result<Value> call(CallArgs& args, CallContext& context) const override { return fn_(args, context); }
  const std::string& name() const override { return name_; }

 private:
  std::string name_;
  NativeFunction fn_;
};

}  // namespace

const std::string& Value::empty_string() {
  static const std::string kEmpty;
  return kEmpty;
}

namespace {

void hash_combine(std::size_t& seed, std::size_t h) { seed ^= h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2); }

}  // namespace

template <typename Json>
Value value_from_json(const Json& json) {
  switch (json.type()) {
    case Json::value_t::null: return Value::none();
    case Json::value_t::boolean: return Value(json.template get<bool>());
    case Json::value_t::number_integer: return Value(json.template get<std::int64_t>());
    case Json::value_t::number_unsigned: {
      auto u = json.template get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<std::int64_t>(u));
    }
    case Json::value_t::number_float: return Value(json.template get<double>());
    case Json::value_t::string: return Value(json.template get<std::string>());
    case Json::value_t::array: {
      ValueList items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(value_from_json(item));
      return Value(std::move(items));
    }
    case Json::value_t::object: {
      Dict d;
      for (const auto& [k, v] : json.items()) d.set(Value(k), value_from_json(v));
      return Value(std::move(d));
    }
    default: return Value::none();
  }
}


// The empty string has no storage (as_string() hands out a shared static one): no allocation.
Value::Value(std::string s) : kind_(Kind::kString) {
  if (!s.empty()) ptr_ = std::make_shared<const std::string>(std::move(s));
}
Value::Value(ValueList items) : kind_(Kind::kList), ptr_(std::make_shared<ValueList>(std::move(items))) {}
Value::Value(Dict dict) : kind_(Kind::kDict), ptr_(std::make_shared<Dict>(std::move(dict))) {}

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}
Value Value::undefined(std::string hint) {
  Value v;
  v.ptr_ = std::make_shared<const std::string>(std::move(hint));
  return v;
}
Value Value::undefined(std::shared_ptr<const std::string> hint) {
  Value v;
  v.ptr_ = std::move(hint);
  return v;
}
Value Value::safe_string(std::string s) {
  Value v(std::move(s));
  v.safe_ = true;
  return v;
}
Value Value::tuple(ValueList items) {
  Value v(std::move(items));
  v.kind_ = Kind::kTuple;
  return v;
}
Value Value::callable(std::shared_ptr<const Callable> fn) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.ptr_ = std::move(fn);
  return v;
}
Value Value::object(std::shared_ptr<Object> obj) {
  Value v;
  v.kind_ = Kind::kObject;
  v.ptr_ = std::move(obj);
  return v;
}

Value Value::from_json(const nlohmann::json& json) { return value_from_json(json); }
Value Value::from_json(const nlohmann::ordered_json& json) { return value_from_json(json); }

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return scalar_.b;
    case Kind::kInt: return scalar_.i != 0;
    case Kind::kFloat: return scalar_.f != 0.0;
    case Kind::kString: return !as_string().empty();
    case Kind::kList:
    case Kind::kTuple: return !as_list().empty();
    case Kind::kDict: return !as_dict().empty();
    case Kind::kCallable: return true;
    case Kind::kObject: return as_object()->truthy();
  }
  return false;
}

double Value::as_float() const {
  if (kind_ == Kind::kFloat) return scalar_.f;
  return static_cast<double>(as_int());
}
std::shared_ptr<const Callable> Value::as_callable() const { return std::static_pointer_cast<const Callable>(ptr_); }
std::shared_ptr<Object> Value::as_object() const {
  return std::const_pointer_cast<Object>(std::static_pointer_cast<const Object>(ptr_));
}
const std::string& Value::undefined_hint() const {
  if (kind_ != Kind::kUndefined || !ptr_) return empty_string();
  return as_string();
}

void Value::append_to(std::string& out) const {
  switch (kind_) {
    case Kind::kUndefined: return;
    case Kind::kString: out += as_string(); return;
    case Kind::kInt: {
      char buf[24];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, scalar_.i);
      out.append(buf, p);
      return;
    }
    case Kind::kNone: out += "None"; return;
    case Kind::kBool: out += scalar_.b ? "True" : "False"; return;
    case Kind::kFloat: out += format_float(scalar_.f); return;
    case Kind::kObject: out += as_object()->to_string(); return;
    default: out += repr(); return;
  }
}

std::string Value::to_string() const {
  if (kind_ == Kind::kString) return as_string();
  std::string out;
  append_to(out);
  return out;
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kString: return python_repr_string(as_string());
    case Kind::kList:
    case Kind::kTuple: {
      const ValueList& items = as_list();
      std::string out = kind_ == Kind::kList ? "[" : "(";
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += items[i].repr();
      }
      if (kind_ == Kind::kTuple && items.size() == 1) out += ",";
      out += kind_ == Kind::kList ? "]" : ")";
      return out;
    }
    case Kind::kDict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : as_dict().entries()) {
        if (!first) out += ", ";
        first = false;
        out += k.repr();
        out += ": ";
        out += v.repr();
      }
      return out + "}";
    }
    case Kind::kCallable:
      if (as_callable()->is_macro()) return "<Macro '" + as_callable()->name() + "'>";
      return "<function " + as_callable()->name() + ">";
    default: return to_string();
  }
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType object";
    case Kind::kBool: return "bool object";
    case Kind::kInt: return "int object";
    case Kind::kFloat: return "float object";
    case Kind::kString: return "str object";
    case Kind::kList: return "list object";
    case Kind::kTuple: return "tuple object";
    case Kind::kDict: return "dict object";
    case Kind::kCallable: return as_callable()->is_macro() ? "Macro object" : "function object";
    case Kind::kObject: return as_object()->type_name() + " object";
  }
  return "object";
}

Result<nlohmann::json> Value::to_json() const {
  switch (kind_) {
    case Kind::kNone: return nlohmann::json(nullptr);
    case Kind::kBool: return nlohmann::json(scalar_.b);
    case Kind::kInt: return nlohmann::json(scalar_.i);
    case Kind::kFloat: return nlohmann::json(scalar_.f);
    case Kind::kString: return nlohmann::json(as_string());
    case Kind::kList:
    case Kind::kTuple: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : as_list()) {
        STRATA_ASSIGN(auto j, item.to_json());
        arr.push_back(std::move(j));
      }
      return arr;
    }
    case Kind::kDict: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& [k, v] : as_dict().entries()) {
        STRATA_ASSIGN(auto j, v.to_json());
        obj[k.to_string()] = std::move(j);
      }
      return obj;
    }
    default:
      return Error(ErrorCode::kFailed, "Object of type " + type_name() + " is not JSON serializable");
  }
}

bool Value::equals(const Value& other) const {
  if (is_number() && other.is_number()) {
    if (kind_ == Kind::kFloat || other.kind_ == Kind::kFloat) return as_float() == other.as_float();
    return as_int() == other.as_int();
  }
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return ptr_ == other.ptr_ || as_string() == other.as_string();
    case Kind::kList:
    case Kind::kTuple: {
      const ValueList& a = as_list();
      const ValueList& b = other.as_list();
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (!a[i].equals(b[i])) return false;
      return true;
    }
    case Kind::kDict: {
      const Dict& a = as_dict();
      const Dict& b = other.as_dict();
      if (a.size() != b.size()) return false;
      for (const auto& [k, v] : a.entries()) {
        const Value* w = b.find(k);
        if (!w || !v.equals(*w)) return false;
      }
      return true;
    }
    default: return ptr_ == other.ptr_;
  }
}

bool Value::hashable() const {
  switch (kind_) {
    case Kind::kList:
    case Kind::kDict: return false;
    case Kind::kTuple:
      for (const auto& item : as_list())
        if (!item.hashable()) return false;
      return true;
    default: return true;
  }
}

std::size_t Value::hash() const {
  switch (kind_) {
    case Kind::kBool:
    case Kind::kInt: return std::hash<std::int64_t>{}(as_int());
    case Kind::kFloat: {
      double f = scalar_.f;
      if (std::isfinite(f) && f == std::floor(f) && std::fabs(f) < 9.2e18)
        return std::hash<std::int64_t>{}(static_cast<std::int64_t>(f));
      return std::hash<double>{}(f);
    }
    case Kind::kString: return std::hash<std::string_view>{}(as_string());
    case Kind::kTuple:
    case Kind::kList: {
      std::size_t seed = 0x345678;
      for (const auto& item : as_list()) hash_combine(seed, item.hash());
      return seed;
    }
    case Kind::kUndefined: return 0x5bd1e995;  // every undefined equals every other
    default: return std::hash<const void*>{}(ptr_.get()) ^ static_cast<std::size_t>(kind_);
  }
}

// ---- Dict

template <typename Eq>
std::ptrdiff_t Dict::probe(std::size_t hash, Eq&& eq) const {
  if (slots_.empty()) {
    for (std::size_t i = 0; i < hashes_.size(); ++i)
      if (hashes_[i] == hash && eq(entries_[i].first)) return static_cast<std::ptrdiff_t>(i);
    return -1;
  }
  std::size_t mask = slots_.size() - 1;
  for (std::size_t s = (hash * 0x9E3779B97F4A7C15ULL) >> (64 - slot_bits_);; s = (s + 1) & mask) {
    std::int32_t e = slots_[s];
    if (e < 0) return -1;
    if (hashes_[static_cast<std::size_t>(e)] == hash && eq(entries_[static_cast<std::size_t>(e)].first)) return e;
  }
}

std::ptrdiff_t Dict::index_of(const Value& key) const {
  if (key.is_string()) {
    const std::string& s = key.as_string();
    return probe(std::hash<std::string_view>{}(s), [&](const Value& k) { return k.is_string() && k.as_string() == s; });
  }
  if (!key.hashable()) {  // never stored; a list never equals a stored (hashable) key
    return -1;
  }
  return probe(key.hash(), [&](const Value& k) { return k.equals(key); });
}

void Dict::index_insert(std::size_t hash, std::size_t position) {
  std::size_t mask = slots_.size() - 1;
  std::size_t s = (hash * 0x9E3779B97F4A7C15ULL) >> (64 - slot_bits_);
  while (slots_[s] >= 0) s = (s + 1) & mask;
  slots_[s] = static_cast<std::int32_t>(position);
}

void Dict::rebuild_index() {
  slots_.clear();
  slot_bits_ = 0;
  if (entries_.size() < kIndexFrom) return;
  slot_bits_ = 4;
  while ((std::size_t{1} << slot_bits_) < entries_.size() * 2) ++slot_bits_;
  slots_.assign(std::size_t{1} << slot_bits_, -1);
  for (std::size_t i = 0; i < entries_.size(); ++i) index_insert(hashes_[i], i);
}

const Value* Dict::find(const Value& key) const {
  auto i = index_of(key);
  return i < 0 ? nullptr : &entries_[static_cast<std::size_t>(i)].second;
}
Value* Dict::find(const Value& key) {
  auto i = index_of(key);
  return i < 0 ? nullptr : &entries_[static_cast<std::size_t>(i)].second;
}
const Value* Dict::find(const HashedName& key) const {
  auto i = probe(key.hash, [&](const Value& k) { return k.is_string() && same_chars(k.as_string(), key.name); });
  return i < 0 ? nullptr : &entries_[static_cast<std::size_t>(i)].second;
}
void Dict::set(Value key, Value value) {
  if (Value* existing = find(key)) {
    *existing = std::move(value);
    return;
  }
  std::size_t hash = key.hash();
  entries_.emplace_back(std::move(key), std::move(value));
  hashes_.push_back(hash);
  if (slots_.empty() ? entries_.size() >= kIndexFrom : entries_.size() * 2 > slots_.size()) rebuild_index();
  else if (!slots_.empty()) index_insert(hash, entries_.size() - 1);
}
bool Dict::erase(const Value& key) {
  auto i = index_of(key);
  if (i < 0) return false;
  entries_.erase(entries_.begin() + i);
  hashes_.erase(hashes_.begin() + i);
  rebuild_index();
  return true;
}

// ---- CallArgs

const Value* CallArgs::keyword_arg(std::string_view name) const {
  for (const auto& [k, v] : keyword)
    if (k == name) return &v;
  return nullptr;
}
const Value* CallArgs::get(std::size_t pos, std::string_view name) const {
  if (pos < positional.size()) return &positional[pos];
  return name.empty() ? nullptr : keyword_arg(name);
}
Value CallArgs::get_or(std::size_t pos, std::string_view name, Value fallback) const {
  const Value* v = get(pos, name);
  return v ? *v : std::move(fallback);
}

Value make_function(std::string name, NativeFunction fn) {
  return Value::callable(std::make_shared<NativeCallable>(std::move(name), std::move(fn)));
}

// ---- Object defaults

std::optional<Value> Object::get_attr(std::string_view) const { return std::nullopt; }
std::optional<Value> Object::get_item(const Value&) const { return std::nullopt; }

Result<Value> Object::call_method(std::string_view name, CallArgs& args, CallContext& context) const {
  std::optional<Value> attr = get_attr(name);
  if (!attr) return Error(ErrorCode::kFailed, "'" + type_name() + " object' has no attribute '" + std::string(name) + "'");
  if (attr->is_callable()) return attr->as_callable()->call(args, context);
  if (attr->is_object()) return attr->as_object()->call(args, context);
  return Error(ErrorCode::kFailed, "'" + attr->type_name() + "' is not callable");
}

Result<Value> Object::call(CallArgs&, CallContext&) const {
  return Error(ErrorCode::kFailed, "'" + type_name() + " object' is not callable");
}

}  // namespace strata::jinja
