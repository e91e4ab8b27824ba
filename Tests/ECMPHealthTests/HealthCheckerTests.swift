@testable import ECMPCore
@testable import ECMPHealth
import Logging
import NIOCore
import XCTest

/// The scheduler: phases spread over the interval, verdicts and transitions
/// from real checks, retries, and targets replaced or removed on reload.
final class HealthCheckerTests: XCTestCase {
    func key(_ port: Int) -> RealServerKey {
        RealServerKey(
            service: .tcp(.v4(IPv4Address(198, 18, 0, 100)), port: 80),
            destination: IPVSDestinationKey(IPAddress("127.0.0.1")!, port: UInt16(port)))
    }

    func target(_ port: Int, interval: Duration = .milliseconds(100), retries: Int = 1) -> CheckTarget {
        CheckTarget(
            key: key(port), address: IPAddress("127.0.0.1")!, port: port,
            check: HealthCheck(
                kind: .tcp, interval: interval, timeout: .milliseconds(500), rise: 2, fall: 2, retries: retries,
                retryDelay: .milliseconds(50)))
    }

    func testPhasesSpreadTenThousandTargetsOverTheInterval() {
        let targets = (0..<10_000).map { index -> CheckTarget in
            var target = self.target(index % 60_000 + 1, interval: .seconds(1))
            target.key.destination = IPVSDestinationKey(
                IPAddress("198.18.\(index / 250).\(index % 250 + 1)")!, port: 80)
            return target
        }
        var buckets = [Int](repeating: 0, count: 10)
        for target in targets { buckets[Int(target.phase.nanoseconds / 100_000_000)] += 1 }
        // Uniform would be 1,000 per 100 ms; none of the buckets is far off.
        XCTAssertTrue(buckets.allSatisfy { (850...1150).contains($0) }, "\(buckets)")
    }

    func waitFor(
        _ checker: HealthChecker, timeout: Duration = .seconds(5),
        _ condition: ([RealServerKey: RealServerHealth]) -> Bool
    ) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(checker.snapshot()) { return true }
            usleep(10_000)
        }
        return false
    }

    func testVerdictsAndTransitionsFromRealChecks() async throws {
        let server = try TestServer(.hang)
        defer { server.stop() }
        let transitions = TransitionLog()
        let checker = try HealthChecker(
            logger: Logger(label: "test"),
            onTransition: { health, transition in
                transitions.append(health.target.key, transition)
            })
        let live = target(server.port)
        let closedServer = try TestServer(.hang)
        let closedPort = closedServer.port
        closedServer.stop()
        let dead = target(closedPort)
        checker.update([live, dead])
        XCTAssertTrue(waitFor(checker) { $0[live.key]?.verdict == .up && $0[dead.key]?.verdict == .down })
        let snapshot = checker.snapshot()
        XCTAssertEqual(snapshot[dead.key]?.tracker.lastFailure, .connectionRefused)
        XCTAssertNotNil(snapshot[live.key]?.tracker.lastLatency)
        // A transition is pushed just after the verdict is stored (outside
        // the checker's lock), so the snapshot can show it first.
        let deadline = ContinuousClock.now + .seconds(5)
        while Set(transitions.entries.map(\.0)).count < 2 && ContinuousClock.now < deadline { usleep(10_000) }
        XCTAssertEqual(Set(transitions.entries.map(\.0)), [live.key, dead.key])

        // Removing a target stops its checks and drops it from the snapshot.
        checker.update([live])
        XCTAssertTrue(waitFor(checker) { $0[dead.key] == nil && $0.count == 1 })
        let before = checker.snapshot()[live.key]!.tracker.checks
        XCTAssertTrue(
            waitFor(checker) { ($0[live.key]?.tracker.checks ?? 0) >= before + 3 }, "checks go on at the interval")
        await checker.shutdown()
    }

    func testRetriesHappenInsideOneCheck() async throws {
        let closedServer = try TestServer(.hang)
        let port = closedServer.port
        closedServer.stop()
        let checker = try HealthChecker(logger: Logger(label: "test"))
        let retried = target(port, interval: .seconds(10), retries: 3)
        let started = ContinuousClock.now
        checker.update([retried])
        XCTAssertTrue(waitFor(checker, timeout: .seconds(15)) { $0[retried.key]?.tracker.checks == 1 })
        // Three attempts 50 ms apart count as one failed check.
        XCTAssertEqual(checker.snapshot()[retried.key]?.verdict, .down)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(100))
        await checker.shutdown()
    }
}

final class TransitionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [(RealServerKey, CheckTracker.Transition)] = []
    func append(_ key: RealServerKey, _ transition: CheckTracker.Transition) {
        lock.withLock { list.append((key, transition)) }
    }
    var entries: [(RealServerKey, CheckTracker.Transition)] { lock.withLock { list } }
}
