#pragma once
// The storage backends the contract suite runs against, and the helpers its
// tests share. This list is the one place to add a backend: a Postgres entry
// here runs every contract test against Postgres unchanged.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "persistence/open_database.hpp"
#include "persistence/store.hpp"
#include "tests/persistence/postgres_test_schema.hpp"
#include "tests/support/temp_dir.hpp"

namespace sluice::persistence::testing {

// The storage of one test: empty when made. A persistent one hands back the same
// data on every open(); a volatile one a new, empty database.
class TestStore {
 public:
  virtual ~TestStore() = default;
  virtual std::unique_ptr<Database> open() = 0;
  virtual bool persistent() const = 0;
};

struct Backend {
  std::string name;
  std::function<std::unique_ptr<TestStore>()> make;
};

class SqliteMemoryStore final : public TestStore {
 public:
  std::unique_ptr<Database> open() override { return open_database(""); }
  bool persistent() const override { return false; }
};

class SqliteFileStore final : public TestStore {
 public:
  std::unique_ptr<Database> open() override { return open_database(path().string()); }
  bool persistent() const override { return true; }
  std::filesystem::path path() const { return dir_ / "sluice.db"; }

 private:
  test::TempDir dir_{"sluice-persistence"};
};

// A fresh schema of the server named by SLUICE_TEST_POSTGRES_URL, dropped
// afterwards; every open() connects to it again.
class PostgresStore final : public TestStore {
 public:
  std::unique_ptr<Database> open() override { return open_database(schema_.url()); }
  bool persistent() const override { return true; }

 private:
  PostgresTestSchema schema_;
};

inline const std::vector<Backend>& backends() {
  static const std::vector<Backend> all = {
      {"sqlite in memory", [] { return std::make_unique<SqliteMemoryStore>(); }},
      {"sqlite file", [] { return std::make_unique<SqliteFileStore>(); }},
      {"postgres", [] { return std::make_unique<PostgresStore>(); }},
  };
  return all;
}

// Runs `work` in one transaction and commits it; an exception rolls it back.
template <class Work>
auto in_transaction(Database& db, Work&& work) {
  const std::unique_ptr<Transaction> txn = db.begin();
  if constexpr (std::is_void_v<decltype(work(*txn))>) {
    work(*txn);
    txn->commit();
  } else {
    auto result = work(*txn);
    txn->commit();
    return result;
  }
}

// One backend's store plus shorthands for the common steps of a test.
struct Fixture {
  explicit Fixture(const Backend& backend) : store(backend.make()), db(store->open()) {}

  Fence claim(const SessionKey& key, const NodeIdentity& me) {
    const ClaimResult claimed =
        in_transaction(*db, [&](Transaction& txn) { return txn.claim_session(key, me); });
    return Fence{me.node_id, claimed.epoch};
  }

  AdmitResult admit(const SessionKey& key, const Fence& fence, const std::string& text,
                    std::optional<IdempotencyClaim> idempotency = std::nullopt) {
    NewSubmission submission;
    submission.id = new_id("sub_");
    submission.input_text = text;
    submission.accepted_at_ms = 1'700'000'000'000;
    submission.idempotency = std::move(idempotency);
    return in_transaction(*db, [&](Transaction& txn) { return txn.admit(key, fence, submission); });
  }

  std::vector<SubmissionRecord> submissions(const SessionKey& key) {
    return in_transaction(*db, [&](Transaction& txn) {
      return txn.list_submissions(key, std::nullopt, Page{0, 1000});
    });
  }

  std::vector<HistoryEntry> history(const SessionKey& key) {
    return in_transaction(*db, [&](Transaction& txn) {
      return txn.read_history(key, Page{0, 1000});
    });
  }

  std::unique_ptr<TestStore> store;
  std::unique_ptr<Database> db;
};

inline NodeIdentity node(const std::string& id, const std::string& incarnation) {
  return NodeIdentity{id, incarnation, ""};
}

inline HistoryEntry entry(const SubmissionRecord& submission, const std::string& type,
                          const std::string& text) {
  HistoryEntry out;
  out.sequence = submission.sequence;
  out.submission_id = submission.id;
  out.type = type;
  out.timestamp_ms = 1'700'000'000'500;
  out.text = text;
  return out;
}

}  // namespace sluice::persistence::testing
