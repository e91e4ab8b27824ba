import ECMPCore
import XCTest

/// The VIP policy with an injected clock: every observation is one second
/// after the previous, unless a test says otherwise.
final class VIPPolicyTests: XCTestCase {
    private let start = ContinuousClock.now

    private func policy(
        minimum: BackendThreshold = .count(2), rise: Int = 3, fall: Int = 2, holdDown: Duration = .seconds(10),
        guardsLastAnnouncer: Bool = false
    ) -> VIPPolicy {
        VIPPolicy(
            health: HealthPolicy(minimumHealthy: minimum, rise: rise, fall: fall, holdDown: holdDown),
            guardsLastAnnouncer: guardsLastAnnouncer)
    }

    /// Feeds `(usable, total)` pairs one second apart from `second`,
    /// returning the last state and every transition.
    private func run(
        _ policy: VIPPolicy, from state: VIPState, _ inputs: [(Int, Int)], second: Int = 1,
        othersAnnounce: Bool? = nil
    ) -> (state: VIPState, transitions: [VIPTransition]) {
        var state = state
        var transitions: [VIPTransition] = []
        for (offset, input) in inputs.enumerated() {
            let step = policy.observe(
                VIPObservation(
                    usable: input.0, total: input.1, at: at(second + offset), othersAnnounce: othersAnnounce), in: state
            )
            state = step.state
            if let transition = step.transition { transitions.append(transition) }
        }
        return (state, transitions)
    }

    private func at(_ second: Int) -> ContinuousClock.Instant { start + .seconds(second) }

    private func announced(_ policy: VIPPolicy) -> VIPState { policy.adopt(onLoopback: true, at: start).state }
    private func absent(_ policy: VIPPolicy) -> VIPState { policy.adopt(onLoopback: false, at: start).state }

    // MARK: fall

    func testWithdrawsAfterFallConsecutiveBadObservations() {
        let policy = policy(fall: 3)
        let result = run(policy, from: announced(policy), [(1, 2), (1, 2), (1, 2)])
        XCTAssertEqual(result.transitions.map(\.action), [.withdraw])
        XCTAssertEqual(result.transitions.first?.at, at(3))
        XCTAssertEqual(result.transitions.first?.reason, "1 of 2 backends usable, below minimum 2, for 3 observations")
        XCTAssertEqual(
            result.state.status, .withdrawn(.belowMinimum(usable: 1, total: 2, required: 2, observations: 3)))
    }

    func testStaysAnnouncedWhenBadObservationsAreInterruptedByAGoodOne() {
        let policy = policy(fall: 3)
        let result = run(policy, from: announced(policy), [(1, 2), (1, 2), (2, 2), (1, 2), (1, 2)])
        XCTAssertEqual(result.transitions, [])
        XCTAssertTrue(result.state.isAnnounced)
        XCTAssertEqual(result.state.consecutiveBad, 2)
    }

    // MARK: rise and hold-down

    func testReannouncesAfterRiseConsecutiveGoodObservationsOnceHoldDownIsOver() {
        let policy = policy(rise: 3, fall: 1, holdDown: .seconds(2))
        let result = run(policy, from: announced(policy), [(0, 2), (2, 2), (2, 2), (2, 2)])
        XCTAssertEqual(result.transitions.map(\.action), [.withdraw, .announce])
        XCTAssertEqual(result.transitions.last?.at, at(4))
        XCTAssertEqual(
            result.transitions.last?.reason,
            "2 of 2 backends usable, at least minimum 2, for 3 observations; hold-down of 2s over")
    }

    func testHoldDownDelaysReannouncementBeyondRise() {
        let policy = policy(rise: 1, fall: 1, holdDown: .seconds(10))
        // Withdrawn at second 1; good from second 2; hold-down ends at 11.
        let result = run(policy, from: announced(policy), [(0, 2)] + Array(repeating: (2, 2), count: 12))
        XCTAssertEqual(result.transitions.map(\.action), [.withdraw, .announce])
        XCTAssertEqual(result.transitions.last?.at, at(11))
    }

