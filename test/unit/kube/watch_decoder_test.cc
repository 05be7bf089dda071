#include "kube/watch_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wop::kube {
namespace {

using ::testing::HasSubstr;

// What `kubectl get --raw '/api/v1/pods?watch=1'` prints, one event per line.
constexpr std::string_view kPodAdded =
    R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0",)"
    R"("namespace":"default","resourceVersion":"1234","labels":{"app":"web"}},)"
    R"("spec":{"containers":[{"name":"nginx","image":"nginx:1.27","args":["-g","daemon off;"]}]}}})"
    "\n";
constexpr std::string_view kPodModified =
    R"({"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0",)"
    R"("resourceVersion":"1240"},"status":{"phase":"Running"}}})"
    "\n";
constexpr std::string_view kBookmark =
    R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":)"
    R"({"resourceVersion":"1300","annotations":{"k8s.io/initial-events-end":"true"}}}})"
    "\n";
constexpr std::string_view kGoneError =
    R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},)"
    R"json("status":"Failure","message":"too old resource version: 1 (1234)",)json"
    R"("reason":"Expired",)"
    R"("code":410}})"
    "\n";

class WatchDecoderTest : public ::testing::Test {
 protected:
  // Feeds each piece in order, expecting no error.
  std::vector<WatchEvent> feedAll(const std::vector<std::string_view>& pieces) {
    std::vector<WatchEvent> events;
    for (auto piece : pieces) {
      common::Status status = decoder_.feed(piece, events);
      EXPECT_TRUE(status.isOk()) << status.toString();
    }
    return events;
  }

  common::Status feedExpectingError(std::string_view bytes) {
    std::vector<WatchEvent> events;
    return decoder_.feed(bytes, events);
  }

  WatchDecoder decoder_;
};

TEST_F(WatchDecoderTest, DecodesOneEventPerRead) {
  auto events = feedAll({kPodAdded, kPodModified});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_THAT(events[0].object, HasSubstr(R"("name":"web-0")"));
  EXPECT_EQ(events[1].type, WatchEventType::kModified);
  EXPECT_EQ(events[1].object,
            R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","resourceVersion":)"
            R"("1240"},"status":{"phase":"Running"}})");
  EXPECT_EQ(decoder_.bufferedBytes(), 0u);
}

TEST_F(WatchDecoderTest, DecodesManyEventsInOneRead) {
  std::string stream = std::string(kPodAdded) + std::string(kPodModified) + std::string(kBookmark) +
                       std::string(kPodAdded);
  auto events = feedAll({stream});
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].type, WatchEventType::kBookmark);
  EXPECT_EQ(events[3].object, events[0].object);
}

TEST_F(WatchDecoderTest, MinifiesTheObject) {
  auto events = feedAll({"{ \"type\" : \"DELETED\",\n \"object\" : { \"a\" : [ 1 , 2 ] } }\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, WatchEventType::kDeleted);
  EXPECT_EQ(events[0].object, R"({"a":[1,2]})");
}

TEST_F(WatchDecoderTest, FindsTheSameEventsWhereverAReadSplitsThem) {
  // Strings holding braces, quotes, escaped quotes, escaped backslashes and unicode escapes, so
  // some split points fall inside a string and right after a backslash.
  const std::string stream = std::string(R"({"type":"ADDED","object":{"data":{"k":"{[\"}]\\",)") +
                             std::string(R"("u":"caf\u00e9 \ud83d\ude00"}}})") + "\r\n" +
                             std::string(kGoneError);
  const auto whole = feedAll({stream});
  ASSERT_EQ(whole.size(), 2u);
  EXPECT_EQ(whole[0].object,
            "{\"data\":{\"k\":\"{[\\\"}]\\\\\",\"u\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}}");
  for (size_t split = 0; split <= stream.size(); ++split) {
    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    ASSERT_TRUE(decoder.feed(std::string_view(stream).substr(0, split), events).isOk()) << split;
    ASSERT_TRUE(decoder.feed(std::string_view(stream).substr(split), events).isOk()) << split;
    ASSERT_EQ(events.size(), 2u) << "split at " << split;
    EXPECT_EQ(events[0].object, whole[0].object) << "split at " << split;
    EXPECT_EQ(events[1].object, whole[1].object) << "split at " << split;
    EXPECT_EQ(decoder.bufferedBytes(), 0u);
  }
}

TEST_F(WatchDecoderTest, KeepsBracesAndQuotesInsideStrings) {
  auto events = feedAll({R"({"type":"ADDED","object":{"s":"}}}\"{{{","t":"\\"})", R"(})"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].object, R"({"s":"}}}\"{{{","t":"\\"})");
}

TEST_F(WatchDecoderTest, DecodesUnicodeEscapesToUtf8) {
  auto events = feedAll({R"({"type":"ADDED","object":{"name":"caf\u00e9"}})"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].object, "{\"name\":\"caf\xc3\xa9\"}");
}

TEST_F(WatchDecoderTest, HoldsAnIncompleteEventUntilItsEnd) {
  std::vector<WatchEvent> events;
  ASSERT_TRUE(decoder_.feed(kPodAdded.substr(0, 10), events).isOk());
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(decoder_.bufferedBytes(), 10u);
  ASSERT_TRUE(decoder_.feed(kPodAdded.substr(10), events).isOk());
  EXPECT_EQ(events.size(), 1u);
  EXPECT_EQ(decoder_.bufferedBytes(), 0u);
}

TEST_F(WatchDecoderTest, ReturnsBookmarksAndErrorEvents) {
  auto events = feedAll({kBookmark, kGoneError});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, WatchEventType::kBookmark);
  EXPECT_THAT(events[0].object, HasSubstr(R"("resourceVersion":"1300")"));
  EXPECT_EQ(events[1].type, WatchEventType::kError);
  EXPECT_THAT(events[1].object, HasSubstr(R"("kind":"Status")"));
  EXPECT_THAT(events[1].object, HasSubstr(R"("code":410)"));
}

