#include "cache/store.h"

#include <gmock/gmock.h>
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

// ---------------------------------------------------------------------------- field indexes

// A consumer of a source: spec.sourceRef names it (a field index's value).
ObjectPtr consumer(const std::string& ns, const std::string& name, const std::string& rv,
                   const std::string& sourceRef) {
  auto o = std::make_shared<CachedObject>();
  o->ns = ns;
  o->name = name;
  o->resourceVersion = rv;
  o->json = R"({"metadata":{"namespace":")" + ns + R"(","name":")" + name +
            R"("},"spec":{"sourceRef":")" + sourceRef + "\"}}";
  return o;
}

IndexSpec sourceRef() { return *IndexSpec::make(IndexSpec::From::kJsonPointer, "/spec/sourceRef"); }

std::vector<std::string> keysBy(const Store& store, const std::string& value,
                                const std::string& ns = "") {
  std::vector<std::string> keys;
  auto found = store.byIndex(sourceRef(), value, ns);
  EXPECT_TRUE(found) << "no such index";
  if (found)
    for (const auto& o : *found) keys.push_back(o->key());
  return keys;
}

TEST(StoreFieldIndex, AnIndexAddedLaterIsBuiltFromWhatIsStored) {
  Store store;
  store.upsert(consumer("a", "one", "1", "src/s"));
  store.upsert(consumer("b", "two", "1", "src/s"));
  store.upsert(consumer("b", "other", "1", "src/t"));
  EXPECT_FALSE(store.byIndex(sourceRef(), "src/s")) << "not an index yet";
  store.addIndex(sourceRef());
  EXPECT_THAT(keysBy(store, "src/s"), ::testing::ElementsAre("a/one", "b/two"));
  EXPECT_THAT(keysBy(store, "src/s", "b"), ::testing::ElementsAre("b/two"));
  EXPECT_THAT(keysBy(store, "src/none"), ::testing::IsEmpty());
}

TEST(StoreFieldIndex, FollowsAddsUpdatesAndDeletes) {
  Store store;
  store.addIndex(sourceRef());
  store.upsert(consumer("a", "one", "1", "src/s"));
  store.upsert(consumer("a", "two", "1", "src/s"));
  EXPECT_THAT(keysBy(store, "src/s"), ::testing::ElementsAre("a/one", "a/two"));
  store.upsert(consumer("a", "two", "2", "src/t"));  // moved to another source
  EXPECT_THAT(keysBy(store, "src/s"), ::testing::ElementsAre("a/one"));
  EXPECT_THAT(keysBy(store, "src/t"), ::testing::ElementsAre("a/two"));
  store.erase("a/one");
  EXPECT_THAT(keysBy(store, "src/s"), ::testing::IsEmpty());
  // What a read by index hands out is the stored object itself, of the latest version.
  auto found = store.byIndex(sourceRef(), "src/t");
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0], store.get("a/two"));
}

TEST(StoreFieldIndex, ARelistRebuildsItWithTheNewContents) {
  Store store;
  store.addIndex(sourceRef());
  store.upsert(consumer("a", "stays", "1", "src/s"));
  store.upsert(consumer("a", "moves", "1", "src/s"));
  store.upsert(consumer("a", "goes", "1", "src/s"));
  store.replace({consumer("a", "stays", "1", "src/s"), consumer("a", "moves", "2", "src/t"),
                 consumer("a", "new", "1", "src/s")});
  EXPECT_THAT(keysBy(store, "src/s"), ::testing::ElementsAre("a/new", "a/stays"));
  EXPECT_THAT(keysBy(store, "src/t"), ::testing::ElementsAre("a/moves"));
  store.upsert(consumer("a", "stays", "2", "src/t"));  // and it keeps following events
  EXPECT_THAT(keysBy(store, "src/t"), ::testing::ElementsAre("a/moves", "a/stays"));
}

TEST(StoreFieldIndex, IsKeptWhileAnyUserHoldsItAndItsBytesAreCounted) {
  Store store;
  store.addIndex(sourceRef());
  store.addIndex(sourceRef());  // a second operator, the same extractor: one index
  store.upsert(consumer("a", "one", "1", "src/s"));
  const size_t objectBytes = store.objectBytes();
  EXPECT_GT(store.indexBytes(), 0u);
  EXPECT_EQ(store.objectBytes(), objectBytes) << "index bytes are counted apart";
  store.releaseIndex(sourceRef());
  EXPECT_THAT(keysBy(store, "src/s"), ::testing::ElementsAre("a/one"));
  store.releaseIndex(sourceRef());
  EXPECT_FALSE(store.byIndex(sourceRef(), "src/s"));
  EXPECT_EQ(store.indexBytes(), 0u);
  store.releaseIndex(sourceRef());  // one release too many does nothing
  store.upsert(consumer("a", "two", "1", "src/s"));
  EXPECT_EQ(store.indexBytes(), 0u);
}

TEST(StoreFieldIndex, AnObjectThatIsNotJsonIsStoredButNotIndexed) {
  Store store;
  store.addIndex(sourceRef());
  auto broken = consumer("a", "broken", "1", "src/s");
  std::const_pointer_cast<CachedObject>(broken)->json = "{not json";
  store.upsert(broken);
  EXPECT_NE(store.get("a/broken"), nullptr);
  EXPECT_THAT(keysBy(store, "src/s"), ::testing::IsEmpty());
}

}  // namespace
}  // namespace wop::cache
