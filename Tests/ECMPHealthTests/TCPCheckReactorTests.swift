@testable import ECMPCore
@testable import ECMPHealth
import Foundation
import NIOConcurrencyHelpers
import XCTest

/// The TCP reactor against real loopback sockets: connected, refused and
/// timed-out connects, IPv6, the fixed-rate schedule, and that removed
/// targets leave no descriptor behind.
final class TCPCheckReactorTests: XCTestCase {
    func target(_ address: String, port: Int, interval: Duration = .seconds(10), timeout: Duration = .milliseconds(300))
        -> CheckTarget
    {
        let key = RealServerKey(
            service: .tcp(.v4(IPv4Address(198, 18, 0, 100)), port: 80),
            destination: IPVSDestinationKey(IPAddress(address)!, port: UInt16(port)))
        return CheckTarget(
            key: key, address: IPAddress(address)!, port: port,
            check: HealthCheck(kind: .tcp, interval: interval, timeout: timeout))
    }

    /// Outcomes the reactor delivered, by target.
    final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [(RealServerKey, CheckOutcome)] = []
        var keepGoing = true
        func append(_ key: RealServerKey, _ outcome: CheckOutcome) -> Bool {
            lock.withLock {
                list.append((key, outcome)); return keepGoing
            }
        }
        func of(_ key: RealServerKey) -> [CheckOutcome] { lock.withLock { list.filter { $0.0 == key }.map(\.1) } }
    }

    func reactor(_ outcomes: Outcomes) throws -> TCPCheckReactor {
        try TCPCheckReactor { key, _, outcome in outcomes.append(key, outcome) }
    }

    func waitFor(_ timeout: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }

    /// The first outcome of checking `address`:`port` once.
    func firstOutcome(_ address: String, port: Int) async throws -> CheckOutcome? {
        let outcomes = Outcomes()
        let reactor = try reactor(outcomes)
        let checked = target(address, port: port)
        reactor.add(checked, generation: 1, firstCheckIn: .zero)
        _ = waitFor { !outcomes.of(checked.key).isEmpty }
        await reactor.shutdown()
        return outcomes.of(checked.key).first
    }

    func testConnectToAListenerSucceeds() async throws {
        let listener = try RawListener("127.0.0.1")
        let outcome = try await firstOutcome("127.0.0.1", port: listener.port)
        XCTAssertNotNil(outcome)
        XCTAssertNil(outcome?.failure)
    }

    func testConnectOverIPv6Succeeds() async throws {
        let listener = try RawListener("::1")
        let outcome = try await firstOutcome("::1", port: listener.port)
        XCTAssertNotNil(outcome)
        XCTAssertNil(outcome?.failure)
    }

    func testConnectToAClosedPortIsRefused() async throws {
        let port = try RawListener("127.0.0.1").port  // closed again when the listener goes
        let outcome = try await firstOutcome("127.0.0.1", port: port)
        XCTAssertEqual(outcome?.failure, .connectionRefused)
    }

    /// A listener whose accept queue is full drops the SYN (Linux counts a
    /// ListenOverflow): the connect neither succeeds nor is refused.
    func testASilentServerTimesOutAtTheCheckTimeout() async throws {
        let listener = try RawListener("127.0.0.1", backlog: 0)
        try listener.fillAcceptQueue()
        let outcomes = Outcomes()
        let reactor = try reactor(outcomes)
        let silent = target("127.0.0.1", port: listener.port, timeout: .milliseconds(300))
        reactor.add(silent, generation: 1, firstCheckIn: .zero)
        XCTAssertTrue(waitFor { !outcomes.of(silent.key).isEmpty })
        let outcome = try XCTUnwrap(outcomes.of(silent.key).first)
        XCTAssertEqual(outcome.failure, .connectTimeout(.milliseconds(300)))
        XCTAssertGreaterThanOrEqual(outcome.latency, .milliseconds(300))
        XCTAssertLessThan(outcome.latency, .milliseconds(900))
        await reactor.shutdown()
    }

    /// Each timeout ends on its own deadline: a short one started after a
    /// long one is not held behind it (timeouts queue per distinct value).
    func testAShortTimeoutStartedAfterALongOneEndsFirst() async throws {
        let slow = try RawListener("127.0.0.1", backlog: 0)
        try slow.fillAcceptQueue()
        let quick = try RawListener("127.0.0.1", backlog: 0)
        try quick.fillAcceptQueue()
        let outcomes = Outcomes()
        let reactor = try reactor(outcomes)
        let long = target("127.0.0.1", port: slow.port, timeout: .milliseconds(1_500))
        let short = target("127.0.0.1", port: quick.port, timeout: .milliseconds(200))
        reactor.add(long, generation: 1, firstCheckIn: .zero)
        reactor.add(short, generation: 1, firstCheckIn: .milliseconds(50))
        XCTAssertTrue(waitFor { !outcomes.of(short.key).isEmpty })
        XCTAssertTrue(outcomes.of(long.key).isEmpty, "the 1.5 s timeout ended before the 200 ms one")
        let shortOutcome = try XCTUnwrap(outcomes.of(short.key).first)
        XCTAssertEqual(shortOutcome.failure, .connectTimeout(.milliseconds(200)))
        XCTAssertLessThan(shortOutcome.latency, .milliseconds(900))
        XCTAssertTrue(waitFor { !outcomes.of(long.key).isEmpty })
        let longOutcome = try XCTUnwrap(outcomes.of(long.key).first)
        XCTAssertEqual(longOutcome.failure, .connectTimeout(.milliseconds(1_500)))
        XCTAssertGreaterThanOrEqual(longOutcome.latency, .milliseconds(1_500))
        await reactor.shutdown()
    }

    func testChecksRepeatAtTheInterval() async throws {
        let listener = try RawListener("127.0.0.1")
        let outcomes = Outcomes()
        let reactor = try reactor(outcomes)
        let live = target("127.0.0.1", port: listener.port, interval: .milliseconds(100))
        reactor.add(live, generation: 1, firstCheckIn: .zero)
        try await Task.sleep(for: .milliseconds(1_050))
        await reactor.shutdown()
        // Fixed rate from the first at 0 ms: 11 by 1,050 ms, 10 allowing for a slow start.
        XCTAssertTrue((10...11).contains(outcomes.of(live.key).count), "\(outcomes.of(live.key).count) checks")
    }

    /// Fixed rate holds while the reactor is late: a check whose starts are
    /// delayed (here by another target's handler holding the reactor's
    /// thread 28 ms of every 30) still starts once per interval from where
    /// it was due. Taken from the moment it got to run, each delay pushed
    /// every later start back: about 26 checks in 3 s instead of 30.
    func testLateStartsDoNotSlowTheRate() async throws {
        let paced = try RawListener("127.0.0.1", backlog: 1_024), busy = try RawListener("127.0.0.2", backlog: 1_024)
        let outcomes = Outcomes()
        let hog = target("127.0.0.2", port: busy.port, interval: .milliseconds(30))
        let reactor = try TCPCheckReactor { key, _, outcome in
            if key == hog.key { usleep(28_000) }
            return outcomes.append(key, outcome)
        }
        let checked = target("127.0.0.1", port: paced.port, interval: .milliseconds(100))
        reactor.add(hog, generation: 1, firstCheckIn: .zero)
        reactor.add(checked, generation: 2, firstCheckIn: .milliseconds(10))
        try await Task.sleep(for: .milliseconds(3_000))
        await reactor.shutdown()
        // Due at 10, 110, ..., 2,910 ms, each at most 28 ms late: 30.
        let count = outcomes.of(checked.key).count
        XCTAssertTrue((29...31).contains(count), "\(count) checks in 3 s at a 100 ms interval")
    }

    /// A reactor held up for more than an interval does not make up the
    /// missed checks in a burst: the next start is at the check's phase
    /// after the stall. The other target's first handler call holds the
    /// thread for 350 ms; the 100 ms check at phase 50 ms then goes on at
    /// 450, 550, ... (due plus one interval would have started the ones due
    /// at 150, 250 and 350 back to back when the stall ended).
    func testAStallDoesNotBunchTheMissedChecks() async throws {
        let paced = try RawListener("127.0.0.1"), busy = try RawListener("127.0.0.2")
        let times = NIOLockedValueBox<[ContinuousClock.Instant]>([])
        let staller = target("127.0.0.2", port: busy.port, interval: .seconds(10))
        let checked = target("127.0.0.1", port: paced.port, interval: .milliseconds(100))
        let reactor = try TCPCheckReactor { key, _, _ in
            if key == staller.key { usleep(350_000) } else { times.withLockedValue { $0.append(.now) } }
            return true
        }
        // The checked target first: its phase counts from before the stall.
        let origin = ContinuousClock.now
        reactor.add(checked, generation: 2, firstCheckIn: .milliseconds(50))
        reactor.add(staller, generation: 1, firstCheckIn: .zero)
        try await Task.sleep(for: .milliseconds(1_000))
        await reactor.shutdown()
        let seen = times.withLockedValue { $0 }.map { $0 - origin }
        XCTAssertGreaterThanOrEqual(seen.count, 5, "the check goes on after the stall: \(seen)")
        // A check in flight when the stall began reports when it ends, so
        // the first outcome may sit anywhere; every later one is a start at
        // the phase (50 ms past each 100, plus the time the add took).
        let gaps = zip(seen.dropFirst(), seen).map { $0 - $1 }
        XCTAssertTrue(gaps.allSatisfy { $0 > .milliseconds(20) }, "checks bunched after the stall: \(seen)")
        let phases = seen.dropFirst().map {
            ($0.components.attoseconds / 1_000_000_000_000_000 + $0.components.seconds * 1_000) % 100
        }
        XCTAssertTrue(
            phases.allSatisfy { (45..<90).contains($0) }, "starts off their phase (ms past each 100): \(phases)")
    }

    /// A check that runs past its interval is not overlapped: the next
    /// starts when it ends. 300 ms timeouts at a 100 ms interval give one
    /// outcome every 300 ms, not ten a second.
    func testACheckLongerThanItsIntervalDelaysTheNextInsteadOfOverlapping() async throws {
        let listener = try RawListener("127.0.0.1", backlog: 0)
        try listener.fillAcceptQueue()
        let outcomes = Outcomes()
        let reactor = try reactor(outcomes)
        let silent = target("127.0.0.1", port: listener.port, interval: .milliseconds(100), timeout: .milliseconds(300))
        let before = RawListener.openDescriptors()
        reactor.add(silent, generation: 1, firstCheckIn: .zero)
        var mostOpen = 0
        let deadline = ContinuousClock.now + .milliseconds(1_050)
        while ContinuousClock.now < deadline {
            mostOpen = max(mostOpen, RawListener.openDescriptors() - before)
            usleep(10_000)
        }
        await reactor.shutdown()
        let seen = outcomes.of(silent.key)
        XCTAssertTrue((2...3).contains(seen.count), "\(seen.count) checks in 1,050 ms")
        XCTAssertTrue(seen.allSatisfy { $0.failure == .connectTimeout(.milliseconds(300)) })
        XCTAssertLessThanOrEqual(mostOpen, 1, "connects in flight at once")
    }

    /// Retries are spaced by the retry delay and end in one outcome.
    func testRetriesAreSpacedByTheRetryDelayAndReportOnce() async throws {
        let port = try RawListener("127.0.0.1").port  // closed again when the listener goes
        let outcomes = Outcomes()
        let reactor = try reactor(outcomes)
        var refused = target("127.0.0.1", port: port, interval: .seconds(10))
        refused.check.retries = 3
        refused.check.retryDelay = .milliseconds(150)
        let started = ContinuousClock.now
        reactor.add(refused, generation: 1, firstCheckIn: .zero)
        XCTAssertTrue(waitFor { !outcomes.of(refused.key).isEmpty })
        let took = ContinuousClock.now - started
        try await Task.sleep(for: .milliseconds(200))
        await reactor.shutdown()
        XCTAssertEqual(outcomes.of(refused.key).count, 1, "three attempts are one check")
        XCTAssertGreaterThanOrEqual(took, .milliseconds(300), "two retries 150 ms apart")
        XCTAssertLessThan(took, .milliseconds(1_500))
    }

    func testAHandlerThatDeclinesEndsTheTargetsChecks() async throws {
        let listener = try RawListener("127.0.0.1")
        let outcomes = Outcomes()
        outcomes.keepGoing = false
        let reactor = try reactor(outcomes)
        let live = target("127.0.0.1", port: listener.port, interval: .milliseconds(20))
        reactor.add(live, generation: 1, firstCheckIn: .zero)
        try await Task.sleep(for: .milliseconds(300))
        await reactor.shutdown()
        XCTAssertEqual(outcomes.of(live.key).count, 1)
    }

    func testAfterShutdownCommandsAndASecondShutdownDoNothing() async throws {
        let listener = try RawListener("127.0.0.1")
        let outcomes = Outcomes()
        let reactor = try reactor(outcomes)
        await reactor.shutdown()
        let late = target("127.0.0.1", port: listener.port, interval: .milliseconds(10))
        reactor.add(late, generation: 1, firstCheckIn: .zero)
        reactor.remove(late.key)
        await reactor.shutdown()
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertTrue(outcomes.of(late.key).isEmpty)
    }

    func testRemovedTargetsLeaveNoDescriptorOpen() async throws {
        let listener = try RawListener("127.0.0.1", backlog: 0)
        try listener.fillAcceptQueue()
        let outcomes = Outcomes()
        let reactor = try reactor(outcomes)
        let before = RawListener.openDescriptors()
        let pending = (0..<200).map { index -> CheckTarget in
            var each = target("127.0.0.1", port: listener.port, timeout: .seconds(30))
            each.key.destination = IPVSDestinationKey(
                IPAddress("198.18.1.\(index % 250 + 1)")!, port: UInt16(index + 1))
            return each
        }
        for each in pending { reactor.add(each, generation: 1, firstCheckIn: .zero) }
        XCTAssertTrue(waitFor { RawListener.openDescriptors() >= before + 200 }, "200 connects in flight")
        for each in pending { reactor.remove(each.key) }
        XCTAssertTrue(
            waitFor { RawListener.openDescriptors() <= before },
            "\(RawListener.openDescriptors()) open, \(before) before")
        await reactor.shutdown()
        XCTAssertTrue(pending.allSatisfy { outcomes.of($0.key).isEmpty }, "no outcome for a removed target")
    }
}

