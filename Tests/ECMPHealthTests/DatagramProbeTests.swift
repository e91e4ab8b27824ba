@testable import ECMPCore
@testable import ECMPHealth
import Foundation
import XCTest

/// UDP, DNS and ICMP probes against real loopback sockets: a reply, a
/// closed port (ICMP port unreachable: a failure well before the timeout),
/// silence, replies from the wrong source port, wrong IDs, and a truncated
/// reply asked again over TCP.
final class DatagramProbeTests: XCTestCase {
    func target(port: Int, _ kind: HealthCheck.Kind, timeout: Duration = .seconds(2)) -> CheckTarget {
        let key = RealServerKey(
            service: .udp(.v4(IPv4Address(198, 18, 0, 100)), port: 53),
            destination: IPVSDestinationKey(IPAddress("127.0.0.1")!, port: UInt16(port)))
        return CheckTarget(
            key: key, address: IPAddress("127.0.0.1")!, port: port, check: HealthCheck(kind: kind, timeout: timeout))
    }

    /// A probe's failure and how long it took.
    func run(_ target: CheckTarget) -> (CheckFailure?, Duration) {
        let started = ContinuousClock.now
        let failure = DatagramProbe.probe(target)
        return (failure, ContinuousClock.now - started)
    }

    func testAUDPReplyMatchingThePatternIsHealthy() throws {
        let server = try UDPServer { query in [.reply(Array("pong:".utf8) + query)] }
        defer { server.stop() }
        let check = UDPCheck(payload: Array("ping".utf8), expect: BytePattern(bytes: Array("pong:ping".utf8)))
        XCTAssertNil(run(target(port: server.port, .udp(check))).0)
        let wrong = UDPCheck(payload: Array("ping".utf8), expect: BytePattern(hex: "00"))
        XCTAssertEqual(
            run(target(port: server.port, .udp(wrong))).0, .unexpectedReply("UDP reply starts 70, expected 00"))
    }

    func testAClosedUDPPortFailsAtOnceNotAtTheTimeout() throws {
        let port = try UDPServer.closedPort()
        let (failure, took) = run(target(port: port, .udp(UDPCheck(payload: [1])), timeout: .seconds(5)))
        XCTAssertEqual(failure, .unreachable("ICMP port unreachable (connection refused)"))
        XCTAssertLessThan(took, .seconds(5), "the ICMP error ended it, not the timeout")
    }

    func testSilenceIsNoReplyUnlessARreplyIsNotRequired() throws {
        let server = try UDPServer { _ in [] }
        defer { server.stop() }
        XCTAssertEqual(
            run(target(port: server.port, .udp(UDPCheck()), timeout: .milliseconds(200))).0,
            .noReply(.milliseconds(200)))
        XCTAssertNil(run(target(port: server.port, .udp(UDPCheck(requireReply: false)), timeout: .milliseconds(200))).0)
    }

    func testAReplyFromAnotherPortIsNotTaken() throws {
        // The server answers only from a second socket: the connected probe never sees it.
        let server = try UDPServer { query in [.fromOtherPort(query)] }
        defer { server.stop() }
        XCTAssertEqual(
            run(target(port: server.port, .udp(UDPCheck(payload: [7])), timeout: .milliseconds(300))).0,
            .noReply(.milliseconds(300)))
    }

    // MARK: DNS

    static func answer(to query: [UInt8], id: UInt16? = nil, flags: UInt16 = 0x8180, withA: Bool = true) -> [UInt8] {
        guard query.count >= 12 else { return [] }
        var reply = query
        if let id {
            reply[0] = UInt8(id >> 8)
            reply[1] = UInt8(id & 0xff)
        }
        reply[2] = UInt8(flags >> 8)
        reply[3] = UInt8(flags & 0xff)
        if withA {
            reply[7] = 1
            reply += [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 53]
        }
        return reply
    }

    let dns = DNSCheck(name: "svc.example", type: .a, requireAnswer: true)

    func testADNSAnswerIsHealthyAndStraysBeforeItAreIgnored() throws {
        let server = try UDPServer { query in
            let id = UInt16(query[0]) << 8 | UInt16(query[1])
            return [
                .fromOtherPort(Self.answer(to: query)),  // wrong source: dropped by the kernel
                .reply(Self.answer(to: query, id: id &+ 1)),  // wrong ID: ignored
                .reply(Self.answer(to: query, flags: 0x0100)),  // a query, not a reply: ignored
                .reply(Self.answer(to: query)),
            ]
        }
        defer { server.stop() }
        XCTAssertNil(run(target(port: server.port, .dns(dns))).0)
    }

