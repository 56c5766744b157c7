// Postgres's batch transaction: its array literals and session cache, that a
// batch's writes cost one statement, and what happens when a session it
// assumed it owned was claimed through another connection.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "persistence/executor.hpp"
#include "persistence/postgres_arrays.hpp"
#include "persistence/postgres_database.hpp"
#include "persistence/postgres_session_cache.hpp"
#include "tests/persistence/executor_support.hpp"
#include "tests/persistence/postgres_test_schema.hpp"
#include "tests/persistence/store_backends.hpp"

namespace sluice::persistence::testing {
namespace {

using namespace std::chrono_literals;

const SessionKey kFirst{"agent", "one", "first"};
const SessionKey kSecond{"agent", "one", "second"};

std::unique_ptr<PostgresDatabase> connect(const PostgresTestSchema& schema) {
  return PostgresDatabase::connect(schema.url(), 5s);
}

Fence claim(Database& db, const SessionKey& key, const NodeIdentity& me) {
  return {me.node_id,
          in_transaction(db, [&](Transaction& txn) { return txn.claim_session(key, me); }).epoch};
}

TEST_CASE("array literals quote what Postgres would misread", "[postgres][batch]") {
  postgres::ArrayLiteral text;
  text.text(R"(a"b\c)");
  text.text("NULL");
  text.text("");
  text.null();
  CHECK(text.finish() == R"({"a\"b\\c","NULL","",NULL})");

