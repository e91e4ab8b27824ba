import ECMPCore
import XCTest

final class RoutingDaemonLivenessTests: XCTestCase {
    func testTheFirstLookIsNoChangeWhetherUpOrDown() {
        var liveness = RoutingDaemonLiveness()
        XCTAssertEqual(liveness.observe(["zebra": true, "ospfd": false]), [])
        XCTAssertEqual(liveness.running, ["zebra": true, "ospfd": false])
    }

    func testAKilledDaemonGoesDownOnceAndComesBackOnce() {
        var liveness = RoutingDaemonLiveness()
        _ = liveness.observe(["zebra": true, "ospfd": true])
        XCTAssertEqual(liveness.observe(["zebra": true, "ospfd": false]), [.wentDown(daemon: "ospfd")])
        XCTAssertEqual(liveness.observe(["zebra": true, "ospfd": false]), [], "still down is no new change")
        XCTAssertEqual(liveness.observe(["zebra": true, "ospfd": true]), [.cameBack(daemon: "ospfd")])
        XCTAssertEqual(liveness.observe(["zebra": true, "ospfd": true]), [])
    }

    func testADaemonDownAtTheFirstLookComesBackWhenItStarts() {
        var liveness = RoutingDaemonLiveness()
        _ = liveness.observe(["ospfd": false])
        XCTAssertEqual(liveness.observe(["ospfd": true]), [.cameBack(daemon: "ospfd")])
    }

    func testChangesComeInDaemonNameOrderAndAnEmptyLookForgetsEverything() {
        var liveness = RoutingDaemonLiveness()
        _ = liveness.observe(["zebra": true, "ospfd": true])
        XCTAssertEqual(
            liveness.observe(["zebra": false, "ospfd": false]),
            [.wentDown(daemon: "ospfd"), .wentDown(daemon: "zebra")])
        XCTAssertEqual(liveness.observe([:]), [])
        XCTAssertEqual(liveness.observe(["ospfd": true]), [], "no longer watched, then watched again: a first look")
    }
}
