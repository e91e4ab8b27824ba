@testable import ECMPCore
import XCTest

/// `ospf.bfd`: off by default, on when the section is written, every key,
/// and problems that name the field, the line and the value.
final class BFDSettingsParsingTests: XCTestCase {
    let vips = "vips:\n  - address: 198.18.0.100\n"

    func parse(_ bfd: String) throws(ConfigErrors) -> LoadedConfig {
        try ConfigParser.parse("ospf:\n  bfd:\n" + bfd + vips, file: "t.yaml")
    }

    func problems(_ bfd: String) -> [String] {
        do {
            return try parse(bfd).warnings.map(\.description)
        } catch {
            return error.problems.map(\.description)
        }
    }

    func testWithoutTheSectionBFDIsOffAndNothingIsRenderedForIt() throws {
        let settings = try ConfigParser.parse(vips, file: "t.yaml").config.ospf.bfd
        XCTAssertEqual(settings, BFDSettings())
        XCTAssertFalse(settings.enabled)
    }

    func testTheSectionTurnsBFDOnWithTheDocumentedDefaults() throws {
        let settings = try parse("    enabled: true\n").config.ospf.bfd
        XCTAssertEqual(
            settings,
            BFDSettings(
                enabled: true, receiveIntervalMilliseconds: 300, transmitIntervalMilliseconds: 300,
                detectMultiplier: 3, echoMode: false))
        XCTAssertEqual(settings.detectionTimeMilliseconds, 900)
        XCTAssertTrue(try parse("    detect_multiplier: 3\n").config.ospf.bfd.enabled, "any key turns it on")
        XCTAssertFalse(try parse("    enabled: false\n").config.ospf.bfd.enabled)
    }

    func testReadsEveryKey() throws {
        let settings = try parse(
            "    receive_interval: 100ms\n    transmit_interval: 150ms\n    detect_multiplier: 5\n    echo_mode: true\n"
        ).config.ospf.bfd
        XCTAssertEqual(
            settings,
            BFDSettings(
                enabled: true, receiveIntervalMilliseconds: 100, transmitIntervalMilliseconds: 150,
                detectMultiplier: 5, echoMode: true))
    }

    func testIntervalsOutsideWhatBfddAcceptsNameFieldLineAndValue() {
        XCTAssertEqual(
            problems("    receive_interval: 5ms\n"),
            ["t.yaml:3:23: error: ospf.bfd.receive_interval: \"5ms\": out of range 10ms-60s"])
        XCTAssertEqual(
            problems("    transmit_interval: 2m\n"),
            ["t.yaml:3:24: error: ospf.bfd.transmit_interval: \"2m\": out of range 10ms-60s"])
    }

    func testAnIntervalWithoutAUnitAsksForOne() {
        XCTAssertEqual(
            problems("    receive_interval: 300\n"),
            ["t.yaml:3:23: error: ospf.bfd.receive_interval: \"300\": give a unit, such as 300ms"])
    }

    func testMultiplierRangeIsBfdds() {
        XCTAssertEqual(
            problems("    detect_multiplier: 1\n"),
            ["t.yaml:3:24: error: ospf.bfd.detect_multiplier: \"1\": out of range 2-255"])
        XCTAssertEqual(
            problems("    detect_multiplier: 256\n"),
            ["t.yaml:3:24: error: ospf.bfd.detect_multiplier: \"256\": out of range 2-255"])
    }

    func testUnknownKeyIsNamed() {
        let found = problems("    interval: 300ms\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.contains("ospf.bfd.interval") == true, "\(found)")
    }

    func testADetectionTimeBelow150msIsAWarning() throws {
        let loaded = try parse("    receive_interval: 20ms\n    transmit_interval: 20ms\n")
        XCTAssertEqual(loaded.config.ospf.bfd.detectionTimeMilliseconds, 60)
        XCTAssertEqual(loaded.warnings.count, 1)
        XCTAssertTrue(
            loaded.warnings.first?.description.contains("warning: ospf.bfd: \"60ms\": detection time below 150ms")
                == true, "\(loaded.warnings)")
    }

    func testTheEmitterWritesItBack() throws {
        let loaded = try parse("    transmit_interval: 100ms\n    detect_multiplier: 4\n")
        let text = ConfigEmitter.yaml(loaded.config)
        let again = try ConfigParser.parse(text, file: "again.yaml").config.ospf.bfd
        XCTAssertEqual(again, loaded.config.ospf.bfd, text)
    }
}
