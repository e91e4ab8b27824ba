@testable import ECMPCore
@testable import ECMPHealth
import Foundation
import Logging
import XCTest

/// docs/benchmarks.md, "UDP and DNS detection": `make
/// bench-udp-checks` runs it (ECMPD_BENCH=1); `make test` leaves it out.
///
/// From a fault at a random point of the check interval to the
/// `HealthChecker`'s down transition, for `type: udp` and `type: dns`
/// checks against a loopback responder: the responder's socket closed (the
/// kernel answers the next probe with ICMP port unreachable) or the
/// responder silent (the probe waits out its timeout). Interval 200 ms,
/// timeout 500 ms, fall 1: detection is the wait for the next check plus,
/// for silence, the timeout.
final class DatagramDetectionBenchmarkTests: XCTestCase {
    let interval = Duration.milliseconds(200)
    let timeout = Duration.milliseconds(500)

    func testDetectionOfAClosedPortAndOfSilence() throws {
        guard ProcessInfo.processInfo.environment["ECMPD_BENCH"] == "1" else {
            throw XCTSkip("benchmark: run with ECMPD_BENCH=1 (make bench-udp-checks)")
        }
        let trials = Int(ProcessInfo.processInfo.environment["ECMPD_BENCH_TRIALS"] ?? "") ?? 100
        let kinds: [(String, HealthCheck.Kind)] = [
            ("udp", .udp(UDPCheck(payload: Array("ping".utf8), expect: BytePattern(bytes: Array("ping".utf8))))),
            ("dns", .dns(DNSCheck(name: "svc.example", type: .a, requireAnswer: true))),
        ]
        for (name, kind) in kinds {
            for fault in ["unreachable", "timeout"] {
                var samples: [Double] = []
                var reasons: [String: Int] = [:]
                for _ in 0..<trials {
                    let (seconds, reason) = try trial(kind, closePort: fault == "unreachable")
                    samples.append(seconds)
                    reasons[reason, default: 0] += 1
                }
                samples.sort()
                let median = samples[samples.count / 2]
                let p99 = samples[min(samples.count - 1, Int((Double(samples.count) * 0.99).rounded(.up)) - 1)]
                print(
                    String(
                        format: "BENCH %@ %@ trials %d median %.0f ms p99 %.0f ms max %.0f ms reasons %@", name, fault,
                        trials, median * 1000, p99 * 1000, samples.last! * 1000, "\(reasons)"))
            }
        }
    }

    /// One fault: the seconds from it to the down transition, and the reason.
    func trial(_ kind: HealthCheck.Kind, closePort: Bool) throws -> (Double, String) {
        let server = try UDPServer { query in
            if case .dns = kind { return [.reply(DatagramProbeTests.answer(to: query))] }
            return [.reply(query)]
        }
        let down = DownRecorder()
        let checker = try HealthChecker(logger: Logger(label: "bench")) { _, transition in
            if transition.to == .down { down.record(transition.failure.map { "\($0.label)" } ?? "") }
        }
        defer {
            server.stop()
            let done = DispatchSemaphore(value: 0)
            Task {
                await checker.shutdown()
                done.signal()
            }
            done.wait()
        }
        let key = RealServerKey(
            service: .udp(.v4(IPv4Address(198, 18, 0, 100)), port: 53),
            destination: IPVSDestinationKey(IPAddress("127.0.0.1")!, port: UInt16(server.port)))
        checker.update([
            CheckTarget(
                key: key, address: IPAddress("127.0.0.1")!, port: server.port,
                check: HealthCheck(kind: kind, interval: interval, timeout: timeout, rise: 1, fall: 1))
        ])
        let upBy = ContinuousClock.now + .seconds(5)
        while checker.verdicts[key] != .up {
            guard ContinuousClock.now < upBy else { throw BenchFailure(text: "never up") }
            usleep(5_000)
        }
        // A random point of the interval.
        usleep(UInt32.random(in: 0..<200_000))
        // The fault starts as stop() begins (the socket is closed within
        // about a millisecond of it); silence starts at once.
        let faultAt = ContinuousClock.now
        if closePort {
            server.stop()
        } else {
            server.silent = true
        }
        guard let (at, reason) = down.wait(until: faultAt + .seconds(5)) else { throw BenchFailure(text: "never down") }
        let elapsed = at - faultAt
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, reason)
    }

    struct BenchFailure: Error { var text: String }

    final class DownRecorder: @unchecked Sendable {
        private let lock = NSCondition()
        private var first: (ContinuousClock.Instant, String)?

        func record(_ reason: String) {
            lock.lock()
            if first == nil { first = (ContinuousClock.now, reason) }
            lock.broadcast()
            lock.unlock()
        }

        func wait(until deadline: ContinuousClock.Instant) -> (ContinuousClock.Instant, String)? {
            lock.lock()
            defer { lock.unlock() }
            while first == nil && ContinuousClock.now < deadline {
                _ = lock.wait(until: Date().addingTimeInterval(0.01))
            }
            return first
        }
    }
}
