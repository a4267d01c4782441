// The COPY statements a read plan produces: the table form for whole plain tables, the SELECT
// form with ctid page ranges and the cursor predicate otherwise.

#include <gtest/gtest.h>

#include "ingest/extract.h"

namespace strata::ingest {
namespace {

ReadPlan plan_of(bool plain) {
  ReadPlan plan;
  plan.relation = R"("we""ird"."t a")";
  plan.expressions = {R"("id")", R"("na""me")"};
  plan.plain_table = plain;
  return plan;
}

TEST(Extract, WholePlainTableUsesTheTableForm) {
  EXPECT_EQ(copy_statement(plan_of(true)), R"(COPY "we""ird"."t a" ("id", "na""me") TO STDOUT (FORMAT binary))");
}

TEST(Extract, CursorsRangesAndCastsUseTheSelectForm) {
  ReadPlan plan = plan_of(true);
  plan.where = R"("id" >= '5'::int4)";
  EXPECT_EQ(copy_statement(plan),
            R"(COPY (SELECT "id", "na""me" FROM "we""ird"."t a" WHERE ("id" >= '5'::int4)) TO STDOUT (FORMAT binary))");
  plan.where.clear();
  EXPECT_EQ(copy_statement(plan, 10, 20), R"(COPY (SELECT "id", "na""me" FROM "we""ird"."t a" WHERE ctid >= '(10,0)'::tid)"
                                          R"( AND ctid < '(20,0)'::tid) TO STDOUT (FORMAT binary))");
  EXPECT_EQ(copy_statement(plan, 0, 10),
            R"(COPY (SELECT "id", "na""me" FROM "we""ird"."t a" WHERE ctid < '(10,0)'::tid) TO STDOUT (FORMAT binary))");
  EXPECT_EQ(copy_statement(plan_of(false)),
            R"(COPY (SELECT "id", "na""me" FROM "we""ird"."t a") TO STDOUT (FORMAT binary))");
}

}  // namespace
}  // namespace strata::ingest