    func testHoldDownEndIsVisibleWhileWaiting() {
        let policy = policy(rise: 1, fall: 1, holdDown: .seconds(10))
        let result = run(policy, from: announced(policy), [(0, 2), (2, 2)])
        XCTAssertFalse(result.state.isAnnounced)
        XCTAssertEqual(policy.holdDownEnds(result.state), at(11))
    }

    func testBadObservationDuringRiseRestartsTheCount() {
        let policy = policy(rise: 3, fall: 1, holdDown: .zero)
        let result = run(policy, from: announced(policy), [(0, 2), (2, 2), (2, 2), (1, 2), (2, 2), (2, 2)])
        XCTAssertEqual(result.transitions.map(\.action), [.withdraw])
        XCTAssertEqual(result.state.consecutiveGood, 2)
        XCTAssertEqual(
            result.state.status, .withdrawn(.belowMinimum(usable: 1, total: 2, required: 2, observations: 1)),
            "the reason carries the newest bad observation")
    }

    // MARK: minimum

    func testMinimumCountOfUsableBackends() {
        let policy = policy(minimum: .count(2), fall: 1)
        XCTAssertTrue(policy.isGood(VIPObservation(usable: 2, total: 5, at: start)))
        XCTAssertFalse(policy.isGood(VIPObservation(usable: 1, total: 5, at: start)))
        XCTAssertFalse(
            policy.isGood(VIPObservation(usable: 1, total: 1, at: start)),
            "a count is absolute, not capped by the total")
    }

    func testMinimumPercentRoundsUp() {
        let policy = policy(minimum: .percent(50), fall: 1)
        XCTAssertTrue(policy.isGood(VIPObservation(usable: 2, total: 4, at: start)))
        XCTAssertFalse(policy.isGood(VIPObservation(usable: 1, total: 3, at: start)), "50% of 3 is 2 backends")
        XCTAssertTrue(policy.isGood(VIPObservation(usable: 2, total: 3, at: start)))
        let result = run(policy, from: announced(policy), [(1, 3)])
        XCTAssertEqual(result.transitions.first?.reason, "1 of 3 backends usable, below minimum 2, for 1 observation")
    }

    func testNoBackendsIsNeverEnough() {
        XCTAssertFalse(policy(minimum: .percent(50)).isGood(VIPObservation(usable: 0, total: 0, at: start)))
        XCTAssertFalse(policy(minimum: .count(1)).isGood(VIPObservation(usable: 0, total: 0, at: start)))
    }

    // MARK: drain

    func testDrainWithdrawsAtOnceRegardlessOfHealth() {
        let policy = policy()
        let step = policy.drain(announced(policy), at: at(5))
        XCTAssertEqual(step.transition, VIPTransition(.withdraw, reason: "drained by an operator", at: at(5)))
        XCTAssertEqual(step.state.status, .withdrawn(.drained))
        let later = run(policy, from: step.state, Array(repeating: (2, 2), count: 10), second: 6)
        XCTAssertEqual(later.transitions, [], "healthy backends do not end a drain")
        XCTAssertEqual(later.state.status, .withdrawn(.drained))
    }

    func testUndrainReannouncesAtOnceWhenHealthyBecauseDrainsStartNoHoldDown() {
        let policy = policy(rise: 3, holdDown: .seconds(60))
        let drained = policy.drain(announced(policy), at: at(0)).state
        let healthy = run(policy, from: drained, [(2, 2), (2, 2), (2, 2)]).state
        let step = policy.undrain(healthy, at: at(4))
        XCTAssertEqual(step.transition?.action, .announce)
        XCTAssertEqual(
            step.transition?.reason, "undrained; 2 of 2 backends usable, at least minimum 2, for 3 observations")
        XCTAssertEqual(step.state.status, .announced)
    }

