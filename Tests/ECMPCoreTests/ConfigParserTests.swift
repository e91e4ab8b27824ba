@testable import ECMPCore
import XCTest

final class ConfigParserTests: XCTestCase {
    func parse(_ text: String) throws -> LoadedConfig { try ConfigParser.parse(text, file: "t.yaml") }

    /// The errors a text produces (warnings are tested on their own).
    func problems(_ text: String) -> [ConfigProblem] {
        do {
            return try ConfigParser.parse(text, file: "t.yaml").warnings.filter { $0.severity == .error }
        } catch {
            return error.problems.filter { $0.severity == .error }
        }
    }

    func testMinimalConfigTakesDocumentedDefaults() throws {
        let loaded = try parse("vips:\n  - address: 198.18.0.100\n")
        XCTAssertEqual(loaded.config.mode, .observe)
        XCTAssertEqual(loaded.config.ospf, OSPFSettings())
        XCTAssertEqual(loaded.config.ospf.interfaces, .defaultRoute)
        XCTAssertEqual(loaded.config.status.listen, "127.0.0.1:9477")
        XCTAssertEqual(loaded.config.vips.map(\.address), [.v4(IPv4Address(198, 18, 0, 100))])
        XCTAssertEqual(loaded.config.vips[0].health, HealthPolicy())
    }

    func testReadsEveryServiceField() throws {
        let loaded = try parse(
            """
            mode: managed
            vips:
              - address: 198.18.0.100
                health: { min_healthy: 50%, rise: 2, fall: 3, hold_down: 1500ms }
                services:
                  - protocol: udp
                    port: 53
                    scheduler: mh
                    scheduler_flags: [mh-port, mh-fallback]
                    persistence: { timeout: 300, netmask: 255.255.255.0 }
                    forwarding: tunnel
                    quorum: 2
                    hysteresis: 1
                    inhibit_on_failure: true
                    sorry_server: { address: 198.18.0.9, port: 53 }
                    real_servers:
                      - address: 198.18.0.4
                        weight: 5
                        check: { type: http, path: /health, status_codes: [200, 204], interval: 2s, timeout: 500ms, connect_port: 8080 }
                  - fwmark: 7
                    real_servers:
                      - address: 198.18.0.5
                        check: { type: exec, command: [/usr/bin/true, --quiet] }
            """)
        let vip = loaded.config.vips[0]
        XCTAssertEqual(
            vip.health, HealthPolicy(minimumHealthy: .percent(50), rise: 2, fall: 3, holdDown: .milliseconds(1500)))
        let service = vip.services[0]
        XCTAssertEqual(service.listener, .port(.udp, 53))
        XCTAssertEqual(service.schedulerFlags, ["mh-port", "mh-fallback"])
        XCTAssertEqual(service.persistence, Persistence(timeout: 300, netmask: IPv4Address(255, 255, 255, 0)))
        XCTAssertEqual(service.forwarding, .tunnel)
        XCTAssertEqual(service.sorryServer, RealServerAddress(address: .v4(IPv4Address(198, 18, 0, 9)), port: 53))
        let check = try XCTUnwrap(service.realServers[0].check)
        XCTAssertEqual(check.kind, .http(HTTPCheck(path: "/health", statusCodes: [200, 204])))
        XCTAssertEqual(check.interval, .seconds(2))
        XCTAssertEqual(check.timeout, .milliseconds(500))
        XCTAssertEqual(check.connectPort, 8080)
        XCTAssertEqual(vip.services[1].listener, .fwmark(7))
        XCTAssertEqual(vip.services[1].realServers[0].check?.kind, .exec(argv: ["/usr/bin/true", "--quiet"]))
    }

    func testUnknownKeyNamesLineAndSuggestsSpelling() {
        let found = problems("vips:\n  - address: 198.18.0.100\n    helth: {}\n")
        XCTAssertEqual(
            found.map(\.description),
            [
                "t.yaml:3:5: error: vips[0].helth: \"helth\": unknown key; did you mean 'health'?"
            ])
    }

    func testPortOutOfRangeNamesFieldAndValue() {
        let found = problems("vips:\n  - address: 198.18.0.100\n    services:\n      - port: 70000\n")
        XCTAssertEqual(
            found.first?.description, "t.yaml:4:15: error: vips[0].services[0].port: \"70000\": out of range 1-65535")
    }

    func testBadAddressIsRefused() {
        let found = problems("vips:\n  - address: 198.18.0.300\n")
        XCTAssertEqual(found.map(\.field), ["vips[0].address"])
        XCTAssertEqual(found.first?.line, 2)
        XCTAssertEqual(found.first?.value, "198.18.0.300")
    }

    func testDuplicateVIPAndDuplicateServiceAreErrors() {
        let found = problems(
            """
            vips:
              - address: 198.18.0.100
                services:
                  - { port: 80 }
                  - { port: 80, protocol: tcp }
                  - { port: 80, protocol: udp }
              - address: 198.18.0.100
            """)
        XCTAssertEqual(
            found.map(\.message),
            [
                "duplicate service on 198.18.0.100 (also vips[0].services[0])",
                "duplicate VIP (also vips[0])",
            ])
        XCTAssertEqual(found.map(\.line), [5, 7])
    }

    func testRouterIDEqualToVIPIsRefusedAtItsLine() {
        let found = problems("ospf:\n  router_id: 198.18.0.100\nvips:\n  - address: 198.18.0.100\n")
        XCTAssertEqual(
            found.map(\.description),
            [
                "t.yaml:2:14: error: ospf.router_id: \"198.18.0.100\": equals a VIP: every director announces the VIP, so router-ids would collide"
            ])
    }

