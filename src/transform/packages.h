#pragma once
// dbt packages: the projects installed under the root project's `packages-install-path`
// (dbt_packages/ by default), and `strata deps` (dbt deps), which installs the entries of
// packages.yml / dependencies.yml. Strata has no network access to dbt Hub, git or tarball URLs:
// it installs `local:` packages (as a symlink, as dbt-core does) and accepts a remote entry only
// when a matching package is already installed (e.g. a dbt_packages/ folder copied from a
// machine where `dbt deps` ran). Reads and writes the file system only; not thread-safe.

#include <string>
#include <vector>

#include "common/env.h"
#include "common/result.h"
#include "transform/project.h"

namespace strata::transform {

// The dbt_project.yml of every folder under root's install path that holds one, sorted by folder
// name. A missing install path has none. Errors: a package's dbt_project.yml that does not load
// (located, as load_project's), two installed packages with one name, a package named like the
// root project.
Result<std::vector<ProjectConfig>> load_installed_packages(const ProjectConfig& root, const EnvLookup& env);

// One entry of packages.yml / dependencies.yml (`packages:` list).
struct PackageSpec {
  enum class Kind { kLocal, kHub, kGit, kTarball };
  Kind kind = Kind::kLocal;
  std::string value;       // the path (local), hub name (dbt-labs/dbt_utils), git URL or tarball URL
  std::string name;        // `name:` of a tarball entry; else empty
  SourceLocation where;    // the entry in its file
};

// The entries of `<root>/packages.yml` and `<root>/dependencies.yml`, in file order (none when
// neither exists). Errors (kConfig, located): invalid YAML, `packages:` not a list, an entry that
// is none of local/package/git/tarball.
Result<std::vector<PackageSpec>> read_package_specs(const ProjectConfig& root, const EnvLookup& env);

// Names a remote entry's package may be installed under: the hub name's last part, a git URL's
// repository name (also with '-' as '_'), a tarball's `name:`.
std::vector<std::string> candidate_package_names(const PackageSpec& spec);

// `strata deps`: installs every local entry into the install path under its project name
// (replacing what was there) and checks that every remote entry is already installed. Returns one
// line per entry, as dbt deps prints. Errors (kConfig, located at the entry): a local path that
// holds no dbt_project.yml, a remote entry not installed (with a hint to copy dbt_packages/ from
// a machine where `dbt deps` ran, or to use `local:`).
Result<std::vector<std::string>> install_packages(const ProjectConfig& root, const EnvLookup& env);

}  // namespace strata::transform