    func testUndrainWaitsForRiseWhenNotYetHealthy() {
        let policy = policy(rise: 3)
        let drained = policy.drain(announced(policy), at: at(0)).state
        let sick = run(policy, from: drained, [(0, 2)]).state
        let step = policy.undrain(sick, at: at(2))
        XCTAssertNil(step.transition)
        XCTAssertEqual(step.state.status, .withdrawn(.belowMinimum(usable: 0, total: 2, required: 2, observations: 1)))
        let result = run(policy, from: step.state, [(2, 2), (2, 2), (2, 2)], second: 3)
        XCTAssertEqual(result.transitions.map(\.action), [.announce])
        XCTAssertEqual(result.transitions.first?.at, at(5))
    }

    func testDrainOfAWithdrawnVIPIsNoTransition() {
        let policy = policy()
        XCTAssertNil(policy.drain(absent(policy), at: at(1)).transition)
    }

    // MARK: last-announcer guard

    func testLastAnnouncerGuardHoldsAWithdrawalAndSaysWhy() {
        let policy = policy(fall: 2, guardsLastAnnouncer: true)
        let result = run(policy, from: announced(policy), [(0, 2), (0, 2), (0, 2)], othersAnnounce: false)
        XCTAssertEqual(result.transitions, [])
        XCTAssertTrue(result.state.isAnnounced)
        XCTAssertEqual(
            result.state.status,
            .heldByLastAnnouncerGuard(.belowMinimum(usable: 0, total: 2, required: 2, observations: 3)))
        XCTAssertTrue(result.state.description.contains("no other director announces it"), result.state.description)
    }

    func testHeldWithdrawalHappensOnceAnotherDirectorAnnounces() {
        let policy = policy(fall: 2, guardsLastAnnouncer: true)
        let held = run(policy, from: announced(policy), [(0, 2), (0, 2)], othersAnnounce: false).state
        let result = run(policy, from: held, [(0, 2)], second: 3, othersAnnounce: true)
        XCTAssertEqual(result.transitions.map(\.action), [.withdraw])
        XCTAssertEqual(
            result.transitions.first?.reason,
            "0 of 2 backends usable, below minimum 2, for 3 observations; another director announces it again")
    }

    func testHeldWithdrawalIsReleasedWhenBackendsRecover() {
        let policy = policy(fall: 2, guardsLastAnnouncer: true)
        let held = run(policy, from: announced(policy), [(0, 2), (0, 2)], othersAnnounce: false).state
        let result = run(policy, from: held, [(2, 2)], second: 3, othersAnnounce: false)
        XCTAssertEqual(result.transitions, [])
        XCTAssertEqual(result.state.status, .announced)
    }

    func testGuardDoesNothingWhenPeersAreUnknownOrTheGuardIsOff() {
        let guarded = policy(fall: 1, guardsLastAnnouncer: true)
        XCTAssertEqual(
            run(guarded, from: announced(guarded), [(0, 2)], othersAnnounce: nil).transitions.map(\.action), [.withdraw]
        )
        let unguarded = policy(fall: 1)
        XCTAssertEqual(
            run(unguarded, from: announced(unguarded), [(0, 2)], othersAnnounce: false).transitions.map(\.action),
            [.withdraw])
    }

    func testGuardNeverHoldsADrain() {
        let policy = policy(guardsLastAnnouncer: true)
        XCTAssertEqual(policy.drain(announced(policy), at: at(1)).transition?.action, .withdraw)
    }

    // MARK: start-up adoption

