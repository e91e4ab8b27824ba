@testable import ECMPCore
import XCTest

/// bfdd's `show bfd peers json` (and its counters) as FRR 8.4.4 printed it
/// in the namespace lab (Fixtures/frr/README.md), and the router's check
/// of the session behind each nexthop.
final class BFDSessionTests: XCTestCase {
    func capture(_ name: String) throws -> String { try FixtureFiles.read(FixtureFiles.fixture("frr/\(name)")) }

    /// `BFDSessionReader` hands the two arrays over separately.
    func sessions(_ name: String) throws -> [BFDSession] {
        let text = try capture(name)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let second = lines.indices.filter { lines[$0] == "[" }.dropFirst().first
        guard let second else { return try BFDSession.sessions(peersOutput: text) }
        return try BFDSession.sessions(
            peersOutput: lines[..<second].joined(separator: "\n"),
            countersOutput: lines[second...].joined(separator: "\n"))
    }

    func testRouterWithBothDirectorsUp() throws {
        let found = try sessions("bfd-peers-router-two-up.txt")
        XCTAssertEqual(found.map(\.peer.description), ["198.18.0.2", "198.18.0.3"])
        XCTAssertTrue(found.allSatisfy(\.isUp))
        XCTAssertEqual(found.map(\.interface), ["br0", "br0"])
        XCTAssertEqual(found[0].uptimeSeconds, 11)
        XCTAssertNil(found[0].downtimeSeconds)
        XCTAssertEqual(found[0].id, 1_032_814_136)
        XCTAssertEqual(found[0].transmitIntervalMilliseconds, 100)
        XCTAssertEqual(found[0].detectMultiplier, 3)
        XCTAssertEqual(found.map(\.downEvents), [0, 0], "from the counters array")
    }

    func testADirectorFacingARouterWithoutBFDSeesItsSessionDown() throws {
        let found = try sessions("bfd-peers-director-facing-router-without-bfd.txt")
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found[0].peer, IPv4Address("198.18.0.1"))
        XCTAssertEqual(found[0].state, .down)
        XCTAssertEqual(found[0].downtimeSeconds, 7)
        XCTAssertNil(found[0].uptimeSeconds)
    }

    func testNoSessionsAndVtyshsWarningBeforeTheJSON() throws {
        XCTAssertEqual(try sessions("bfd-peers-none.txt"), [])
        let found = try sessions("bfd-peers-pathspace-warning-then-json.txt")
        XCTAssertEqual(found.map(\.peer.description), ["198.18.0.1", "198.18.0.3"])
        XCTAssertEqual(found.map(\.downEvents), [nil, nil], "no counters asked for")
    }

    func testOutputThatIsNotJSONIsAnError() {
        XCTAssertThrowsError(try BFDSession.sessions(peersOutput: "bfdd is not running\n")) { error in
            XCTAssertTrue("\(error)".contains("no JSON array in: bfdd is not running"), "\(error)")
        }
    }

    // MARK: The router's check

    func nexthops(_ gateways: [String]) -> RouteNexthops {
        RouteNexthops(gateways.map { RouteNexthops.Nexthop(gateway: IPv4Address($0), interface: "br0") })
    }

    func testEveryNexthopWithASessionUpPasses() throws {
        let check = BFDNexthopCheck(
            nexthops: nexthops(["198.18.0.2", "198.18.0.3"]),
            view: .sessions(try sessions("bfd-peers-router-two-up.txt")))
        XCTAssertEqual(check.problems, [])
        XCTAssertEqual(check.rows.map { $0.session?.state }, [.up, .up])
    }

    func testANexthopWithoutASessionIsAProblem() throws {
        let check = BFDNexthopCheck(
            nexthops: nexthops(["198.18.0.2", "198.18.0.4"]),
            view: .sessions(try sessions("bfd-peers-router-two-up.txt")))
        XCTAssertEqual(check.problems.count, 1)
        XCTAssertTrue(check.problems[0].hasPrefix("nexthop 198.18.0.4 has no BFD session"), "\(check.problems)")
    }

    func testANexthopWhoseSessionIsDownIsAProblem() throws {
        var down = try sessions("bfd-peers-director-facing-router-without-bfd.txt")[0]
        down.peer = IPv4Address("198.18.0.2")!
        let check = BFDNexthopCheck(nexthops: nexthops(["198.18.0.2"]), view: .sessions([down]))
        XCTAssertEqual(check.problems.count, 1)
        XCTAssertTrue(check.problems[0].contains("BFD session down"), "\(check.problems)")
    }

    func testDirectorsSendingBFDToARouterWithoutBfddAreNamed() {
        let check = BFDNexthopCheck(
            nexthops: nexthops(["198.18.0.2", "198.18.0.3"]),
            view: .notRunning(sendersHeard: [IPv4Address("198.18.0.3")!, IPv4Address("198.18.0.9")!]))
        XCTAssertEqual(check.problems.count, 1)
        XCTAssertTrue(
            check.problems[0].hasPrefix("nexthop 198.18.0.3 sends BFD, but this router runs no bfdd"),
            "\(check.problems)")
        XCTAssertEqual(
            BFDNexthopCheck(nexthops: nexthops(["198.18.0.2"]), view: .notRunning(sendersHeard: [])).problems, [],
            "no BFD anywhere is not a mismatch")
    }
}
