#pragma once
// Expansion of `build: SELECTOR` tasks into one task per dbt node, as Airflow + Cosmos users know
// it: every selected model, seed and snapshot becomes a build task `<type>.<name>` (e.g.
// `model.orders`), followed, when the node has tests, by a test task `<type>.<name>.test` running
// them. They are wired by the dbt graph (a node waits for its parents' test tasks, or their build
// tasks when untested; ephemeral models are looked through), also across build tasks of the same
// pipeline. They sit in the build task's `group` (the build task's id when it has none), inherit
// its retries, timeout, pool and priority; the roots get its upstream tasks and trigger rule, and
// whatever depended on the build task (or on its group) depends on the expansion's leaves.
// A test that tests several nodes goes with the last of them (topological order) among the nodes
// the pipeline builds, whichever build task's selector picked it, and also waits for the others.
// A build whose selector picks no model, seed or snapshot stays one task.
// Pure function of its inputs; thread-compatible.

#include "common/result.h"
#include "orchestrate/pipeline.h"
#include "transform/node_api.h"

namespace strata::orchestrate {

// True when the pipeline has a `build:` task not yet expanded.
bool has_unexpanded_builds(const PipelineSpec& spec);

// Expands every `build:` task in place; tasks stay in topological order. Errors (kConfig, located
// at the build task): a bad selector, a node selected by two build tasks, an expanded id that
// clashes with a task id, a dependency cycle between the file's dependencies and the dbt graph.
Status expand_builds(PipelineSpec& spec, const transform::LoadedProject& project);

}  // namespace strata::orchestrate
