#include "cache/store.h"

#include <gtest/gtest.h>

namespace wop::cache {
namespace {

ObjectPtr object(const std::string& ns, const std::string& name, const std::string& rv,
                 std::vector<OwnerReference> owners = {}) {
  auto o = std::make_shared<CachedObject>();
  o->ns = ns;
  o->name = name;
  o->resourceVersion = rv;
  o->uid = "uid-" + name;
  o->owners = std::move(owners);
  o->json = R"({"metadata":{"name":")" + name + "\"}}";
  return o;
}

TEST(Store, GetsWhatWasUpserted) {
  Store store;
  auto change = store.upsert(object("a", "x", "1"));
  EXPECT_EQ(change.before, nullptr);
  ASSERT_NE(store.get("a/x"), nullptr);
  EXPECT_EQ(store.get("a/x")->resourceVersion, "1");
  EXPECT_EQ(store.get("a/y"), nullptr);
}

TEST(Store, AnUpsertOfAnExistingKeyReportsTheOldObject) {
  Store store;
  store.upsert(object("a", "x", "1"));
  auto change = store.upsert(object("a", "x", "2"));
  ASSERT_NE(change.before, nullptr);
  EXPECT_EQ(change.before->resourceVersion, "1");
  EXPECT_EQ(change.after->resourceVersion, "2");
  EXPECT_EQ(store.size(), 1u);
}

TEST(Store, ListsOneNamespaceWithoutItsNeighbours) {
  Store store;
  store.upsert(object("a", "x", "1"));
  store.upsert(object("ab", "y", "1"));  // shares the prefix "a" but not "a/"
  store.upsert(object("a", "z", "1"));
  store.upsert(object("", "cluster-wide", "1"));
  auto inA = store.list("a");
  ASSERT_EQ(inA.size(), 2u);
  EXPECT_EQ(inA[0]->name, "x");
  EXPECT_EQ(inA[1]->name, "z");
  EXPECT_EQ(store.list().size(), 4u);
  EXPECT_NE(store.get("cluster-wide"), nullptr);
}

TEST(Store, IndexesByOwnerAndForgetsOnDelete) {
  Store store;
  store.upsert(object("a", "child-1", "1", {{"uid-parent", "Parent", "parent", true}}));
  store.upsert(object("a", "child-2", "1", {{"uid-parent", "Parent", "parent", true}}));
  store.upsert(object("a", "other", "1", {{"uid-else", "Parent", "else", true}}));
  EXPECT_EQ(store.byOwner("uid-parent").size(), 2u);
  store.erase("a/child-1");
  EXPECT_EQ(store.byOwner("uid-parent").size(), 1u);
  store.upsert(object("a", "child-2", "2"));  // owner reference removed
  EXPECT_TRUE(store.byOwner("uid-parent").empty());
}

TEST(Store, ReplaceReportsOnlyRealDifferences) {
  Store store;
  store.upsert(object("a", "same", "1"));
  store.upsert(object("a", "changed", "1"));
  store.upsert(object("a", "gone", "1"));
  auto changes = store.replace(
      {object("a", "same", "1"), object("a", "changed", "2"), object("a", "new", "1")});
  int adds = 0, updates = 0, deletes = 0;
  for (const auto& c : changes) {
    if (!c.before) {
      ++adds;
      EXPECT_EQ(c.after->name, "new");
    } else if (!c.after) {
      ++deletes;
      EXPECT_EQ(c.before->name, "gone");
    } else {
      ++updates;
      EXPECT_EQ(c.after->name, "changed");
    }
  }
  EXPECT_EQ(adds, 1);
  EXPECT_EQ(updates, 1);
  EXPECT_EQ(deletes, 1);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.get("a/gone"), nullptr);
}

TEST(Store, ReadersKeepTheirObjectsAcrossAReplace) {
  Store store;
  store.upsert(object("a", "x", "1"));
  ObjectPtr held = store.get("a/x");
  store.replace({});
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(held->name, "x");  // still valid: shared ownership
}

TEST(Store, AccountsObjectMemory) {
  Store store;
  auto o = object("a", "x", "1");
  const size_t bytes = o->memoryBytes();
  store.upsert(o);
  EXPECT_EQ(store.objectBytes(), bytes);
  store.erase("a/x");
  EXPECT_EQ(store.objectBytes(), 0u);
}

}  // namespace
}  // namespace wop::cache
