@testable import ECMPCore
import XCTest

/// The `controller:` section: defaults, every key, and problems that name
/// the field, the line and the value.
final class ControllerSettingsParsingTests: XCTestCase {
    let vips = "vips:\n  - address: 198.18.0.100\n"

    func parse(_ controller: String) throws(ConfigErrors) -> LoadedConfig {
        try ConfigParser.parse("controller:\n" + controller + vips, file: "t.yaml")
    }

    /// Every problem (errors and warnings) the text produces, as printed.
    func problems(_ controller: String) -> [String] {
        do {
            return try parse(controller).warnings.map(\.description)
        } catch {
            return error.problems.map(\.description)
        }
    }

    func testWithoutTheSectionEveryKeyTakesItsDocumentedDefault() throws {
        let settings = try ConfigParser.parse(vips, file: "t.yaml").config.controller
        XCTAssertEqual(settings, ControllerSettings())
        XCTAssertEqual(settings.pollInterval, .milliseconds(250))
        XCTAssertEqual(settings.onStop, .withdraw)
        XCTAssertFalse(settings.guardLastAnnouncer)
        XCTAssertEqual(settings.networkDebounce, .milliseconds(500))
        XCTAssertEqual(settings.drainCost, 65535)
        XCTAssertEqual(settings.drainWait, .seconds(10))
        XCTAssertNil(settings.keepalivedConfig)
    }

    func testAnEmptySectionIsAnErrorNotADefault() {
        let found = problems("")
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.hasPrefix("t.yaml:1:12: error: controller: ") == true, "\(found)")
        XCTAssertTrue(
            found.first?.hasSuffix(
                "expected a mapping of poll_interval, on_stop, guard_last_announcer, network_debounce, drain_cost, drain_wait, keepalived_config"
            ) == true, "\(found)")
    }

    func testReadsEveryKey() throws {
        let settings = try parse(
            """
              poll_interval: 100ms
              on_stop: leave
              guard_last_announcer: true
              network_debounce: 2s
              drain_cost: 4000
              drain_wait: 1m
              keepalived_config: /etc/keepalived/director.conf

            """
        ).config.controller
        XCTAssertEqual(
            settings,
            ControllerSettings(
                pollInterval: .milliseconds(100), onStop: .leave, guardLastAnnouncer: true,
                networkDebounce: .seconds(2),
                drainCost: 4000, drainWait: .seconds(60), keepalivedConfig: "/etc/keepalived/director.conf"))
    }

    func testZeroDebounceAndZeroDrainWaitAreAllowed() throws {
        let settings = try parse("  network_debounce: 0s\n  drain_wait: 0s\n").config.controller
        XCTAssertEqual(settings.networkDebounce, .zero)
        XCTAssertEqual(settings.drainWait, .zero)
    }

    func testZeroPollIntervalNamesFieldLineAndValue() {
        XCTAssertEqual(
            problems("  poll_interval: 0s\n"),
            [
                "t.yaml:2:18: error: controller.poll_interval: \"0s\": out of range 10ms-60s"
            ])
    }

    func testPollIntervalThatIsNotADurationNamesTheForms() {
        XCTAssertEqual(
            problems("  poll_interval: fast\n"),
            [
                "t.yaml:2:18: error: controller.poll_interval: \"fast\": expected a duration such as 500ms, 2s or 1m"
            ])
    }

    func testPollIntervalAbove500msIsAWarningThatExplainsTheCost() throws {
        let loaded = try parse("  poll_interval: 1s\n")
        XCTAssertEqual(loaded.config.controller.pollInterval, .seconds(1))
        XCTAssertEqual(
            loaded.warnings.map(\.description),
            [
                "t.yaml:2:18: warning: controller.poll_interval: \"1s\": withdrawal takes poll_interval × fall; above 500ms a failed director keeps traffic noticeably longer"
            ])
    }

    func testPollIntervalOf500msIsNotWarnedAbout() throws {
        XCTAssertEqual(try parse("  poll_interval: 500ms\n").warnings, [])
    }

    func testUnknownStopActionListsTheChoices() {
        XCTAssertEqual(
            problems("  on_stop: maybe\n"),
            [
                "t.yaml:2:12: error: controller.on_stop: \"maybe\": expected one of withdraw, leave"
            ])
    }

    func testMisspelledStopActionSuggestsTheSpelling() {
        XCTAssertEqual(
            problems("  on_stop: withdrew\n"),
            [
                "t.yaml:2:12: error: controller.on_stop: \"withdrew\": did you mean 'withdraw'? expected one of withdraw, leave"
            ])
    }

    func testGuardLastAnnouncerMustBeABoolean() {
        XCTAssertEqual(
            problems("  guard_last_announcer: maybe\n"),
            [
                "t.yaml:2:25: error: controller.guard_last_announcer: \"maybe\": expected true or false"
            ])
    }

    func testDrainCostOutsideOSPFsCostRangeIsAnError() {
        XCTAssertEqual(
            problems("  drain_cost: 0\n"), ["t.yaml:2:15: error: controller.drain_cost: \"0\": out of range 1-65535"])
        XCTAssertEqual(
            problems("  drain_cost: 65536\n"),
            ["t.yaml:2:15: error: controller.drain_cost: \"65536\": out of range 1-65535"])
    }

    func testDrainWaitAndDebounceHaveUpperLimits() {
        XCTAssertEqual(
            problems("  drain_wait: 2h\n"), ["t.yaml:2:15: error: controller.drain_wait: \"2h\": out of range 0s-3600s"]
        )
        XCTAssertEqual(
            problems("  network_debounce: 2m\n"),
            ["t.yaml:2:21: error: controller.network_debounce: \"2m\": out of range 0s-60s"])
    }

    func testRelativeKeepalivedConfigIsAnError() {
        XCTAssertEqual(
            problems("  keepalived_config: keepalived.conf\n"),
            [
                "t.yaml:2:22: error: controller.keepalived_config: \"keepalived.conf\": must be an absolute path"
            ])
    }

    func testUnknownKeySuggestsTheSpelling() {
        XCTAssertEqual(
            problems("  drain_cots: 100\n"),
            [
                "t.yaml:2:3: error: controller.drain_cots: \"drain_cots\": unknown key; did you mean 'drain_cost'?"
            ])
    }

    func testEveryBadKeyIsReportedAtOnce() {
        let found = problems("  poll_interval: 0s\n  on_stop: maybe\n  drain_cost: -1\n")
        XCTAssertEqual(
            found.map { $0.components(separatedBy: ": ").prefix(3).joined(separator: ": ") },
            [
                "t.yaml:2:18: error: controller.poll_interval",
                "t.yaml:3:12: error: controller.on_stop",
                "t.yaml:4:15: error: controller.drain_cost",
            ])
    }
}