  postgres::ArrayLiteral other;
  other.bytes(std::string("\x00\xff", 2));
  other.number(-7);
  other.boolean(false);
  other.optional_number(std::optional<int>());
  CHECK(other.finish() == R"({"\\x00ff",-7,f,NULL})");
  CHECK(postgres::ArrayLiteral().finish() == "{}");
}

TEST_CASE("a full session cache keeps the more recently used half", "[postgres][batch]") {
  postgres::SessionCache cache(4);
  for (const char* key : {"a", "b", "c", "d"}) cache.store(key, {"node-a", 1, 1, 1});
  CHECK(cache.find("a").has_value());  // now the most recently used
  cache.store("e", {"node-a", 1, 1, 1});
  CHECK(cache.size() == 3);
  CHECK(cache.find("a").has_value());
  CHECK(cache.find("d").has_value());
  CHECK(cache.find("e").has_value());
  CHECK_FALSE(cache.find("b").has_value());
}

TEST_CASE("a transaction's admissions and mutations cost one flush statement",
          "[postgres][batch]") {
  const PostgresTestSchema schema;
  auto db = connect(schema);
  const Fence first = claim(*db, kFirst, node("node-a", "a1"));
  const Fence second = claim(*db, kSecond, node("node-a", "a1"));
  in_transaction(*db, [&](Transaction& txn) {
    for (int i = 0; i < 50; ++i) {
      const AdmitResult admitted = admit_job(kFirst, first, "m")(txn);
      SessionMutation mutation;
      mutation.append.push_back(entry(admitted.record, "user", "m"));
      txn.mutate(kFirst, first, mutation);
      admit_job(kSecond, second, "m")(txn);
    }
  });

  // Per prepared statement of this connection, how often it ran (libpqxx
  // prepares a statement on the server when it first runs).
  std::map<std::string, int64_t> runs;
  {
    pqxx::nontransaction query(db->connection());
    for (const auto& row :
         query.exec("SELECT name, generic_plans + custom_plans FROM pg_prepared_statements")) {
      runs[row[0].as<std::string>()] = row[1].as<int64_t>();
    }
  }
  CHECK(runs["flush_batch"] == 1);
  CHECK(runs.count("insert_submission") == 0);
  CHECK(runs.count("insert_entry") == 0);
  CHECK(runs.count("check_fence") == 0);  // both sessions were known from their claims

  const auto txn = db->begin();
  CHECK(txn->list_submissions(kFirst, std::nullopt, Page{0, 100}).size() == 50);
  CHECK(txn->read_history(kFirst, Page{0, 100}).back().position == 50);
  CHECK(txn->list_submissions(kSecond, std::nullopt, Page{0, 100}).back().sequence == 50);
}

TEST_CASE("a session claimed through another connection fences only its own job",
          "[postgres][batch][executor]") {
  const PostgresTestSchema schema;
  StorageExecutor executor(connect(schema), {});
  const NodeIdentity a = node("node-a", "a1");
  const auto claimed = executor.run_sync<std::vector<Fence>>([&](Transaction& txn) {
    return std::vector<Fence>{{a.node_id, txn.claim_session(kFirst, a).epoch},
                              {a.node_id, txn.claim_session(kSecond, a).epoch}};
  });
  const std::vector<Fence> fences = std::get<std::vector<Fence>>(claimed);
  // Node a never registered a lease, so node b may take the session over.
  const auto other = connect(schema);
  claim(*other, kFirst, node("node-b", "b1"));

  std::optional<StorageResult<AdmitResult>> stale;
  std::optional<StorageResult<AdmitResult>> fresh;
  Completions completions;
  {
    StorageGate gate(executor);
    executor.submit<AdmitResult>(admit_job(kFirst, fences[0], "stale"),
                                 [&](StorageResult<AdmitResult> result) {
                                   stale = std::move(result);
                                   completions.add(true);
                                 });
    executor.submit<AdmitResult>(admit_job(kSecond, fences[1], "fresh"),
                                 [&](StorageResult<AdmitResult> result) {
                                   fresh = std::move(result);
                                   completions.add(true);
                                 });
  }
  REQUIRE(completions.wait_for(2));
  REQUIRE(error_of(*stale) != nullptr);
  CHECK(error_of(*stale)->kind == StorageError::Kind::fenced);
  REQUIRE(std::holds_alternative<AdmitResult>(*fresh));
  CHECK(std::get<AdmitResult>(*fresh).record.sequence == 1);
  CHECK(executor.stats().retried_batches == 1);
  CHECK(executor.stats().failed_commits == 0);

  // The connection batches again, from what the server says now.
  const auto next = executor.run_sync<AdmitResult>(admit_job(kSecond, fences[1], "next"));
  REQUIRE(std::holds_alternative<AdmitResult>(next));
  CHECK(std::get<AdmitResult>(next).record.sequence == 2);
  CHECK(executor.stats().retried_batches == 1);
  const auto again = executor.run_sync<AdmitResult>(admit_job(kFirst, fences[0], "again"));
  REQUIRE(error_of(again) != nullptr);
  CHECK(error_of(again)->kind == StorageError::Kind::fenced);
  CHECK(executor.stats().retried_batches == 1);  // no longer cached: asked the server at once
}

TEST_CASE("used directly, a fence made stale through another connection fails the commit",
          "[postgres][batch]") {
  const PostgresTestSchema schema;
  auto db = connect(schema);
  const Fence fence = claim(*db, kFirst, node("node-a", "a1"));
  const auto other = connect(schema);
  claim(*other, kFirst, node("node-b", "b1"));

  {
    const auto txn = db->begin();
    // Answered from this connection's cache; the flush at commit finds out.
    txn->admit(kFirst, fence, NewSubmission{"sub_1", "", SubmissionKind::direct, "x", 1, {}});
    CHECK_THROWS_AS(txn->commit(), RetryBatch);
  }
  // The next transaction runs statement by statement and refuses the write.
  {
    const auto txn = db->begin();
    CHECK_THROWS_AS(
        txn->admit(kFirst, fence, NewSubmission{"sub_2", "", SubmissionKind::direct, "x", 1, {}}),
        FencedError);
  }
  const auto txn = other->begin();
  CHECK(txn->list_submissions(kFirst, std::nullopt, Page{0, 100}).empty());
}

}  // namespace
}  // namespace sluice::persistence::testing
