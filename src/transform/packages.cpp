#include "transform/packages.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/strings.h"
#include "common/yaml.h"

namespace strata::transform {

namespace fs = std::filesystem;

namespace {

std::string install_dir(const ProjectConfig& root) { return root.root + "/" + root.packages_install_path; }

// The folders under the install path holding a dbt_project.yml (symlinked folders included).
std::vector<fs::path> package_folders(const ProjectConfig& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(install_dir(root), ec), end; !ec && it != end; it.increment(ec))
    if (fs::is_directory(it->path(), ec) && fs::exists(it->path() / "dbt_project.yml", ec)) out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

const char* kind_label(PackageSpec::Kind kind) {
  switch (kind) {
    case PackageSpec::Kind::kLocal: return "local";
    case PackageSpec::Kind::kHub: return "package";
    case PackageSpec::Kind::kGit: return "git";
    case PackageSpec::Kind::kTarball: return "tarball";
  }
  return "package";
}

Status read_specs_file(const std::string& file, const EnvLookup& env, std::vector<PackageSpec>& out) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return ok_status();
  YamlOptions options;
  options.env = env;
  STRATA_ASSIGN(YamlDocument doc, load_yaml_file(file, options));
  if (doc.root.is_null() || !doc.root.is_defined()) return ok_status();
  if (!doc.root.is_map()) return doc.error(doc.root, "must be a mapping with a `packages:` list");
  const YamlNode list = doc.root["packages"];
  if (!list || list.is_null()) return ok_status();
  if (!list.is_sequence())
    return doc.error(list, "`packages` must be a list", "write e.g. `packages:\\n  - local: ../my_package`");
  for (const auto& entry : list) {
    PackageSpec spec;
    spec.where = doc.where(entry);
    bool found = false;
    for (auto kind : {PackageSpec::Kind::kLocal, PackageSpec::Kind::kHub, PackageSpec::Kind::kGit,
                      PackageSpec::Kind::kTarball}) {
      const YamlNode value = entry.is_map() ? entry[kind_label(kind)] : YamlNode();
      if (!value) continue;
      STRATA_ASSIGN(spec.value, yaml_string(doc, value, kind_label(kind)));
      spec.kind = kind;
      found = true;
      break;
    }
    if (!found)
      return doc.error(entry, "a package entry needs one of `local:`, `package:`, `git:` or `tarball:`",
                       "write e.g. `- local: ../my_package` or `- package: dbt-labs/dbt_utils`");
    if (entry["name"]) {
      STRATA_ASSIGN(spec.name, yaml_string(doc, entry["name"], "name"));
    }
    out.push_back(std::move(spec));
  }
  return ok_status();
}

// The installed folder of a remote entry, or "" when none matches.
std::string installed_folder(const ProjectConfig& root, const PackageSpec& spec, const EnvLookup& env) {
  std::vector<std::string> names = candidate_package_names(spec);
  for (const auto& folder : package_folders(root)) {
    auto project = load_project(folder.string(), env);
    std::string name = project.ok() ? project->name : folder.filename().string();
    if (std::find(names.begin(), names.end(), name) != names.end() ||
        std::find(names.begin(), names.end(), folder.filename().string()) != names.end())
      return folder.string();
  }
  return {};
}

// Installs a local entry as <install path>/<project name> → its folder.
Result<std::string> install_local(const ProjectConfig& root, const PackageSpec& spec, const EnvLookup& env) {
  std::error_code ec;
  fs::path source = fs::path(spec.value).is_absolute() ? fs::path(spec.value) : fs::path(root.root) / spec.value;
  source = fs::weakly_canonical(source, ec);
  if (!fs::exists(source / "dbt_project.yml", ec))
    return Error(ErrorCode::kConfig, "local package '" + spec.value + "' has no dbt_project.yml (looked in " +
                                         source.string() + ")",
                 spec.where, "point `local:` at a dbt project folder, relative to " + root.root);
  auto project = load_project(source.string(), env);
  if (!project.ok()) return std::move(project).error();
  if (project->name == root.name)
    return Error(ErrorCode::kConfig, "local package '" + spec.value + "' is the project itself ('" + root.name + "')",
                 spec.where, "remove the entry");
  fs::path target = fs::path(install_dir(root)) / project->name;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return Error(ErrorCode::kFailed, "cannot create " + target.parent_path().string() + ": " + ec.message());
  fs::remove_all(target, ec);  // a symlink is removed, not followed
  fs::create_directory_symlink(source, target, ec);
  if (ec) {  // no symlinks here (some file systems): copy the folder instead
    ec.clear();
    fs::copy(source, target, fs::copy_options::recursive, ec);
    if (ec) return Error(ErrorCode::kFailed, "cannot install " + source.string() + " into " + target.string() + ": " +
                                                 ec.message());
  }
  return "Installed " + project->name + " from " + source.string();
}

}  // namespace