    func testOnlyStraysIsAFailureThatSaysSo() throws {
        let server = try UDPServer { query in
            [.reply(Self.answer(to: query, id: (UInt16(query[0]) << 8 | UInt16(query[1])) &+ 1))]
        }
        defer { server.stop() }
        let failure = run(target(port: server.port, .dns(dns), timeout: .milliseconds(300))).0
        guard case .dns(let text) = failure else { return XCTFail("\(String(describing: failure))") }
        XCTAssertTrue(text.hasPrefix("no DNS reply within 300ms; ignored 1 (last: DNS reply with ID"), text)
    }

    func testWrongRcodeMissingAnswerAndHostileRepliesFailWithTheirReason() throws {
        let cases: [(@Sendable ([UInt8]) -> [UInt8], CheckFailure)] = [
            ({ Self.answer(to: $0, flags: 0x8183, withA: false) }, .dns("DNS rcode NXDOMAIN, expected NOERROR")),
            ({ Self.answer(to: $0, withA: false) }, .dns("DNS reply has no A answer for svc.example.")),
            (
                { Array(Self.answer(to: $0, withA: false).prefix(6)) + [0, 1] + [0, 0, 0, 0] + [0xc0, 12] },
                .dns("DNS reply's name pointer at byte 12 goes to 12, not back: a compression loop")
            ),
            (
                { Self.answer(to: $0) + Array(repeating: 0, count: 5000) },
                .dns("DNS reply of \(5000 + 45) bytes, over the 4096 accepted")
            ),
        ]
        for (build, expected) in cases {
            let server = try UDPServer { query in [.reply(build(query))] }
            XCTAssertEqual(run(target(port: server.port, .dns(dns))).0, expected)
            server.stop()
        }
    }

    func testAClosedDNSPortFailsAtOnce() throws {
        let port = try UDPServer.closedPort()
        let (failure, took) = run(target(port: port, .dns(dns), timeout: .seconds(5)))
        XCTAssertEqual(failure, .unreachable("ICMP port unreachable (connection refused)"))
        XCTAssertLessThan(took, .seconds(5))
    }

    func testATruncatedReplyIsAskedAgainOverTCP() throws {
        let server = try UDPServer(tcpAnswer: { query in Self.answer(to: query) }) { query in
            [.reply(Self.answer(to: query, flags: 0x8380, withA: false))]
        }
        defer { server.stop() }
        XCTAssertNil(run(target(port: server.port, .dns(dns))).0)
        XCTAssertEqual(server.tcpQueries, 1)
    }

    func testATruncatedReplyWithoutTCPFails() throws {
        let server = try UDPServer { query in [.reply(Self.answer(to: query, flags: 0x8380, withA: false))] }
        defer { server.stop() }
        let failure = run(target(port: server.port, .dns(dns))).0
        guard case .dns(let text) = failure else { return XCTFail("\(String(describing: failure))") }
        XCTAssertTrue(text.hasPrefix("reply truncated; TCP: "), text)
    }

    // MARK: Through the checker

    func testTheCheckerRunsDatagramChecksToUpAndDown() async throws {
        let server = try UDPServer { query in [.reply(Self.answer(to: query))] }
        let downs = Reasons()
        let checker = try HealthChecker(logger: .init(label: "test")) { health, transition in
            if transition.to == .down { downs.add(transition.failure?.description ?? "") }
        }
        var target = target(port: server.port, .dns(dns), timeout: .milliseconds(500))
        target.check.interval = .milliseconds(100)
        checker.update([target])
        var deadline = ContinuousClock.now + .seconds(5)
        while checker.verdicts[target.key] != .up, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTAssertEqual(checker.verdicts[target.key], .up)
        XCTAssertEqual(checker.snapshot()[target.key]?.target.kindLabel, "dns")
        server.stop()
        deadline = ContinuousClock.now + .seconds(5)
        while checker.verdicts[target.key] != .down, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTAssertEqual(checker.verdicts[target.key], .down)
        XCTAssertEqual(downs.all, ["ICMP port unreachable (connection refused)"])
        await checker.shutdown()
    }

