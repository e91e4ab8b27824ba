@testable import ECMPCore
import XCTest

/// `fleet_consistent` on a VIP: mh with mh-port and mh-fallback by default, a warning for
/// another scheduler, and the option kept through the emitter.
final class FleetConsistentParsingTests: XCTestCase {
    func parse(_ services: String) throws -> LoadedConfig {
        try ConfigParser.parse(
            "mode: managed\nvips:\n  - address: 198.18.0.100\n    fleet_consistent: true\n    services:\n\(services)",
            file: "t.yaml")
    }

    func testServicesDefaultToMaglevWithPortHashingAndFallback() throws {
        let loaded = try parse("      - { port: 80, real_servers: [{ address: 198.18.1.1 }] }\n")
        XCTAssertEqual(loaded.config.vips[0].services[0].scheduler, "mh")
        XCTAssertEqual(loaded.config.vips[0].services[0].schedulerFlags, ["mh-port", "mh-fallback"])
        XCTAssertTrue(loaded.config.vips[0].fleetConsistent)
        XCTAssertEqual(loaded.warnings.filter { $0.field?.contains("scheduler") == true }.map(\.description), [])
    }

    func testExplicitFlagsWithoutFallbackAreKeptAndWarnedAbout() throws {
        let loaded = try parse(
            "      - { port: 80, scheduler_flags: [mh-port], real_servers: [{ address: 198.18.1.1 }] }\n")
        XCTAssertEqual(loaded.config.vips[0].services[0].schedulerFlags, ["mh-port"])
        let warning = try XCTUnwrap(loaded.warnings.first { $0.field == "vips[0].services[0].scheduler_flags" })
        XCTAssertEqual(warning.value, "mh-port")
        XCTAssertTrue(
            warning.message.contains("fleet_consistent sets a failed real server to weight 0"), warning.message)
        XCTAssertTrue(warning.message.contains("add mh-fallback"), warning.message)
    }

    func testAnotherSchedulerIsAWarningNamingTheField() throws {
        let loaded = try parse("      - { port: 80, scheduler: wrr, real_servers: [{ address: 198.18.1.1 }] }\n")
        let warning = try XCTUnwrap(loaded.warnings.first { $0.field == "vips[0].services[0].scheduler" })
        XCTAssertEqual(warning.severity, .warning)
        XCTAssertEqual(warning.line, 6)
        XCTAssertTrue(warning.message.contains("wrr"), warning.message)
        XCTAssertEqual(loaded.config.vips[0].services[0].scheduler, "wrr", "a warning, not a change of what was asked")
    }

    func testExplicitFlagsAreKept() throws {
        let loaded = try parse(
            "      - { port: 80, scheduler_flags: [mh-fallback, mh-port], real_servers: [{ address: 198.18.1.1 }] }\n")
        XCTAssertEqual(loaded.config.vips[0].services[0].schedulerFlags, ["mh-fallback", "mh-port"])
    }

    func testTheEmitterWritesTheOptionBack() throws {
        let loaded = try parse("      - { port: 80, real_servers: [{ address: 198.18.1.1 }] }\n")
        let text = ConfigEmitter.yaml(loaded.config)
        XCTAssertTrue(text.contains("fleet_consistent: true"), text)
        XCTAssertEqual(try ConfigParser.parse(text, file: "again.yaml").config, loaded.config)
    }
}

/// The shipped example configs parse without errors or warnings.
final class ExampleConfigTests: XCTestCase {
    func testTheExampleConfigsAreClean() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for name in ["deploy/ecmpd.example.yaml", "deploy/ecmpd.managed.example.yaml"] {
            let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
            let loaded = try ConfigParser.parse(text, file: name)
            XCTAssertEqual(loaded.warnings.map(\.description), [], name)
        }
        let managed = try ConfigParser.parse(
            String(contentsOf: root.appendingPathComponent("deploy/ecmpd.managed.example.yaml"), encoding: .utf8),
            file: "m")
        XCTAssertEqual(managed.config.mode, .managed)
        XCTAssertEqual(managed.config.vips[0].services[0].scheduler, "mh")
    }
}
