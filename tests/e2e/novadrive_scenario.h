#pragma once
// The NovaDrive pipeline scenario, shared by the end-to-end tests of each warehouse: the ERP in a
// database of the shared PostgreSQL cluster → `strata` (pipeline run, or sync + build) → bronze,
// silver and gold in the warehouse. Every gold number is checked against the same question asked
// of the ERP; then live changes and a second run must show up exactly, without duplicates. The
// questions are written in SQL that DuckDB and PostgreSQL both read, so each warehouse answers
// the very same ones. A subclass says where the warehouse is (warehouse_env) and how to read it
// (warehouse_rows). Failures are GoogleTest failures; not thread-safe.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "e2e/e2e_support.h"

namespace strata::testing {

class NovaDriveScenario : public ::testing::Test {
 protected:
  // `database`: the ERP's database, created fresh in the shared cluster.
  explicit NovaDriveScenario(std::string database);

  // Rows of `sql` asked of the warehouse, as pg_rows gives them (sorted "a|b|c", NULL as "∅").
  virtual std::vector<std::string> warehouse_rows(const std::string& sql) = 0;
  // Variables that point the project at the warehouse (added to ProjectCopy::env's).
  virtual std::map<std::string, std::string> warehouse_env() const = 0;

  // The whole scenario: create the ERP, run the pipeline, check; live changes, run again, check.
  void run_scenario();

  const std::string database_;
  const std::string conninfo_;  // the ERP's
  ProjectCopy project_;

 private:
  void run_pipeline();
  void expect_bronze_matches_erp();
  void expect_gold_matches_erp();
  void expect_silver_sales_match_erp();
};

}  // namespace strata::testing