    func testAdoptsAVIPAlreadyOnLoopbackWithoutATransition() {
        let policy = policy(rise: 3, fall: 3)
        let step = policy.adopt(onLoopback: true, at: start)
        XCTAssertNil(step.transition)
        XCTAssertEqual(step.state.status, .announced)
        // Health unknown yet: it stays until `fall` bad observations, even with fewer than `rise` good ones.
        let result = run(policy, from: step.state, [(2, 2), (1, 2), (1, 2)])
        XCTAssertEqual(result.transitions, [])
        XCTAssertEqual(run(policy, from: result.state, [(1, 2)], second: 4).transitions.map(\.action), [.withdraw])
    }

    func testStartsWithdrawnWithoutHoldDownWhenTheVIPIsNotOnLoopback() {
        let policy = policy(rise: 2, holdDown: .seconds(300))
        let step = policy.adopt(onLoopback: false, at: start)
        XCTAssertNil(step.transition)
        XCTAssertEqual(step.state.status, .withdrawn(.notYetHealthy))
        let result = run(policy, from: step.state, [(2, 2), (2, 2)])
        XCTAssertEqual(result.transitions.map(\.action), [.announce])
        XCTAssertEqual(
            result.transitions.first?.reason, "2 of 2 backends usable, at least minimum 2, for 2 observations")
    }

    func testADrainedVIPFoundOnLoopbackAtStartIsWithdrawn() {
        let step = policy().adopt(onLoopback: true, drained: true, at: start)
        XCTAssertEqual(step.transition?.action, .withdraw)
        XCTAssertEqual(step.state.status, .withdrawn(.drained))
    }

    // MARK: flapping

    /// Up/down on every observation for ten minutes with rise 1, fall 1 and
    /// a 10 s hold-down: each withdrawal is followed by at least 10 s
    /// withdrawn, so one cycle is withdraw at a bad second, re-announce at
    /// the first good second ≥ 10 s later (11 s on), withdraw at the next
    /// bad one: a 12 s cycle, 2 transitions each.
    func testFlappingBackendsAreDampedByHoldDown() {
        let policy = policy(rise: 1, fall: 1, holdDown: .seconds(10))
        let seconds = 600
        let inputs = (1...seconds).map { $0 % 2 == 1 ? (0, 2) : (2, 2) }
        let result = run(policy, from: announced(policy), inputs)
        XCTAssertEqual(result.transitions.count, 100)
        XCTAssertLessThanOrEqual(
            result.transitions.count, 2 * (seconds / 10 + 1), "at most one withdraw and one announce per hold-down")
        let withdrawals = result.transitions.filter { $0.action == .withdraw }.map(\.at)
        let announcements = result.transitions.filter { $0.action == .announce }.map(\.at)
        for (withdrawn, announced) in zip(withdrawals, announcements) {
            XCTAssertGreaterThanOrEqual(announced - withdrawn, .seconds(10))
        }
    }

    func testFlappingFasterThanRiseAndFallNeverTransitions() {
        let policy = policy(rise: 2, fall: 2, holdDown: .zero)
        let inputs = (1...1000).map { $0 % 2 == 1 ? (0, 2) : (2, 2) }
        XCTAssertEqual(run(policy, from: announced(policy), inputs).transitions, [])
        XCTAssertEqual(run(policy, from: absent(policy), inputs).transitions, [])
    }

    func testTransitionsAlternateOnIrregularInput() {
        let policy = policy(rise: 1, fall: 1, holdDown: .seconds(3))
        // A fixed pseudo-random pattern (linear congruential), so the test is repeatable.
        var seed: UInt32 = 12345
        let inputs = (1...300).map { _ -> (Int, Int) in
            seed = seed &* 1_103_515_245 &+ 12345
            return seed >> 16 & 1 == 0 ? (0, 2) : (2, 2)
        }
        let actions = run(policy, from: announced(policy), inputs).transitions.map(\.action)
        for (previous, next) in zip(actions, actions.dropFirst()) { XCTAssertNotEqual(previous, next) }
        XCTAssertGreaterThan(actions.count, 20, "the pattern should flap the VIP many times")
        XCTAssertEqual(actions.first, .withdraw)
    }
}
