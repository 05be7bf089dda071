#include "server/flag_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace wop::server {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

// A command with one flag of every kind.
FlagSet exampleFlags() {
  FlagSet flags("tool run", "Runs things.");
  flags.add(Flag::text("input", "FILE", "what to read").required());
  flags.add(Flag::text("label", "L", "a label"));
  flags.add(Flag::integer("workers", "N", "threads", 1, 256).withDefault(2));
  flags.add(Flag::number("qps", "Q", "requests per second", 0.5, 1000).withDefault(50.0));
  flags.add(Flag::onOff("swap", "swap to disk").withDefault(true));
  flags.add(Flag::duration("idle", "D", "idle time", milliseconds(0), std::chrono::hours(24))
                .withDefault(milliseconds(2000)));
  return flags;
}

common::Result<ParsedFlags> parse(std::vector<std::string> args) {
  return exampleFlags().parse(args);
}

// The refusal's message for args, or "accepted".
std::string refusal(std::vector<std::string> args) {
  auto parsed = parse(std::move(args));
  return parsed ? "accepted" : parsed.status().message();
}

TEST(FlagSet, ReadsEveryKind) {
  auto parsed = parse({"--input", "a.yaml", "--label", "", "--workers", "8", "--qps", "12.5",
                       "--swap", "off", "--idle", "1500"});
  ASSERT_TRUE(parsed) << parsed.status().toString();
  EXPECT_EQ(parsed->text("input"), "a.yaml");
  EXPECT_EQ(parsed->text("label"), "");
  EXPECT_EQ(parsed->integer("workers"), 8);
  EXPECT_EQ(parsed->number("qps"), 12.5);
  EXPECT_EQ(parsed->onOff("swap"), false);
  EXPECT_EQ(parsed->duration("idle"), milliseconds(1500));
  EXPECT_FALSE(parsed->helpRequested());
}

TEST(FlagSet, AChoiceTakesOnlyItsValuesAndNamesThemWhenRefused) {
  FlagSet flags("tool", "Does.");
  flags.add(Flag::choice("format", "line format", {"logfmt", "json"}).withDefault("logfmt"));
  const std::vector<std::string> json = {"--format", "json"};
  EXPECT_EQ(flags.parse(json)->text("format"), "json");
  EXPECT_EQ(flags.parse(std::vector<std::string>{})->text("format"), "logfmt");
  const std::vector<std::string> xml = {"--format", "xml"};
  EXPECT_THAT(flags.parse(xml).status().message(), HasSubstr("\"xml\" is not one of logfmt, json"));
  EXPECT_THAT(flags.help(), HasSubstr("--format logfmt|json  line format (default \"logfmt\")"));
}

TEST(FlagSet, TakesNameEqualsValue) {
  auto parsed = parse({"--input=a.yaml", "--workers=3", "--label=x=y"});
  ASSERT_TRUE(parsed) << parsed.status().toString();
  EXPECT_EQ(parsed->text("input"), "a.yaml");
  EXPECT_EQ(parsed->integer("workers"), 3);
  EXPECT_EQ(parsed->text("label"), "x=y");
}

TEST(FlagSet, FillsDefaultsButKnowsWhatWasGiven) {
  auto parsed = parse({"--input", "a.yaml"});
  ASSERT_TRUE(parsed) << parsed.status().toString();
  EXPECT_EQ(parsed->integer("workers"), 2);
  EXPECT_EQ(parsed->number("qps"), 50.0);
  EXPECT_EQ(parsed->onOff("swap"), true);
  EXPECT_EQ(parsed->duration("idle"), milliseconds(2000));
  EXPECT_TRUE(parsed->given("input"));
  EXPECT_FALSE(parsed->given("workers"));
  EXPECT_FALSE(parsed->text("label").has_value());  // no default, not given
}

TEST(FlagSet, AnswersNothingForAnUndeclaredNameOrTheWrongKind) {
  auto parsed = parse({"--input", "a.yaml"});
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->integer("nope").has_value());
  EXPECT_FALSE(parsed->text("workers").has_value());
}

