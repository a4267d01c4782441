#include "transform/project_files.h"

#include <algorithm>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/strings.h"
#include "transform/packages.h"
#include "transform/project.h"

namespace strata::transform {
namespace {

// Appends the regular files under `absolute` (as `relative` + name) to out.
void walk(const std::string& absolute, std::string& relative, std::vector<std::string>& out) {
  DIR* dir = ::opendir(absolute.c_str());
  if (!dir) return;
  const size_t base = relative.size();
  while (const dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN || type == DT_LNK) {
      struct stat st {};
      const int flags = type == DT_LNK ? 0 : AT_SYMLINK_NOFOLLOW;
      if (::fstatat(::dirfd(dir), entry->d_name, &st, flags) != 0) continue;
      if (S_ISREG(st.st_mode)) type = DT_REG;
      else if (S_ISDIR(st.st_mode) && type == DT_UNKNOWN) type = DT_DIR;
    }
    relative.append(name);
    if (type == DT_REG) {
      out.push_back(relative);
    } else if (type == DT_DIR) {
      relative.push_back('/');
      walk(absolute + "/" + entry->d_name, relative, out);
    }
    relative.resize(base);
  }
  ::closedir(dir);
}

// FNV-1a over `bytes`, continuing from `hash`.
uint64_t fnv1a(uint64_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

// Mixes one file's path, size and modification time into `hash` (a missing file mixes its path).
uint64_t stamp_file(uint64_t hash, const std::string& absolute, std::string_view shown) {
  hash = fnv1a(hash, shown);
  struct stat st {};
  if (::stat(absolute.c_str(), &st) != 0) return fnv1a(hash, "-");
  const std::string facts = "|" + std::to_string(st.st_size) + "|" + std::to_string(st.st_mtim.tv_sec) + "." +
                            std::to_string(st.st_mtim.tv_nsec) + "\n";
  return fnv1a(hash, facts);
}

}  // namespace

std::string join_path(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

std::vector<std::string> ProjectFiles::list(const std::string& dir, std::initializer_list<std::string_view> exts) {
  auto found = walked_.find(dir);
  if (found == walked_.end()) {
    std::vector<std::string> all;
    std::string relative;
    walk(root_ + "/" + dir, relative, all);
    std::sort(all.begin(), all.end());
    found = walked_.emplace(dir, std::move(all)).first;
  }
  if (exts.size() == 0) return found->second;
  std::vector<std::string> out;
  for (const auto& rel : found->second)
    for (auto e : exts)
      if (ends_with(rel, e)) {
        out.push_back(rel);
        break;
      }
  return out;
}

namespace {

// Stamps every file under the resource folders of project p; `shown` prefixes the names hashed.
uint64_t stamp_folders(uint64_t hash, const ProjectConfig& p, const std::string& shown) {
  ProjectFiles listing(p.root);
  for (const auto* dirs : {&p.model_paths, &p.seed_paths, &p.snapshot_paths, &p.analysis_paths, &p.macro_paths,
                           &p.test_paths, &p.docs_paths})
    for (const auto& dir : *dirs)
      for (const auto& rel : listing.list(dir, {})) {
        const std::string name = join_path(dir, rel);
        hash = stamp_file(hash, p.root + "/" + name, shown + name);
      }
  return hash;
}

}  // namespace

uint64_t project_stamp(const std::string& project_dir, const EnvLookup& env) {
  uint64_t hash = 14695981039346656037ull;
  hash = stamp_file(hash, project_dir + "/dbt_project.yml", "dbt_project.yml");
  auto project = load_project(project_dir, env);
  if (!project.ok()) return hash;
  const ProjectConfig& p = *project;
  hash = stamp_file(hash, p.root + "/selectors.yml", "selectors.yml");
  hash = stamp_folders(hash, p, "");
  // The installed packages' files count too (a `strata deps` changes the project).
  auto packages = load_installed_packages(p, env);
  if (!packages.ok()) return hash + 1;
  for (const auto& package : *packages) {
    const std::string shown = p.packages_install_path + "/" + package.name + "/";
    hash = stamp_file(hash, package.file, shown + "dbt_project.yml");
    hash = stamp_folders(hash, package, shown);
  }
  return hash;
}

}  // namespace strata::transform
