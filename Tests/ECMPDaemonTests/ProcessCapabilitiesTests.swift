import ECMPCore
@testable import ECMPDaemon
import XCTest

/// The start-up refusal without CAP_NET_ADMIN, from /proc/self/status text.
final class ProcessCapabilitiesTests: XCTestCase {
    /// /proc/self/status of `setpriv --ambient-caps=+net_admin` (abridged).
    let netAdminOnly =
        "Name:\tecmpd\nCapInh:\t0000000000001000\nCapPrm:\t0000000000001000\nCapEff:\t0000000000001000\nCapBnd:\t0000000000001000\nCapAmb:\t0000000000001000\n"

    func testReadsTheEffectiveMaskFromProcStatus() throws {
        let capabilities = try XCTUnwrap(ProcessCapabilities(procStatus: netAdminOnly))
        XCTAssertEqual(capabilities.effective, 0x1000)
        XCTAssertTrue(capabilities.hasNetAdmin)
        XCTAssertFalse(capabilities.has(0), "CAP_CHOWN is bit 0")
        XCTAssertFalse(try XCTUnwrap(ProcessCapabilities(procStatus: "CapEff:\t0000000000000000\n")).hasNetAdmin)
        XCTAssertTrue(
            try XCTUnwrap(ProcessCapabilities(procStatus: "CapEff:\t000001ffffffffff\n")).hasNetAdmin, "root's full set"
        )
    }

    func testTextWithoutAReadableCapEffLineIsNil() {
        XCTAssertNil(ProcessCapabilities(procStatus: "Name:\tecmpd\n"))
        XCTAssertNil(ProcessCapabilities(procStatus: "CapEff:\tnot-hex\n"))
    }

    func testThisProcessCanReadItsOwnSet() {
        XCTAssertNotNil(ProcessCapabilities.current())
    }

    func testRunRefusesToStartWithoutNetAdminNamingTheCapability() throws {
        let loaded = try ConfigParser.parse("vips: [{ address: 198.18.0.100 }]\n", file: "/etc/ecmpd/ecmpd.yaml")
        XCTAssertThrowsError(try Daemon.preflight(loaded, capabilities: ProcessCapabilities(effective: 0x1 | 0x2000))) {
            error in
            let text = "\(error)"
            XCTAssertTrue(
                text.hasPrefix("needs CAP_NET_ADMIN (adding and removing VIPs on lo, reading and programming IPVS)"),
                text)
            XCTAssertTrue(text.contains("effective capabilities 0x2001"), text)
            XCTAssertTrue(text.contains("AmbientCapabilities=CAP_NET_ADMIN"), text)
        }
    }
}