/// A plain listening socket (no accept loop): connects complete in the
/// kernel until the accept queue is full.
final class RawListener {
    let descriptor: Int32
    let port: Int
    private var fillers: [Int32] = []

    init(_ address: String, backlog: Int32 = 64) throws {
        let v6 = address.contains(":")
        let descriptor = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        let bound: Int32
        if v6 {
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            inet_pton(AF_INET6, address, &socketAddress.sin6_addr)
            bound = Self.bindToAnyPort(descriptor, &socketAddress)
            port = Int(UInt16(bigEndian: socketAddress.sin6_port))
        } else {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, address, &socketAddress.sin_addr)
            bound = Self.bindToAnyPort(descriptor, &socketAddress)
            port = Int(UInt16(bigEndian: socketAddress.sin_port))
        }
        guard bound == 0, listen(descriptor, backlog) == 0 else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
    }

    /// Queues connections nobody accepts until the kernel drops new SYNs.
    func fillAcceptQueue() throws {
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, "127.0.0.1", &socketAddress.sin_addr)
        for _ in 0..<3 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            fillers.append(client)
        }
        usleep(100_000)
    }

    /// bind(2) with port 0, then the chosen port read back into `address`.
    private static func bindToAnyPort<Address>(_ descriptor: Int32, _ address: inout Address) -> Int32 {
        var length = socklen_t(MemoryLayout<Address>.size)
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                let bound = bind(descriptor, raw, length)
                _ = getsockname(descriptor, raw, &length)
                return bound
            }
        }
    }

    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    deinit {
        for filler in fillers { close(filler) }
        close(descriptor)
    }
}

