@testable import ECMPHealth
import XCTest

/// The fixed-rate schedule's arithmetic (nanoseconds; interval 100).
final class FixedRateTests: XCTestCase {
    func testOnTimeAndLateStartsKeepTheDueCadence() {
        XCTAssertEqual(FixedRate.next(due: 1_000, started: 1_000, interval: 100).start, 1_100)
        XCTAssertEqual(
            FixedRate.next(due: 1_000, started: 1_030, interval: 100).start, 1_100,
            "30 late: still due plus the interval")
        XCTAssertEqual(FixedRate.next(due: 1_000, started: 1_099, interval: 100).start, 1_100)
        XCTAssertTrue(FixedRate.next(due: 1_000, started: 1_099, interval: 100).inStep)
    }

    func testAStartBeforeItsDueTimeCountsAsOnTime() {
        XCTAssertEqual(FixedRate.next(due: 1_000, started: 990, interval: 100).start, 1_100)
        XCTAssertTrue(FixedRate.next(due: 1_000, started: 990, interval: 100).inStep)
    }

    func testAWholeIntervalBehindSkipsToTheNextStartAtTheSamePhase() {
        // Phase 0 mod 100: due at 1,000, started at 1,250 -> 1,300, not 1,100.
        XCTAssertEqual(FixedRate.next(due: 1_000, started: 1_250, interval: 100).start, 1_300)
        XCTAssertFalse(FixedRate.next(due: 1_000, started: 1_250, interval: 100).inStep)
        // Exactly one interval late: the next slot, one interval on.
        XCTAssertEqual(FixedRate.next(due: 1_000, started: 1_100, interval: 100).start, 1_200)
        // Phase 30: due at 1,030, started at 5,000 -> 5,030.
        XCTAssertEqual(FixedRate.next(due: 1_030, started: 5_000, interval: 100).start, 5_030)
    }

    func testTheNextStartIsAlwaysAfterTheStart() {
        for late in stride(from: UInt64(0), through: 1_000, by: 7) {
            let next = FixedRate.next(due: 10_000, started: 10_000 + late, interval: 100).start
            XCTAssertGreaterThan(next, 10_000 + late, "late \(late)")
            XCTAssertLessThanOrEqual(next - (10_000 + late), 100, "late \(late)")
            XCTAssertEqual(next % 100, 0, "the phase is kept (late \(late))")
        }
    }
}