    final class Reasons: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func add(_ reason: String) { lock.withLock { list.append(reason) } }
        var all: [String] { lock.withLock { list } }
    }

    // MARK: ICMP

    func testAnEchoToLoopbackIsAnswered() {
        // A ping socket when ping_group_range allows this group, else a raw
        // socket (the unit tier runs as root in CI).
        XCTAssertNil(run(target(port: 0, .icmp, timeout: .seconds(2))).0)
    }
}

/// A loopback UDP server answering each datagram with a scripted list of
/// datagrams; optionally a TCP listener on the same port for DNS over TCP.
final class UDPServer: @unchecked Sendable {
    enum Send {
        case reply([UInt8])
        case fromOtherPort([UInt8])
    }

    let socketFD: Int32
    let otherFD: Int32
    var tcpFD: Int32 = -1
    let port: Int
    private let lock = NSLock()
    private var stopped = false
    private var tcpCount = 0
    private var isSilent = false
    /// Signalled when the UDP thread has left its receive for good.
    private let udpExited = DispatchSemaphore(value: 0)
    var tcpQueries: Int { lock.withLock { tcpCount } }
    /// Set: datagrams are read and never answered (a hung server).
    var silent: Bool {
        get { lock.withLock { isSilent } }
        set { lock.withLock { isSilent = newValue } }
    }

    init(tcpAnswer: (@Sendable ([UInt8]) -> [UInt8])? = nil, _ script: @escaping @Sendable ([UInt8]) -> [Send]) throws {
        socketFD = try Self.bound(type: SOCK_DGRAM, port: 0)
        otherFD = try Self.bound(type: SOCK_DGRAM, port: 0)
        port = Self.port(of: socketFD)
        if let tcpAnswer {
            tcpFD = try Self.bound(type: SOCK_STREAM, port: port)
            listen(tcpFD, 4)
            Thread.detachNewThread { [self] in serveTCP(tcpAnswer) }
        }
        Thread.detachNewThread { [self] in serveUDP(script) }
    }

    /// Closes the port as a dying server would: the UDP thread is woken
    /// (shutdown) and the socket closed as soon as that thread is out of its
    /// receive, so the port is closed within a millisecond or so.
    func stop() {
        lock.withLock { stopped = true }
        shutdown(socketFD, Int32(SHUT_RDWR))
        if tcpFD >= 0 { shutdown(tcpFD, Int32(SHUT_RDWR)) }
        _ = udpExited.wait(timeout: .now() + 1)
        close(socketFD)
        close(otherFD)
        if tcpFD >= 0 {
            usleep(20_000)
            close(tcpFD)
        }
    }

    /// A port nothing listens on (bound, read, closed).
    static func closedPort() throws -> Int {
        let fd = try bound(type: SOCK_DGRAM, port: 0)
        defer { close(fd) }
        return port(of: fd)
    }

    static func bound(type: __socket_type, port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(type.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw POSIXError(.EADDRINUSE) }
        return fd
    }

    static func port(of fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func serveUDP(_ script: ([UInt8]) -> [Send]) {
        defer { udpExited.signal() }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !lock.withLock({ stopped }) {
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &peer) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(socketFD, &buffer, 65536, 0, $0, &length)
                }
            }
            guard count >= 0, !lock.withLock({ stopped }) else { return }
            if silent { continue }
            for send in script(Array(buffer.prefix(count))) {
                let (fd, bytes): (Int32, [UInt8])
                switch send {
                case .reply(let data): (fd, bytes) = (socketFD, data)
                case .fromOtherPort(let data): (fd, bytes) = (otherFD, data)
                }
                _ = withUnsafePointer(to: &peer) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
    }

    private func serveTCP(_ answer: ([UInt8]) -> [UInt8]) {
        while !lock.withLock({ stopped }) {
            let connection = accept(tcpFD, nil, nil)
            guard connection >= 0 else { return }
            var header = [UInt8](repeating: 0, count: 2)
            guard recv(connection, &header, 2, Int32(MSG_WAITALL)) == 2 else {
                close(connection)
                continue
            }
            let length = Int(header[0]) << 8 | Int(header[1])
            var query = [UInt8](repeating: 0, count: length)
            guard recv(connection, &query, length, Int32(MSG_WAITALL)) == length else {
                close(connection)
                continue
            }
            lock.withLock { tcpCount += 1 }
            let reply = answer(query)
            let framed = [UInt8(reply.count >> 8), UInt8(reply.count & 0xff)] + reply
            _ = send(connection, framed, framed.count, Int32(MSG_NOSIGNAL))
            close(connection)
        }
    }
}