Result<std::vector<ProjectConfig>> load_installed_packages(const ProjectConfig& root, const EnvLookup& env) {
  std::vector<ProjectConfig> out;
  std::map<std::string, std::string> seen;
  for (const auto& folder : package_folders(root)) {
    STRATA_ASSIGN(ProjectConfig package, load_project(folder.string(), env));
    if (package.name == root.name)
      return Error(ErrorCode::kConfig,
                   "the installed package in " + folder.string() + " has the root project's name '" + root.name + "'",
                   {package.file}, "remove it from " + root.packages_install_path + "/ or rename one of the projects");
    auto [it, inserted] = seen.emplace(package.name, folder.string());
    if (!inserted)
      return Error(ErrorCode::kConfig,
                   "two installed packages are named '" + package.name + "': " + it->second + " and " + folder.string(),
                   {package.file}, "remove one of them from " + root.packages_install_path + "/");
    out.push_back(std::move(package));
  }
  return out;
}

Result<std::vector<PackageSpec>> read_package_specs(const ProjectConfig& root, const EnvLookup& env) {
  std::vector<PackageSpec> out;
  for (const char* file : {"/packages.yml", "/dependencies.yml"}) STRATA_TRY(read_specs_file(root.root + file, env, out));
  return out;
}

std::vector<std::string> candidate_package_names(const PackageSpec& spec) {
  std::vector<std::string> out;
  if (!spec.name.empty()) out.push_back(spec.name);
  std::string last = spec.value;
  while (!last.empty() && last.back() == '/') last.pop_back();
  if (auto slash = last.find_last_of("/:"); slash != std::string::npos) last = last.substr(slash + 1);
  if (spec.kind != PackageSpec::Kind::kHub) {
    for (const char* ext : {".git", ".tar.gz", ".tgz", ".zip"})
      if (ends_with(last, ext)) last = last.substr(0, last.size() - std::string_view(ext).size());
  }
  out.push_back(last);
  out.push_back(replace_all(last, "-", "_"));
  return out;
}

Result<std::vector<std::string>> install_packages(const ProjectConfig& root, const EnvLookup& env) {
  STRATA_ASSIGN(std::vector<PackageSpec> specs, read_package_specs(root, env));
  std::vector<std::string> lines;
  if (specs.empty()) {
    lines.push_back("No packages in packages.yml or dependencies.yml: nothing to install");
    return lines;
  }
  for (const auto& spec : specs) {
    if (spec.kind == PackageSpec::Kind::kLocal) {
      STRATA_ASSIGN(std::string line, install_local(root, spec, env));
      lines.push_back(std::move(line));
      continue;
    }
    std::string folder = installed_folder(root, spec, env);
    if (folder.empty())
      return Error(ErrorCode::kConfig,
                   std::string(spec.kind == PackageSpec::Kind::kHub ? "hub" : kind_label(spec.kind)) + " package '" +
                       spec.value + "' is not installed in " +
                       root.packages_install_path + "/ and Strata cannot download packages (no dbt Hub, git or "
                       "tarball access)",
                   spec.where,
                   "run `dbt deps` where the internet is reachable and copy its " + root.packages_install_path +
                       "/ folder into " + root.root + ", or install the package from a folder with `local: <path>`");
    lines.push_back("Using " + spec.value + " already installed in " + folder + " (Strata does not download packages)");
  }
  return lines;
}

}  // namespace strata::transform
