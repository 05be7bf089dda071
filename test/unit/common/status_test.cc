#include "common/status.h"

#include <gtest/gtest.h>

namespace wop::common {
namespace {

TEST(Status, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.isOk());
  EXPECT_EQ(status.toString(), "Ok");
}

TEST(Status, CarriesCodeAndMessage) {
  Status status(StatusCode::kNotFound, "no such module");
  EXPECT_FALSE(status.isOk());
  EXPECT_EQ(status.toString(), "NotFound: no such module");
}

TEST(Status, ContextIsPrefixed) {
  Status status = Status(StatusCode::kInvalidArgument, "bad magic").withContext("loading x.wasm");
  EXPECT_EQ(status.message(), "loading x.wasm: bad magic");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
}

TEST(Result, HoldsAValueOrAStatus) {
  Result<int> value = 42;
  ASSERT_TRUE(value.isOk());
  EXPECT_EQ(*value, 42);

  Result<int> error = Status(StatusCode::kInternal, "broken");
  ASSERT_FALSE(error.isOk());
  EXPECT_EQ(error.status().message(), "broken");
}

}  // namespace
}  // namespace wop::common
