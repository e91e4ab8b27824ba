import ECMPCore
import ECMPTestSupport
import Foundation
import XCTest

/// docs/benchmarks.md, "Withdrawal and re-announcement": `make
/// bench-controller` runs it in the VM (ECMPD_BENCH=1); plain kernel-tier
/// runs leave it out with --skip.
///
/// Withdrawal: from the genetlink call that sets the last backend's weight
/// to 0 on d1 to the router kernel's route losing d1 (woken by rtnetlink
/// events in the router's namespace). Re-announcement: from weights back
/// to the route having d1 again, with hold_down 0 so it measures rise ×
/// poll plus OSPF, not the damping an operator chooses.
final class ControllerBenchmarkTests: XCTestCase {
    func testWithdrawalAndReannouncementLatency() throws {
        try KernelTier.requireVM()
        guard ProcessInfo.processInfo.environment["ECMPD_BENCH"] == "1" else {
            throw XCTSkip("benchmark: run with ECMPD_BENCH=1 (make bench-controller)")
        }
        let trials = Int(ProcessInfo.processInfo.environment["ECMPD_BENCH_TRIALS"] ?? "") ?? 50
        let poll = ProcessInfo.processInfo.environment["ECMPD_BENCH_POLL"] ?? "100ms"
        let fall = 2, rise = 2
        // ECMPD_BENCH_FAST=0 renders without the fast-convergence timers
        // (FRR's defaults), to show what they are worth.
        let fast = ProcessInfo.processInfo.environment["ECMPD_BENCH_FAST"] != "0"
        let fleet = try ControllerFleet(poll: poll, fall: fall, rise: rise, holdDown: "0s", fastConvergence: fast)
        defer { fleet.tearDown() }
        try fleet.start()
        let both = fleet.bothDirectors, d2: Set = [fleet.directors[1].address]
        XCTAssertNotNil(
            try fleet.waitForNexthops(both, timeout: .seconds(120)), "fleet never converged:\n\(fleet.log(0))")
        let clock = ContinuousClock()
        var withdrawals: [Duration] = [], announcements: [Duration] = []
        for trial in 1...trials {
            let start = clock.now
            try fleet.setWeights(0, to: 0)
            guard let seen = try fleet.waitForNexthops(d2, timeout: .seconds(60)) else {
                return XCTFail("trial \(trial): d1 never left the route")
            }
            withdrawals.append(seen - start)
            // Let the withdrawal settle on every side before the next edge.
            Thread.sleep(forTimeInterval: 0.3)
            let back = clock.now
            try fleet.setWeights(0, to: 1)
            guard let regained = try fleet.waitForNexthops(both, timeout: .seconds(60)) else {
                return XCTFail("trial \(trial): d1 never returned")
            }
            announcements.append(regained - back)
            Thread.sleep(forTimeInterval: 0.3)
        }
        func ms(_ d: Duration) -> Double {
            Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        func summary(_ values: [Duration]) -> String {
            let sorted = values.map(ms).sorted()
            let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
            return String(
                format: "median %.0f ms, p99 %.0f ms, min %.0f ms, max %.0f ms", sorted[sorted.count / 2], p99,
                sorted.first!, sorted.last!)
        }
        let pollMS = ms(DurationParser.parse(poll)!)
        print(
            "BENCH controller trials=\(trials) poll=\(poll) fall=\(fall) rise=\(rise) hold_down=0s fast_convergence=\(fast)"
        )
        print(
            "BENCH withdraw: \(summary(withdrawals)); goal < \(String(format: "%.0f", 1.5 * pollMS * Double(fall) + 50)) ms (1.5 x poll x fall + 50 ms)"
        )
        print("BENCH re-announce: \(summary(announcements)); goal < 1000 ms")
        print("BENCH raw withdraw ms: \(withdrawals.map { String(format: "%.0f", ms($0)) }.joined(separator: " "))")
        print(
            "BENCH raw re-announce ms: \(announcements.map { String(format: "%.0f", ms($0)) }.joined(separator: " "))")
    }
}
