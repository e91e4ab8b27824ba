import ECMPCore
import XCTest

/// `min_healthy` decided in one place (`HealthPolicy.meetsMinimum`), and
/// every caller (observe mode's counter, managed mode's aggregate, the
/// policy, the last-announcer guard) agreeing with it.
final class MinimumHealthyTests: XCTestCase {
    private let start = ContinuousClock.now
    private let vip = IPv4Address(198, 18, 0, 100)
    private let thresholds: [BackendThreshold] = [
        .count(1), .count(2), .count(5), .percent(1), .percent(50), .percent(100),
    ]

    func testACountIsAbsolute() {
        let health = HealthPolicy(minimumHealthy: .count(2))
        XCTAssertEqual(health.requiredUsable(ofTotal: 10), 2)
        XCTAssertTrue(health.meetsMinimum(usable: 2, total: 10))
        XCTAssertFalse(health.meetsMinimum(usable: 1, total: 1), "a count is not capped by the total")
    }

    func testAPercentageRoundsUp() {
        let health = HealthPolicy(minimumHealthy: .percent(50))
        XCTAssertEqual(health.requiredUsable(ofTotal: 3), 2)
        XCTAssertFalse(health.meetsMinimum(usable: 1, total: 3))
        XCTAssertTrue(health.meetsMinimum(usable: 2, total: 3))
    }

    func testNeverFewerThanOneBackend() {
        XCTAssertEqual(HealthPolicy(minimumHealthy: .percent(10)).requiredUsable(ofTotal: 0), 1)
        XCTAssertEqual(HealthPolicy(minimumHealthy: .count(0)).requiredUsable(ofTotal: 4), 1, "a config built in code")
        XCTAssertFalse(HealthPolicy(minimumHealthy: .percent(50)).meetsMinimum(usable: 0, total: 0))
    }

    func testTheCounterAndThePolicyAgreeWithTheRule() {
        let identity = IPVSServiceIdentity.tcp(.v4(vip), port: 80)
        for threshold in thresholds {
            let health = HealthPolicy(minimumHealthy: threshold)
            let policy = VIPPolicy(health: health)
            for total in 0...6 {
                for usable in 0...total {
                    let expected = health.meetsMinimum(usable: usable, total: total)
                    let count = BackendCounter.aggregate([(identity, usable, total)], health: health)
                    let observation = VIPObservation(usable: count.usable, total: count.total, at: start)
                    XCTAssertEqual(policy.isGood(observation), expected, "\(threshold): \(usable) of \(total)")
                }
            }
        }
    }

    func testWouldWithdrawOnlyOnTheFallBadObservationInARow() {
        let policy = VIPPolicy(health: HealthPolicy(minimumHealthy: .count(2), fall: 3))
        let bad = VIPObservation(usable: 1, total: 3, at: start)
        let good = VIPObservation(usable: 2, total: 3, at: start)
        var state = VIPState(status: .announced)
        XCTAssertFalse(policy.wouldWithdraw(bad, in: state), "first of three")
        state = policy.observe(bad, in: state).state
        XCTAssertFalse(policy.wouldWithdraw(bad, in: state), "second of three")
        state = policy.observe(bad, in: state).state
        XCTAssertTrue(policy.wouldWithdraw(bad, in: state), "third of three")
        XCTAssertFalse(policy.wouldWithdraw(good, in: state))
    }

    func testWouldWithdrawIgnoresWhatOthersAnnounceAndHeldVIPsStillCount() {
        let policy = VIPPolicy(health: HealthPolicy(minimumHealthy: .count(1), fall: 1), guardsLastAnnouncer: true)
        let bad = VIPObservation(usable: 0, total: 2, at: start, othersAnnounce: false)
        XCTAssertTrue(
            policy.wouldWithdraw(bad, in: VIPState(status: .announced)),
            "asked before the guard's answer is known")
        let held = policy.observe(bad, in: VIPState(status: .announced)).state
        guard case .heldByLastAnnouncerGuard = held.status else { return XCTFail("\(held)") }
        XCTAssertTrue(policy.wouldWithdraw(bad, in: held))
    }

    func testWouldWithdrawIsFalseForWithdrawnAndDrainedVIPs() {
        let policy = VIPPolicy(health: HealthPolicy(minimumHealthy: .count(1), fall: 1))
        let bad = VIPObservation(usable: 0, total: 2, at: start)
        XCTAssertFalse(policy.wouldWithdraw(bad, in: VIPState(status: .withdrawn(.notYetHealthy))))
        XCTAssertFalse(policy.wouldWithdraw(bad, in: VIPState(status: .announced, isDrained: true)))
    }
}
