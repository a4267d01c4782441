#include "transform/node.h"

namespace strata::transform {

const char* resource_type_name(ResourceType type) {
  switch (type) {
    case ResourceType::kModel: return "model";
    case ResourceType::kSeed: return "seed";
    case ResourceType::kSnapshot: return "snapshot";
    case ResourceType::kTest: return "test";
    case ResourceType::kSource: return "source";
    case ResourceType::kAnalysis: return "analysis";
  }
  return "model";
}

std::optional<ResourceType> parse_resource_type(std::string_view name) {
  for (auto t : {ResourceType::kModel, ResourceType::kSeed, ResourceType::kSnapshot, ResourceType::kTest,
                 ResourceType::kSource, ResourceType::kAnalysis})
    if (name == resource_type_name(t)) return t;
  if (name == "data_test") return ResourceType::kTest;
  return std::nullopt;
}

const std::string& Node::materialized() const {
  static const std::string kNone;
  auto it = config.find("materialized");
  return it != config.end() && it->is_string() ? it->get_ref<const std::string&>() : kNone;
}

const SourceLocation& Node::config_location(std::string_view key) const {
  auto it = config_where.find(key);
  return it == config_where.end() || !it->second ? where : *it->second;
}

void Node::refresh_tags_and_meta() {
  tags.clear();
  auto it = config.find("tags");
  if (it != config.end())
    for (const auto& t : *it)
      if (t.is_string()) tags.push_back(t.get<std::string>());
  auto m = config.find("meta");
  if (m != config.end() && m->is_object()) meta.update(*m);
}

bool Node::enabled() const {
  auto it = config.find("enabled");
  if (it == config.end()) return true;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return *it != "false" && *it != "False";
  return true;
}

}  // namespace strata::transform