TEST_F(WatchDecoderTest, IgnoresWhitespaceAndCrlfBetweenEvents) {
  std::string stream = "\r\n  \t" + std::string(kPodAdded) + "\r\n\r\n" +
                       std::string(kPodModified.substr(0, kPodModified.size() - 1)) + " \t ";
  auto events = feedAll({stream, "\n\n", "   "});
  EXPECT_EQ(events.size(), 2u);
  EXPECT_EQ(decoder_.bufferedBytes(), 0u);
}

TEST_F(WatchDecoderTest, NeedsNoTrailingNewline) {
  auto events = feedAll({R"({"type":"ADDED","object":{}}{"type":"DELETED","object":{}})"});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, WatchEventType::kDeleted);
  EXPECT_EQ(events[1].object, "{}");
}

TEST_F(WatchDecoderTest, RefusesAnUnknownTypeNamingIt) {
  auto status = feedExpectingError(R"({"type":"RESYNC","object":{}})");
  EXPECT_EQ(status.code(), common::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("\"RESYNC\""));
}

TEST_F(WatchDecoderTest, RefusesAMissingType) {
  EXPECT_THAT(feedExpectingError(R"({"object":{}})").message(), HasSubstr("\"type\""));
}

TEST_F(WatchDecoderTest, RefusesAMissingObject) {
  EXPECT_THAT(feedExpectingError(R"({"type":"ADDED"})").message(), HasSubstr("\"object\""));
}

TEST_F(WatchDecoderTest, RefusesAnObjectThatIsNotAnObject) {
  EXPECT_THAT(feedExpectingError(R"({"type":"ADDED","object":[1]})").message(),
              HasSubstr("\"object\""));
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  EXPECT_FALSE(decoder.feed(R"({"type":"ADDED","object":"pod"})", events).isOk());
}

TEST_F(WatchDecoderTest, RefusesInvalidJsonInsideAnEvent) {
  EXPECT_THAT(feedExpectingError(R"({"type":"ADDED","object":{"a":]})").message(),
              HasSubstr("not valid JSON"));
}

TEST_F(WatchDecoderTest, RefusesGarbageBetweenEvents) {
  std::vector<WatchEvent> events;
  auto status = decoder_.feed(std::string(kPodAdded) + "oops" + std::string(kPodAdded), events);
  EXPECT_EQ(status.code(), common::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("0x6f"));
  EXPECT_EQ(events.size(), 1u) << "the events before the garbage are still delivered";
}

TEST_F(WatchDecoderTest, KeepsFailingAfterAnError) {
  ASSERT_FALSE(feedExpectingError("]").isOk());
  std::vector<WatchEvent> events;
  EXPECT_FALSE(decoder_.feed(kPodAdded, events).isOk());
  EXPECT_TRUE(events.empty());
}

TEST_F(WatchDecoderTest, RefusesACompleteEventOverTheLimit) {
  WatchDecoder decoder(64);
  std::vector<WatchEvent> events;
  auto status = decoder.feed(kPodAdded, events);
  EXPECT_EQ(status.code(), common::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr(std::to_string(kPodAdded.size() - 1) + " bytes"));
  EXPECT_THAT(status.message(), HasSubstr("limit of 64 bytes"));
}

TEST_F(WatchDecoderTest, AcceptsAnEventOfExactlyTheLimit) {
  const std::string_view event = R"({"type":"ADDED","object":{}})";
  WatchDecoder decoder(event.size());
  std::vector<WatchEvent> events;
  auto status = decoder.feed(event, events);
  EXPECT_TRUE(status.isOk()) << status.toString();
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(WatchDecoderTest, RefusesAnEndlessEventBeforeItEnds) {
  WatchDecoder decoder(64 << 10);
  std::vector<WatchEvent> events;
  ASSERT_TRUE(decoder.feed(R"({"type":"ADDED","object":{"s":")", events).isOk());
  const std::string chunk(4096, 'x');
  common::Status status;
  size_t fed = 0;
  while (status.isOk() && fed < (1u << 20)) {
    status = decoder.feed(chunk, events);
    fed += chunk.size();
  }
  EXPECT_EQ(status.code(), common::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("at least"));
  EXPECT_LE(fed, (64u << 10) + chunk.size()) << "stopped as soon as the limit was passed";
  EXPECT_EQ(decoder.bufferedBytes(), 0u) << "a dead stream holds no memory";
}

TEST_F(WatchDecoderTest, DecodesALargeStreamFedOneByteAtATime) {
  std::string stream;
  for (int i = 0; i < 2000; ++i) stream += i % 2 ? kPodModified : kPodAdded;
  std::vector<WatchEvent> events;
  for (char c : stream) {
    ASSERT_TRUE(decoder_.feed(std::string_view(&c, 1), events).isOk());
  }
  EXPECT_EQ(events.size(), 2000u);
}

TEST(WatchEventTypeName, NamesEveryType) {
  EXPECT_STREQ(watchEventTypeName(WatchEventType::kAdded), "ADDED");
  EXPECT_STREQ(watchEventTypeName(WatchEventType::kModified), "MODIFIED");
  EXPECT_STREQ(watchEventTypeName(WatchEventType::kDeleted), "DELETED");
  EXPECT_STREQ(watchEventTypeName(WatchEventType::kBookmark), "BOOKMARK");
  EXPECT_STREQ(watchEventTypeName(WatchEventType::kError), "ERROR");
}

}  // namespace
}  // namespace wop::kube
