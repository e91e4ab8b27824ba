@testable import ECMPCore
import XCTest

/// mh without mh-fallback drops new connections that hash to a weight-0
/// server: warned about wherever a server can sit at weight 0, in the config
/// and in the kernel's table, and never where it cannot.
final class MaglevFallbackTests: XCTestCase {
    func load(mode: ControlMode, service: String) throws -> LoadedConfig {
        try ConfigParser.parse(
            """
            mode: \(mode.rawValue)
            vips:
              - address: 198.18.0.100
                services:
                  - \(service)
            """, file: "t.yaml")
    }

    func fallbackWarnings(_ loaded: LoadedConfig) -> [ConfigProblem] {
        loaded.warnings.filter { $0.message.contains("mh-fallback") }
    }

    func testManagedInhibitWithoutFallbackIsWarnedAbout() throws {
        let loaded = try load(
            mode: .managed,
            service: """
                { port: 80, scheduler: mh, scheduler_flags: [mh-port], inhibit_on_failure: true,
                            real_servers: [{ address: 198.18.1.1, check: { type: tcp } }] }
                """)
        let warning = try XCTUnwrap(fallbackWarnings(loaded).first)
        XCTAssertEqual(warning.field, "vips[0].services[0].scheduler_flags")
        XCTAssertEqual(warning.line, 5)
        XCTAssertTrue(
            warning.message.contains("inhibit_on_failure sets a failed real server to weight 0"), warning.message)
    }

    func testManagedRemovalNeedsNoFallback() throws {
        // Without inhibit a failed server is removed: its slots go with it.
        let loaded = try load(
            mode: .managed,
            service: """
                { port: 80, scheduler: mh, real_servers: [{ address: 198.18.1.1, check: { type: tcp } }] }
                """)
        XCTAssertEqual(fallbackWarnings(loaded).map(\.description), [])
    }

    func testObserveModeWarnsBecauseAnotherProgramSetsTheWeights() throws {
        let loaded = try load(
            mode: .observe, service: "{ port: 80, scheduler: mh, real_servers: [{ address: 198.18.1.1 }] }")
        let warning = try XCTUnwrap(fallbackWarnings(loaded).first)
        XCTAssertTrue(warning.message.contains("another program sets the weights"), warning.message)
        let withFlag = try load(
            mode: .observe,
            service: """
                { port: 80, scheduler: mh, scheduler_flags: [mh-fallback], real_servers: [{ address: 198.18.1.1 }] }
                """)
        XCTAssertEqual(fallbackWarnings(withFlag).map(\.description), [])
    }

    func testAConfiguredWeightZeroIsARisk() throws {
        let loaded = try load(
            mode: .managed,
            service: """
                { port: 80, scheduler: mh, real_servers: [{ address: 198.18.1.1, weight: 0, check: { type: tcp } }] }
                """)
        XCTAssertTrue(try XCTUnwrap(fallbackWarnings(loaded).first).message.contains("configured with weight 0"))
    }

    func testOtherSchedulersAreNotConcerned() throws {
        let loaded = try load(
            mode: .observe, service: "{ port: 80, scheduler: sh, real_servers: [{ address: 198.18.1.1 }] }")
        XCTAssertEqual(fallbackWarnings(loaded).map(\.description), [])
    }

    func testTheKernelsTableIsJudgedWhateverSetItUp() throws {
        let config = try load(
            mode: .observe,
            service: """
                { port: 80, scheduler: mh, scheduler_flags: [mh-fallback], real_servers: [{ address: 198.18.1.1 }] }
                """
        ).config
        let vip = IPAddress.v4(IPv4Address("198.18.0.100")!)
        let other = IPAddress.v4(IPv4Address("198.18.0.200")!)
        func mh(_ identity: IPVSServiceIdentity, _ flags: IPVSServiceFlags) -> IPVSService {
            IPVSService(identity, scheduler: "mh", flags: flags)
        }
        let table = IPVSTable([
            // At a VIP of the config, set up by another program without the flag, one server at 0.
            IPVSTable.Entry(
                mh(.tcp(vip, port: 443), [.mhPort]),
                destinations: [
                    IPVSDestination(IPAddress("198.18.1.1")!, port: 443, weight: 0),
                    IPVSDestination(IPAddress("198.18.1.2")!, port: 443, weight: 1),
                ]),
            IPVSTable.Entry(mh(.tcp(vip, port: 80), [.mhPort, .mhFallback])),
            IPVSTable.Entry(mh(.tcp(other, port: 80), [])),
            IPVSTable.Entry(IPVSService(.udp(vip, port: 53), scheduler: "wrr")),
        ])
        let warnings = MaglevFallback.kernelWarnings(table, config: config)
        XCTAssertEqual(warnings.count, 1, "\(warnings)")
        XCTAssertTrue(warnings[0].contains("TCP 198.18.0.100:443"), warnings[0])
        XCTAssertTrue(warnings[0].contains("198.18.1.1:443"), "the server at weight 0 is named: \(warnings[0])")
        XCTAssertFalse(warnings[0].contains("198.18.1.2"), warnings[0])
    }
}
