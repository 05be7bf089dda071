#include "wasm/expression_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace wop::wasm::binary {
namespace {

using ::testing::ElementsAre;

constexpr size_t kBase = 40;  // where the expression sits in its (imaginary) module

// Decodes `bytes` as one expression; the problem if any.
MaybeDecodeProblem decode(const std::vector<uint8_t>& bytes, uint32_t typeCount = 1) {
  ByteReader reader(bytes, kBase);
  return ExpressionDecoder(reader, typeCount).skipToEnd();
}

// The opcodes of `bytes`, one expression, decoded in full.
std::vector<Opcode> opcodes(const std::vector<uint8_t>& bytes) {
  ByteReader reader(bytes, kBase);
  ExpressionDecoder decoder(reader, 1);
  std::vector<Opcode> out;
  while (!decoder.done()) {
    Opcode op;
    if (decoder.readOpcode(op) || decoder.readImmediates(op)) {
      ADD_FAILURE() << "cannot decode";
      break;
    }
    out.push_back(op);
  }
  EXPECT_TRUE(reader.atEnd()) << "the decoder stops after the final end";
  return out;
}

TEST(ExpressionDecoder, DecodesNestedBlocksUpToTheFinalEnd) {
  // block (result i32) i32.const -1 end drop loop end end, then a byte that is not its own.
  const std::vector<uint8_t> bytes = {0x02, 0x7f, 0x41, 0x7f, 0x0b, 0x1a,
                                      0x03, 0x40, 0x0b, 0x0b, 0xff};
  ByteReader reader(bytes, kBase);
  ExpressionDecoder decoder(reader, 0);
  EXPECT_FALSE(decoder.skipToEnd());
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(reader.remaining(), 1u);
}

TEST(ExpressionDecoder, ReadsPrefixedOpcodesAndSkipsTheirImmediates) {
  EXPECT_THAT(
      opcodes({0xfc, 0x0a, 0x00, 0x00,  // memory.copy 0 0
               0xfc, 0x80, 0x00,        // i32.trunc_sat_f32_s, long LEB
               0xfd, 0x0c, 0,    1,    2,    3,  4,  5,    6,    7,    8,
               9,    10,   11,   12,   13,   14, 15, 0xfd, 0x15, 0x03,  // i8x16.extract_lane_s 3
               0xfd, 0x54, 0x00, 0x08, 0x01,  // v128.load8_lane offset=8 1
               0xfe, 0x03, 0x00,              // atomic.fence
               0xfe, 0x10, 0x02, 0x00,        // i32.atomic.load
               0x0b}),
      ElementsAre(Opcode{kMiscPrefix, 0x0a}, Opcode{kMiscPrefix, 0x00}, Opcode{kSimdPrefix, 0x0c},
                  Opcode{kSimdPrefix, 0x15}, Opcode{kSimdPrefix, 0x54},
                  Opcode{kThreadsPrefix, 0x03}, Opcode{kThreadsPrefix, 0x10}, Opcode{0, 0x0b}));
}

TEST(ExpressionDecoder, HandsOutEachOpcodeBeforeItsImmediates) {
  // table.set with its table index missing: the opcode is read, the immediate is not there.
  const std::vector<uint8_t> bytes = {0x01, 0x26};
  ByteReader reader(bytes, kBase);
  ExpressionDecoder decoder(reader, 0);
  Opcode op;
  ASSERT_FALSE(decoder.readOpcode(op));
  ASSERT_FALSE(decoder.readImmediates(op));
  ASSERT_FALSE(decoder.readOpcode(op));
  EXPECT_EQ(op, (Opcode{0, 0x26}));
  EXPECT_EQ(decoder.instructionOffset(), kBase + 1);
  auto problem = decoder.readImmediates(op);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->kind, DecodeProblem::kMalformed);
}

TEST(ExpressionDecoder, RefusesAnUnknownOpcodeNamingItAndItsOffset) {
  struct Case {
    std::vector<uint8_t> bytes;
    const char* detail;
    size_t offset;
  };
  for (const Case& c : {
           Case{{0x01, 0x14, 0x00, 0x0b}, "unknown opcode 0x14", kBase + 1},  // call_ref
           Case{{0xfc, 0x12, 0x0b}, "unknown opcode 0xfc 0x12", kBase},
           Case{{0x01, 0x01, 0xfd, 0x9a, 0x01, 0x0b}, "unknown opcode 0xfd 0x9a", kBase + 2},
           Case{{0xfd, 0x80, 0x02, 0x0b}, "unknown opcode 0xfd 0x100", kBase},  // relaxed SIMD
           Case{{0xfe, 0x04, 0x0b}, "unknown opcode 0xfe 0x04", kBase},
           Case{{0x06, 0x40, 0x0b, 0x0b}, "exception-handling opcode 0x06", kBase},  // try
           Case{{0xd0, 0x63, 0x0b}, "ref.null 0x63", kBase},  // a typed reference
           Case{{0x02, 0x63, 0x00, 0x0b, 0x0b}, "unsupported block type -29", kBase},
       }) {
    auto problem = decode(c.bytes);
    ASSERT_TRUE(problem) << c.detail;
    EXPECT_EQ(problem->kind, DecodeProblem::kUndecodable) << c.detail;
    EXPECT_EQ(problem->detail, c.detail);
    EXPECT_EQ(problem->offset, c.offset) << c.detail;
  }
}

TEST(ExpressionDecoder, RefusesTruncatedAndOverLongImmediatesAsMalformed) {
  struct Case {
    std::vector<uint8_t> bytes;
    const char* detail;
  };
  for (const Case& c : {
           Case{{0x41}, "bad i32.const"},
           Case{{0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b}, "bad i32.const"},
           Case{{0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b}, "bad index immediate"},
           Case{{0x44, 0x00, 0x00, 0x0b}, "truncated immediate"},
           Case{{0xfd, 0x0c, 0x00, 0x0b}, "truncated immediate"},
           Case{{0x28, 0x02}, "bad memarg offset"},
           Case{{0x0e, 0x05, 0x00, 0x0b}, "bad br_table"},
           Case{{0xfc}, "bad 0xfc opcode"},
           Case{{0xfe, 0x03, 0x01, 0x0b}, "bad atomic.fence"},
           Case{{0x02, 0x40, 0x0b}, "expression has no final end"},
           Case{{}, "expression has no final end"},
       }) {
    auto problem = decode(c.bytes);
    ASSERT_TRUE(problem) << c.detail;
    EXPECT_EQ(problem->kind, DecodeProblem::kMalformed) << c.detail;
    EXPECT_EQ(problem->detail, c.detail);
  }
}

TEST(ExpressionDecoder, BoundsBlockTypeIndicesByTheTypeCount) {
  EXPECT_FALSE(decode({0x02, 0x00, 0x0b, 0x0b}, 1));
  auto problem = decode({0x02, 0x01, 0x0b, 0x0b}, 1);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->detail, "block type index 1 out of range");
}

}  // namespace
}  // namespace wop::wasm::binary