/// A `via_vip` probe whose pair got no mark fails at once, saying so and
/// naming the VIP path (the probe itself needs CAP_NET_ADMIN and IPVS: the
/// kernel tier's ManagedChecksLabTests).
final class TCPCheckReactorVIPPathTests: XCTestCase {
    func outcome(realServer: String, mark: UInt32?) async throws -> CheckOutcome? {
        let outcomes = TCPCheckReactorTests.Outcomes()
        let reactor = try TCPCheckReactor { key, _, outcome in outcomes.append(key, outcome) }
        let vip = IPv4Address(198, 18, 0, 100)
        let key = RealServerKey(
            service: .tcp(.v4(vip), port: 80), destination: IPVSDestinationKey(IPAddress(realServer)!, port: 80))
        let target = CheckTarget(
            key: key, address: IPAddress(realServer)!, port: 80,
            check: HealthCheck(kind: .tcp, interval: .seconds(10), timeout: .milliseconds(300), viaVIP: true),
            viaVIP: CheckTarget.VIPPath(vip: vip, mark: mark))
        reactor.add(target, generation: 1, firstCheckIn: .zero)
        let deadline = ContinuousClock.now + .seconds(5)
        while outcomes.of(key).isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        await reactor.shutdown()
        return outcomes.of(key).first
    }

    func testAPairWithoutAMarkFailsSayingSo() async throws {
        let result = try await outcome(realServer: "127.0.0.1", mark: nil)
        XCTAssertEqual(
            result?.failure?.description,
            "via VIP path 198.18.0.100:80: no firewall mark free for this VIP path (the mark range is full)")
    }
}
