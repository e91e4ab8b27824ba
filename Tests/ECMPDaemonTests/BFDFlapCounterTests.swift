import ECMPCore
@testable import ECMPDaemon
import XCTest

/// Flaps counted across reads of bfdd's sessions: ospfd deletes a session
/// whose peer went down and asks for a new one (a new id) when the
/// neighbour returns, so a flap can show as a session gone, down, or
/// replaced between two reads.
final class BFDFlapCounterTests: XCTestCase {
    let peer = IPv4Address("198.18.0.1")!

    func session(_ state: BFDSession.State, id: UInt32 = 1) -> BFDSession {
        BFDSession(peer: peer, interface: "eth0", id: id, state: state, uptimeSeconds: state == .up ? 5 : nil)
    }

    func testUpThenDownThenUpIsOneFlap() {
        var counter = BFDFlapCounter()
        XCTAssertEqual(counter.observe([session(.up)]).map(\.flaps), [0])
        XCTAssertEqual(counter.observe([session(.down)]).map(\.flaps), [1])
        XCTAssertEqual(counter.observe([session(.up)]).map(\.flaps), [1])
    }

    func testASessionGoneOrReplacedBetweenReadsIsAFlap() {
        var counter = BFDFlapCounter()
        _ = counter.observe([session(.up, id: 1)])
        XCTAssertEqual(counter.observe([session(.up, id: 2)]).map(\.flaps), [1], "replaced between reads")
        XCTAssertEqual(counter.observe([]), [])
        XCTAssertEqual(counter.observe([session(.up, id: 3)]).map(\.flaps), [2], "gone, then back")
    }

    func testASessionThatNeverCameUpIsNoFlapButAProblem() {
        var counter = BFDFlapCounter()
        _ = counter.observe([session(.down)])
        let rows = counter.observe([session(.down)])
        XCTAssertEqual(rows.map(\.flaps), [0])
        XCTAssertTrue(rows[0].problem?.contains("the peer runs no BFD") == true, "\(rows)")
        XCTAssertNil(counter.observe([session(.up)])[0].problem)
    }
}