TEST(FlagSet, ReadsDurationsWithUnits) {
  for (auto [text, expected] :
       std::vector<std::pair<std::string, milliseconds>>{{"0", milliseconds(0)},
                                                         {"250ms", milliseconds(250)},
                                                         {"2s", milliseconds(2000)},
                                                         {"5m", milliseconds(300'000)},
                                                         {"24h", milliseconds(86'400'000)}}) {
    auto parsed = parse({"--input", "a", "--idle", text});
    ASSERT_TRUE(parsed) << text << ": " << parsed.status().toString();
    EXPECT_EQ(parsed->duration("idle"), expected) << text;
  }
}

TEST(FlagSet, RefusesAnUnknownFlagNamingItAndTheHelp) {
  EXPECT_EQ(refusal({"--input", "a", "--frobnicate", "1"}),
            "--frobnicate: unknown flag (see tool run --help)");
  EXPECT_EQ(refusal({"--input", "a", "--frobnicate=1"}),
            "--frobnicate: unknown flag (see tool run --help)");
}

TEST(FlagSet, RefusesAFlagWithoutItsValue) {
  EXPECT_EQ(refusal({"--input"}), "--input: missing value (--input FILE)");
  EXPECT_EQ(refusal({"--workers", "--input", "a"}), "--workers: missing value (--workers N)");
}

TEST(FlagSet, RefusesAWordThatIsNotAFlag) {
  EXPECT_EQ(refusal({"--input", "a", "extra"}), "\"extra\" is not a flag (flags start with --)");
  EXPECT_EQ(refusal({"-workers", "2"}), "\"-workers\" is not a flag (flags start with --)");
  EXPECT_EQ(refusal({"--"}), "\"--\" is not a flag (flags start with --)");
}

TEST(FlagSet, RefusesAFlagGivenTwice) {
  EXPECT_EQ(refusal({"--input", "a", "--workers", "2", "--workers=3"}),
            "--workers: given more than once");
}

TEST(FlagSet, RefusesAMissingRequiredFlag) {
  EXPECT_EQ(refusal({"--workers", "2"}), "--input: required, not given");
}

TEST(FlagSet, RefusesTextThatIsNotAWholeNumber) {
  for (const std::string text : {"abc", "", "2.5", "3x", " 3", "+3", "0x10"}) {
    EXPECT_EQ(refusal({"--input", "a", "--workers", text}),
              "--workers: \"" + text + "\" is not a whole number");
  }
}

TEST(FlagSet, RefusesAWholeNumberOutOfItsBounds) {
  EXPECT_EQ(refusal({"--input", "a", "--workers", "0"}),
            "--workers: \"0\" is out of range (1 to 256)");
  EXPECT_EQ(refusal({"--input", "a", "--workers", "257"}),
            "--workers: \"257\" is out of range (1 to 256)");
  EXPECT_EQ(refusal({"--input", "a", "--workers", "-1"}),
            "--workers: \"-1\" is out of range (1 to 256)");
  EXPECT_EQ(refusal({"--input", "a", "--workers", "99999999999999999999999"}),
            "--workers: \"99999999999999999999999\" is out of range (1 to 256)");
}

TEST(FlagSet, RefusesTextThatIsNotAFiniteNumber) {
  for (const std::string text : {"fast", "", "nan", "inf", "-inf", "1.5.2", "1e"}) {
    EXPECT_EQ(refusal({"--input", "a", "--qps", text}), "--qps: \"" + text + "\" is not a number");
  }
}

TEST(FlagSet, RefusesANumberOutOfItsBounds) {
  EXPECT_EQ(refusal({"--input", "a", "--qps", "0.25"}),
            "--qps: \"0.25\" is out of range (0.5 to 1000)");
  EXPECT_EQ(refusal({"--input", "a", "--qps", "1e9"}),
            "--qps: \"1e9\" is out of range (0.5 to 1000)");
  EXPECT_EQ(refusal({"--input", "a", "--qps", "1e999"}),
            "--qps: \"1e999\" is out of range (0.5 to 1000)");
}

TEST(FlagSet, ReadsASwitchAsGoFlagsDo) {
  // Bare (last, or before another flag), and true/false as controller-runtime manifests write.
  EXPECT_EQ(parse({"--input", "a", "--swap"})->onOff("swap"), true);
  EXPECT_EQ(parse({"--swap", "--input", "a"})->onOff("swap"), true);
  EXPECT_EQ(parse({"--input", "a", "--swap=false"})->onOff("swap"), false);
  EXPECT_EQ(parse({"--input", "a", "--swap", "true"})->onOff("swap"), true);
  EXPECT_EQ(parse({"--input", "a", "--swap", "off"})->onOff("swap"), false);
}

TEST(FlagSet, RefusesAnythingButOnOrOff) {
  for (const std::string text : {"yes", "TRUE", "ON", "1", ""}) {
    EXPECT_EQ(refusal({"--input", "a", "--swap", text}),
              "--swap: \"" + text + "\" is not on or off");
  }
}

TEST(FlagSet, RefusesABadDuration) {
  for (const std::string text : {"soon", "", "2 s", "1.5s", "s", "3d", "ms"}) {
    EXPECT_EQ(refusal({"--input", "a", "--idle", text}),
              "--idle: \"" + text +
                  "\" is not a duration (milliseconds, or a whole number with ms, s, m or h)");
  }
}

TEST(FlagSet, RefusesADurationOutOfItsBounds) {
  EXPECT_EQ(refusal({"--input", "a", "--idle", "-1"}), "--idle: \"-1\" is out of range (0 to 24h)");
  EXPECT_EQ(refusal({"--input", "a", "--idle", "25h"}),
            "--idle: \"25h\" is out of range (0 to 24h)");
  // Would overflow 64 bits when converted to milliseconds.
  EXPECT_EQ(refusal({"--input", "a", "--idle", "9223372036854775807h"}),
            "--idle: \"9223372036854775807h\" is out of range (0 to 24h)");
}

TEST(FlagSet, HelpWinsAnywhereEvenOverMistakes) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"--workers", "abc", "--help"}}) {
    auto parsed = parse(args);
    ASSERT_TRUE(parsed) << parsed.status().toString();
    EXPECT_TRUE(parsed->helpRequested());
  }
}

