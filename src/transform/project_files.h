#pragma once
// The files of a dbt project's folders, as parse_project reads them, and a fingerprint of them for
// callers that keep a parsed project and must notice edits (strata serve re-expands a pipeline's
// `build:` tasks when the project changes).

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"

namespace strata::transform {

// Lists the files under a project's folders, each folder walked once: the models folder alone is
// searched for .sql, .yml and .md files, and with 100,000 models every walk costs tens of
// milliseconds. Not thread-safe (it caches the walks).
class ProjectFiles {
 public:
  explicit ProjectFiles(std::string root) : root_(std::move(root)) {}

  // Every regular file under root/dir (recursively, not following symlinked folders) whose name
  // ends with one of `exts`, relative to root/dir, sorted. A missing folder has no files. An empty
  // `exts` takes every file.
  std::vector<std::string> list(const std::string& dir, std::initializer_list<std::string_view> exts);

 private:
  std::string root_;
  std::map<std::string, std::vector<std::string>> walked_;
};

// `a/b`, or `b` when `a` is empty (a project folder joined with a path relative to it).
std::string join_path(const std::string& a, const std::string& b);

// A fingerprint of what parse_project reads from `project_dir`: dbt_project.yml, selectors.yml and
// every file under the folders dbt_project.yml names (models, seeds, snapshots, analyses, macros,
// tests, docs) and every installed package's dbt_project.yml and folders, by path, size and
// modification time. It changes when one of them is added,
// removed or modified; an edit that keeps a file's size and its modification time to the
// nanosecond goes unnoticed. When dbt_project.yml is missing or does not load, only its own
// size and time count. Reads the file system only; thread-safe.
uint64_t project_stamp(const std::string& project_dir, const EnvLookup& env);

}  // namespace strata::transform
