@testable import ECMPCore
import XCTest

/// A real server's verdict from its check results: first result decides,
/// then rise/fall in a row.
final class CheckTrackerTests: XCTestCase {
    let ok = CheckOutcome.success(latency: .milliseconds(2))
    let refused = CheckOutcome.failure(.connectionRefused, latency: .milliseconds(1))

    func testTheFirstResultDecidesAtOnce() {
        var up = CheckTracker(rise: 3, fall: 3)
        XCTAssertEqual(up.verdict, .unknown)
        XCTAssertEqual(up.record(ok), CheckTracker.Transition(from: .unknown, to: .up, failure: nil))
        var down = CheckTracker(rise: 3, fall: 3)
        XCTAssertEqual(
            down.record(refused), CheckTracker.Transition(from: .unknown, to: .down, failure: .connectionRefused))
        XCTAssertEqual(up.flaps + down.flaps, 0, "a first verdict is not a flap")
    }

    func testFallFailuresInARowTakeAServerDown() {
        var tracker = CheckTracker(rise: 2, fall: 3)
        _ = tracker.record(ok)
        XCTAssertNil(tracker.record(refused))
        XCTAssertNil(tracker.record(refused))
        let transition = tracker.record(refused)
        XCTAssertEqual(transition?.to, .down)
        XCTAssertEqual(transition?.failure, .connectionRefused)
        XCTAssertEqual(tracker.flaps, 1)
    }

    func testASuccessBetweenFailuresStartsTheCountAgain() {
        var tracker = CheckTracker(rise: 1, fall: 2)
        _ = tracker.record(ok)
        for _ in 0..<10 {
            XCTAssertNil(tracker.record(refused))
            XCTAssertNil(tracker.record(ok))
        }
        XCTAssertEqual(tracker.verdict, .up)
        XCTAssertEqual(tracker.checks, 21)
        XCTAssertEqual(tracker.lastFailure, .connectionRefused, "the last error stays visible after a recovery")
    }

    func testRiseSuccessesInARowBringItBack() {
        var tracker = CheckTracker(rise: 3, fall: 1)
        _ = tracker.record(refused)
        XCTAssertNil(tracker.record(ok))
        XCTAssertNil(tracker.record(ok))
        XCTAssertNil(tracker.record(refused), "a failure while down resets the rise count")
        XCTAssertNil(tracker.record(ok))
        XCTAssertNil(tracker.record(ok))
        XCTAssertEqual(tracker.record(ok)?.to, .up)
        XCTAssertEqual(tracker.lastLatency, .milliseconds(2))
    }

    func testFlapsCountEveryChangeBetweenUpAndDown() {
        var tracker = CheckTracker(rise: 1, fall: 1)
        for _ in 0..<5 {
            _ = tracker.record(ok)
            _ = tracker.record(refused)
        }
        XCTAssertEqual(tracker.flaps, 9)
    }

    func testRetunedKeepsTheVerdictUnderNewCounts() {
        var tracker = CheckTracker(rise: 1, fall: 5)
        _ = tracker.record(ok)
        _ = tracker.record(refused)
        var retuned = tracker.retuned(rise: 1, fall: 2)
        XCTAssertEqual(retuned.verdict, .up)
        XCTAssertEqual(retuned.record(refused)?.to, .down, "the failure before the reload still counts")
    }
}