TEST(FlagSet, GeneratesHelpFromTheDeclarations) {
  EXPECT_EQ(exampleFlags().help(),
            "usage: tool run --input FILE [flags]\n"
            "Runs things.\n"
            "  --input FILE   what to read (required)\n"
            "  --label L      a label\n"
            "  --workers N    threads (1 to 256, default 2)\n"
            "  --qps Q        requests per second (0.5 to 1000, default 50)\n"
            "  --swap on|off  swap to disk (default on)\n"
            "  --idle D       idle time (0 to 24h, default 2s)\n");
}

TEST(FlagSet, HelpNamesOneSidedBounds) {
  FlagSet flags("tool", "Does.");
  flags.add(Flag::integer("burst", "B", "burst", 1, std::numeric_limits<int64_t>::max()));
  flags.add(Flag::number("qps", "Q", "rate", -std::numeric_limits<double>::infinity(), 100));
  flags.add(Flag::text("name", "N", "name").withDefault("x"));
  EXPECT_THAT(flags.help(), HasSubstr("--burst B  burst (at least 1)\n"));
  EXPECT_THAT(flags.help(), HasSubstr("--qps Q    rate (at most 100)\n"));
  EXPECT_THAT(flags.help(), HasSubstr("--name N   name (default \"x\")\n"));
}

TEST(FlagSet, UsageLineFromRequiredFlagsOrTheGivenSynopsis) {
  EXPECT_EQ(FlagSet("tool version", "Prints.").usageLine(), "usage: tool version\n");
  FlagSet onlyOptional("tool x", "X.");
  onlyOptional.add(Flag::text("a", "A", "a"));
  EXPECT_EQ(onlyOptional.usageLine(), "usage: tool x [flags]\n");
  FlagSet custom("ring", "R.", "(--a A | --b B) [flags]");
  EXPECT_EQ(custom.usageLine(), "usage: ring (--a A | --b B) [flags]\n");
}

TEST(ParseCommandLine, PrintsHelpOnStandardOutputWithExitZero) {
  std::ostringstream out, err;
  const std::vector<std::string> args{"--help"};
  auto parsed = parseCommandLine(exampleFlags(), args, out, err);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), 0);
  EXPECT_EQ(out.str(), exampleFlags().help());
  EXPECT_EQ(err.str(), "");
}

TEST(ParseCommandLine, RefusesInOneLineNamingTheProgramWithTheUsageExitCode) {
  std::ostringstream out, err;
  const std::vector<std::string> args{"--input", "a", "--workers", "abc"};
  auto parsed = parseCommandLine(exampleFlags(), args, out, err);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), kUsageExitCode);
  EXPECT_EQ(err.str(), "tool run: --workers: \"abc\" is not a whole number\n");
  EXPECT_EQ(out.str(), "");
}

TEST(ParseCommandLine, HandsOverTheFlags) {
  std::ostringstream out, err;
  const std::vector<std::string> args{"--input", "a"};
  auto parsed = parseCommandLine(exampleFlags(), args, out, err);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->text("input"), "a");
  EXPECT_EQ(out.str() + err.str(), "");
}

TEST(FormatDuration, UsesTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(milliseconds(0)), "0");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(formatDuration(milliseconds(2000)), "2s");
  EXPECT_EQ(formatDuration(milliseconds(90'000)), "90s");
  EXPECT_EQ(formatDuration(milliseconds(120'000)), "2m");
  EXPECT_EQ(formatDuration(std::chrono::hours(24)), "24h");
}

}  // namespace
}  // namespace wop::server