    func testEveryProblemIsReportedNotJustTheFirst() {
        let found = problems(
            """
            ospf:
              hello_interval: 0
              priority: 300
            vips:
              - address: nope
              - address: 198.18.0.1
                services:
                  - { port: 80, scheduler: wrrr }
            """)
        XCTAssertEqual(
            found.map(\.field),
            ["ospf.hello_interval", "ospf.priority", "vips[0].address", "vips[1].services[0].scheduler"])
        XCTAssertTrue(found[3].message.hasPrefix("did you mean 'wrr'?"), found[3].message)
    }

    func testInterfaceNamesAreCheckedForLengthAndShellCharacters() {
        let found = problems(
            "ospf:\n  interfaces: [eth0, \"eth0;reboot\", averyveryverylongname]\nvips:\n  - address: 198.18.0.1\n")
        XCTAssertEqual(found.map(\.field), ["ospf.interfaces[1]", "ospf.interfaces[2]"])
        XCTAssertEqual(
            found.map(\.message),
            ["interface names are letters, digits and - _ . : @ only", "longer than 15 bytes (IFNAMSIZ)"])
    }

    func testDeadIntervalMustExceedHello() {
        XCTAssertEqual(
            problems("ospf: { hello_interval: 4, dead_interval: 4 }\nvips: [{ address: 198.18.0.1 }]\n").map(\.field),
            ["ospf.dead_interval"])
    }

    func testYAMLSyntaxErrorHasALine() {
        let found = problems("vips:\n  - address: [198.18.0.1\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertNotNil(found.first?.line)
        XCTAssertTrue(found[0].message.hasPrefix("YAML"), found[0].message)
    }

    func testMissingVIPsIsAnError() {
        XCTAssertEqual(problems("mode: observe\n").map(\.message), ["missing: list at least one VIP"])
    }

    func testDuplicateKeysAreReported() {
        let found = problems("mode: observe\nmode: managed\nvips: [{address: 198.18.0.1}]\n")
        XCTAssertEqual(found.map(\.value), ["mode"])
        XCTAssertEqual(found.map(\.line), [1])
    }

    func testExecCheckMustNotGoThroughAShell() {
        let found = problems(
            """
            vips:
              - address: 198.18.0.1
                services:
                  - port: 80
                    real_servers:
                      - address: 198.18.0.4
                        check: { type: exec, command: ["curl -s localhost | grep ok"] }
            """)
        XCTAssertEqual(found.map(\.message), ["the first word must be an absolute path: checks run without a shell"])
    }

    func testNonLoopbackStatusAddressIsAWarning() throws {
        let loaded = try parse("status: { listen: 0.0.0.0:9477 }\nvips: [{address: 198.18.0.1}]\n")
        XCTAssertEqual(loaded.warnings.map(\.field), ["status.listen"])
        XCTAssertEqual(loaded.warnings.first?.severity, .warning)
    }

    func testAVIPWithoutServicesWatchesItsAddressInObserveModeAndWarnsInManagedMode() throws {
        XCTAssertEqual(try parse("vips: [{address: 198.18.0.1}]\n").warnings.map(\.field), [])
        XCTAssertEqual(
            try parse("mode: managed\nvips: [{address: 198.18.0.1}]\n").warnings.map(\.field), ["vips[0].services"])
    }

    func testAuthenticationNeedsAnAbsoluteKeyFile() {
        XCTAssertEqual(
            problems("ospf: { authentication: { key_file: ospf.key } }\nvips: [{address: 198.18.0.1}]\n").map(\.field),
            ["ospf.authentication.key_file"])
    }

    func viaVIPConfig(forwarding: String = "dr", check: String = "{ type: tcp, via_vip: true }", fwmark: Int? = nil)
        -> String
    {
        var text = """
            mode: managed
            vips:
              - address: 198.18.0.100
                services:
                  - { protocol: tcp, port: 80, forwarding: \(forwarding), real_servers: [{ address: 198.18.0.4, check: \(check) }] }

            """
        if let fwmark { text += "      - { fwmark: \(fwmark), real_servers: [{ address: 198.18.0.5 }] }\n" }
        return text
    }

    func testReadsViaVIP() throws {
        let loaded = try parse(viaVIPConfig(check: "{ type: http, via_vip: true }"))
        XCTAssertEqual(loaded.config.vips[0].services[0].realServers[0].check?.viaVIP, true)
        XCTAssertEqual(
            try parse(viaVIPConfig(check: "{ type: tcp }")).config.vips[0].services[0].realServers[0].check?.viaVIP,
            false)
    }

    func testViaVIPOnlyForDirectRoutingConnectChecks() {
        XCTAssertEqual(
            problems(viaVIPConfig(forwarding: "nat")).map(\.field),
            ["vips[0].services[0].real_servers[0].check.via_vip"])
        XCTAssertEqual(
            problems(viaVIPConfig(check: "{ type: exec, command: [/bin/true], via_vip: true }")).map(\.field),
            ["vips[0].services[0].real_servers[0].check.via_vip"])
    }

    func testFwmarkServiceInsideTheProbeRangeIsRefused() {
        let inside = Int(VIPPathPlan.defaultMarks.lowerBound) + 5
        XCTAssertEqual(problems(viaVIPConfig(fwmark: inside)).map(\.field), ["vips[0].services[1].fwmark"])
        XCTAssertEqual(problems(viaVIPConfig(fwmark: 7)).count, 0)
    }
}
