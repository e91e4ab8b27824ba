@testable import ECMPDaemon
import Foundation
import Glibc
import Logging
import ServiceLifecycle
import XCTest

/// The server on a real socket, 127.0.0.1 and an ephemeral port, driven by
/// the same blocking client `ecmpd status` uses and by raw sockets.
final class StatusServerSocketTests: XCTestCase {
    func testStatusClientReadsTheSnapshotOverTCP() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture) { port in
            let response = try await blocking {
                try StatusClient(host: "127.0.0.1", port: port, timeout: .seconds(5)).get("/status")
            }
            XCTAssertEqual(response.status, 200)
            let snapshot = try StatusSnapshot.makeDecoder().decode(StatusSnapshot.self, from: Data(response.body))
            let expected = await fixture.status.snapshot()
            XCTAssertEqual(snapshot, expected)
        }
    }

    func testUnknownPathIsNotFoundOverTCP() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture) { port in
            let response = try await blocking { try StatusClient(host: "127.0.0.1", port: port).get("/nope") }
            XCTAssertEqual(response.status, 404)
        }
    }

    func testSlowClientDoesNotBlockAnotherClientAndIsEventuallyDisconnected() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture, limits: .init(idleTimeout: .milliseconds(500))) { port in
            let slow = try RawConnection(port: port)
            defer { slow.close() }
            try slow.send("GET /heal")

            let clock = ContinuousClock()
            let start = clock.now
            let response = try await blocking {
                try StatusClient(host: "127.0.0.1", port: port, timeout: .seconds(2)).get("/healthz")
            }
            XCTAssertEqual(response.status, 200)
            XCTAssertLessThan(clock.now - start, .seconds(2))

            let closedAfter = try await blocking { try slow.waitForClose(within: .seconds(5)) }
            XCTAssertNotNil(closedAfter, "the idle timeout closes a connection that never finishes its request")
        }
    }

    func testOversizedDeclaredBodyIsRejectedOverTCP() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture, limits: .init(maxRequestBodyBytes: 64)) { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            try connection.send("POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
            let reply = try await blocking { try connection.readAvailable(within: .seconds(5)) }
            XCTAssertTrue(reply.isEmpty || reply.hasPrefix("HTTP/1.1 413"), "413 or closed, got: \(reply.prefix(40))")
        }
    }

    func testOversizedHeadersAreRejectedOverTCP() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture, limits: .init(maxHeaderBytes: 1024)) { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            try connection.send(
                "GET /status HTTP/1.1\r\nHost: x\r\nX-Padding: \(String(repeating: "a", count: 4096))\r\n\r\n")
            let reply = try await blocking { try connection.readAvailable(within: .seconds(5)) }
            XCTAssertFalse(
                reply.hasPrefix("HTTP/1.1 200"), "headers past the limit are not served: \(reply.prefix(40))")
        }
    }

    func testClientReportsAnUnreachableDaemon() async throws {
        let port = try RawConnection.unusedPort()
        do {
            _ = try await blocking {
                try StatusClient(host: "127.0.0.1", port: port, timeout: .seconds(2)).get("/status")
            }
            XCTFail("expected a failure")
        } catch let failure as StatusClient.Failure {
            XCTAssertTrue(
                failure.description.hasPrefix("cannot reach the ecmpd status endpoint at 127.0.0.1:\(port)"),
                failure.description)
        }
    }

}

// MARK: - Helpers (shared with StatusRoutesTests)

/// Runs the fixture's server on an ephemeral port until `body` finishes.
func withRunningServer(
    _ fixture: StatusFixture, limits: StatusServer.Limits = .init(), _ body: (Int) async throws -> Void
) async throws {
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let server = fixture.server(limits: limits) { port in continuation.yield(port) }
    let group = ServiceGroup(
        services: [server], gracefulShutdownSignals: [], logger: Logger(label: "ecmpd.status.test"))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            try await body(port)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// Runs blocking socket work on its own thread, off the cooperative pool
/// the server's handlers need.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result(catching: work)) }
    }
}

/// A raw TCP connection to 127.0.0.1 for requests no well-behaved client sends.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A port that was free a moment ago: bound, read back, released.
    static func unusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 ? getsockname(fd, pointer, &length) : -1
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    /// Reads a response head, or until the peer closes or `within` passes.
    func readAvailable(within limit: Duration) throws -> String {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now.advanced(by: limit)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[..<count]
            if String(decoding: received, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// How long until the peer closed, or nil if it stayed open past `within`.
    func waitForClose(within limit: Duration) throws -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        var buffer = [UInt8](repeating: 0, count: 4096)
        while clock.now - start < limit {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) > 0 else { continue }
            if recv(fd, &buffer, buffer.count, 0) <= 0 { return clock.now - start }
        }
        return nil
    }

    func close() { Glibc.close(fd) }
}
