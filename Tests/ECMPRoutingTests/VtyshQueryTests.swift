import ECMPRouting
import XCTest

/// The one vtysh runner the ospfd, ospf6d and bfdd readers share: its argv, its
/// output, and failures that name the command (a real process each time:
/// /bin/echo and /bin/false stand in for vtysh).
final class VtyshQueryTests: XCTestCase {
    func query(_ vtysh: String) -> VtyshQuery {
        VtyshQuery(vtysh: vtysh, pathspace: "lab", timeout: .seconds(10), commands: ["show a json", "show b"])
    }

    func testArgvCarriesThePathspaceAndEveryCommandAndRunReturnsTheOutput() throws {
        XCTAssertEqual(
            query("/usr/bin/vtysh").argv, ["/usr/bin/vtysh", "-N", "lab", "-c", "show a json", "-c", "show b"])
        XCTAssertEqual(try query("/bin/echo").run(), "-N lab -c show a json -c show b\n")
        XCTAssertEqual(
            OSPFDatabaseReader(vtysh: "/usr/bin/vtysh").argv,
            ["/usr/bin/vtysh", "-c", "show ip ospf database router json"])
        XCTAssertEqual(
            OSPF6DatabaseReader(vtysh: "/usr/bin/vtysh", pathspace: "lab").argv,
            [
                "/usr/bin/vtysh", "-N", "lab", "-c", "show ipv6 ospf6 json", "-c",
                "show ipv6 ospf6 database intra-prefix detail json",
            ])
    }

    func testAFailedRunAndAParseErrorNameTheCommand() {
        XCTAssertThrowsError(try query("/bin/false").run()) {
            XCTAssertEqual("\($0)", "vtysh -c 'show a json': exit status 1")
        }
        struct Unreadable: Error, CustomStringConvertible { var description: String { "not JSON" } }
        XCTAssertThrowsError(try query("/bin/echo").read { _ -> Int in throw Unreadable() }) {
            XCTAssertEqual("\($0)", "vtysh -c 'show a json': not JSON")
        }
        XCTAssertThrowsError(try query("/nonexistent/vtysh").run()) {
            XCTAssertTrue("\($0)".hasPrefix("vtysh -c 'show a json': "), "\($0)")
        }
    }
}
