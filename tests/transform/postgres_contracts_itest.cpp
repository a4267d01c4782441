// Model contracts on a real PostgreSQL 15 warehouse: the contract's columns, named constraints
// and a foreign key to another contracted model become the tables', types are compared as
// PostgreSQL resolves them (int4 = integer), a violation fails the model and keeps the old rows,
// and rebuilding the referenced model (drop … cascade) does not break its child's next build.
#include <gtest/gtest.h>

#include "postgres_project.h"

namespace strata::transform {
namespace {

using Rows = std::vector<std::string>;

class ContractsOnPostgres : public testing::PostgresProject {
 protected:
  void SetUp() override {
    set_up_project("pgcontracts", "pg_contracts", "pgcontracts");
    testing::write_files(project_, {
        {"dbt_project.yml", "name: pgcontracts\nconfig-version: 2\nprofile: pgcontracts\n"
                            "models:\n  pgcontracts:\n    +materialized: table\n    +contract: {enforced: true}\n"},
        {"models/customers.sql", "select 1 as id, 'Ann'::text as name union all select 2, 'Bob'\n"},
        {"models/orders.sql", "select 10 as order_id, 1 as customer_id, 5.25::numeric(8,2) as amount\n"},
        {"models/schema.yml",
         "version: 2\nmodels:\n"
         "  - name: customers\n    columns:\n"
         "      - name: id\n        data_type: int4\n        constraints: [{type: primary_key}]\n"
         "      - name: name\n        data_type: text\n        constraints: [{type: not_null}]\n"
         "  - name: orders\n    constraints:\n"
         "      - {type: foreign_key, columns: [customer_id], to: \"ref('customers')\", to_columns: [id],"
         " name: orders_customer_fk}\n"
         "    columns:\n      - name: order_id\n        data_type: integer\n        constraints: [{type: primary_key}]\n"
         "      - name: customer_id\n        data_type: integer\n"
         "      - name: amount\n        data_type: numeric(8,2)\n"
         "        constraints: [{type: check, expression: \"amount > 0\", name: positive_amount}]\n"},
    });
  }
};

TEST_F(ContractsOnPostgres, ConstraintsAndAForeignKeySurviveRebuilds) {
  ASSERT_EQ(invoke("build"), 0) << output_;
  EXPECT_EQ(rows("select conname, contype from pg_constraint where conrelid = 'main.orders'::regclass order by 1"),
            (Rows{"orders_customer_fk|f", "orders_pkey|p", "positive_amount|c"}));
  EXPECT_EQ(rows("select column_name, data_type, is_nullable from information_schema.columns where table_schema = "
                 "'main' and table_name = 'customers' order by ordinal_position"),
            (Rows{"id|integer|NO", "name|text|NO"}));
  // Rebuilding customers drops orders' foreign key with it (cascade); building orders adds it back.
  ASSERT_EQ(invoke("build"), 0) << output_;
  EXPECT_EQ(rows("select count(*) from pg_constraint where conname = 'orders_customer_fk'"), (Rows{"1"}));

  // An order of a customer that does not exist, then a negative amount: each fails the model.
  testing::write_files(project_, {{"models/orders.sql",
                                   "select 11 as order_id, 9 as customer_id, 1.00::numeric(8,2) as amount\n"}});
  EXPECT_EQ(invoke("run", {"orders"}), 1) << output_;
  EXPECT_NE(output_.find("orders_customer_fk"), std::string::npos) << output_;
  testing::write_files(project_, {{"models/orders.sql",
                                   "select 11 as order_id, 1 as customer_id, (-1.00)::numeric(8,2) as amount\n"}});
  EXPECT_EQ(invoke("run", {"orders"}), 1) << output_;
  EXPECT_NE(output_.find("positive_amount"), std::string::npos) << output_;
  EXPECT_EQ(rows("select order_id, customer_id, amount from main.orders"), (Rows{"10|1|5.25"}));

  // A query whose types do not match: numeric(8,2) is not numeric(10,2).
  testing::write_files(project_, {{"models/orders.sql",
                                   "select 12 as order_id, 1 as customer_id, 1.00::numeric(10,2) as amount\n"}});
  EXPECT_EQ(invoke("run", {"orders"}), 1) << output_;
  EXPECT_NE(output_.find("| amount      | NUMERIC(10,2)   | NUMERIC(8,2)  | data type mismatch |"), std::string::npos)
      << output_;
}

}  // namespace
}  // namespace strata::transform
