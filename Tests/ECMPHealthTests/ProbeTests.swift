@testable import ECMPCore
@testable import ECMPHealth
import ECMPRouting
import NIOCore
import NIOPosix
import XCTest

/// Each probe against a real loopback socket (or program): what a healthy
/// answer, a wrong status, a hang, a slow body, a bad digest and
/// broken TLS each come out as, and that a timeout is kept.
final class ProbeTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var servers: [TestServer] = []
    var loop: any EventLoop { group.next() }

    override func setUp() { group = MultiThreadedEventLoopGroup(numberOfThreads: 1) }
    override func tearDown() {
        for server in servers { server.stop() }
        try? group.syncShutdownGracefully()
    }

    func serve(_ script: TestServer.Script, tls: Bool = false) throws -> Int {
        let server = try TestServer(script, tls: tls ? try TestServer.selfSignedContext() : nil)
        servers.append(server)
        return server.port
    }

    func target(port: Int, _ kind: HealthCheck.Kind, timeout: Duration = .seconds(2)) -> CheckTarget {
        let key = RealServerKey(
            service: .tcp(.v4(IPv4Address(198, 18, 0, 100)), port: 80),
            destination: IPVSDestinationKey(IPAddress("127.0.0.1")!, port: UInt16(port)))
        return CheckTarget(
            key: key, address: IPAddress("127.0.0.1")!, port: port, check: HealthCheck(kind: kind, timeout: timeout))
    }

    func http(_ port: Int, _ check: HTTPCheck = HTTPCheck(), timeout: Duration = .seconds(2)) throws -> CheckOutcome {
        try HTTPProbe.run(target(port: port, .http(check), timeout: timeout), http: check, tls: TLSContexts(), on: loop)
            .wait()
    }

    /// A port nothing listens on: bound, then closed.
    func closedPort() throws -> Int {
        let server = try TestServer(.hang)
        let port = server.port
        server.stop()
        return port
    }

    // MARK: HTTP

    func testHTTP200IsHealthy() throws {
        let port = try serve(.respond(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]))
        XCTAssertNil(try http(port).failure)
    }

    func testHTTP500IsAFailureNamingTheStatus() throws {
        let port = try serve(.respond(["HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"]))
        let outcome = try http(port)
        XCTAssertEqual(outcome.failure, .unexpectedStatus(500, expected: [200]))
        XCTAssertEqual(outcome.failure?.description, "HTTP status 500, expected 200")
    }

    func testAChunkedBodyIsCheckedAgainstTheDigest() throws {
        let response = ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\n", "0\r\n\r\n"]
        let port = try serve(.respond(response, gap: .milliseconds(20), close: false))
        XCTAssertNil(
            try http(port, HTTPCheck(digest: MD5.hexDigest(of: Array("abc".utf8)))).failure,
            "complete at the last chunk, without waiting for the close")
        let wrong = String(repeating: "0", count: 32)
        let outcome = try http(port, HTTPCheck(digest: wrong))
        XCTAssertEqual(outcome.failure, .digestMismatch(got: MD5.hexDigest(of: Array("abc".utf8)), expected: wrong))
    }

    func testABodyWithoutLengthEndsAtTheClose() throws {
        let port = try serve(.respond(["HTTP/1.0 200 OK\r\n\r\n", "until close"], gap: .milliseconds(20)))
        XCTAssertNil(try http(port, HTTPCheck(digest: MD5.hexDigest(of: Array("until close".utf8)))).failure)
    }

    func testAServerThatHangsTimesOutWithinTheTimeout() throws {
        let port = try serve(.hang)
        let started = ContinuousClock.now
        let outcome = try http(port, timeout: .milliseconds(300))
        XCTAssertEqual(outcome.failure, .responseTimeout(.milliseconds(300), received: 0))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
    }

    func testASlowBodyPastTheTimeoutIsAFailure() throws {
        let pieces = ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"] + Array(repeating: "x", count: 10)
        let port = try serve(.respond(pieces, gap: .milliseconds(100)))
        let outcome = try http(port, timeout: .milliseconds(400))
        guard case .responseTimeout(_, let received)? = outcome.failure else { return XCTFail("\(outcome)") }
        XCTAssertGreaterThan(received, 0, "the head arrived, the body did not finish")
    }

    func testAConnectionClosedMidResponseIsTruncation() throws {
        let port = try serve(.respond(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]))
        XCTAssertEqual(try http(port).failure?.label, "truncated")
    }

    func testTheRequestNamesTheHostAndClosesTheConnection() {
        let check = HTTPCheck(path: "/healthz", host: "www.example.test")
        let request = HTTPProbe.request(check, target: target(port: 8080, .http(check)))
        XCTAssertEqual(
            request,
            "GET /healthz HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: ecmpd-check\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        )
        XCTAssertTrue(
            HTTPProbe.request(HTTPCheck(), target: target(port: 8080, .http(HTTPCheck()))).contains(
                "Host: 127.0.0.1:8080\r\n"))
    }

    // MARK: HTTPS

    func testHTTPSWithoutVerificationAcceptsASelfSignedCertificate() throws {
        let port = try serve(.respond(["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]), tls: true)
        XCTAssertNil(try http(port, HTTPCheck(tls: true)).failure)
    }

    func testHTTPSWithVerificationRefusesASelfSignedCertificate() throws {
        let port = try serve(.respond(["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]), tls: true)
        let outcome = try http(port, HTTPCheck(tls: true, verifyCertificate: true))
        XCTAssertEqual(outcome.failure?.label, "tls", "\(String(describing: outcome.failure))")
    }

    func testHTTPSAgainstAPlainServerIsATLSFailure() throws {
        let port = try serve(.respond(["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]))
        let outcome = try http(port, HTTPCheck(tls: true))
        XCTAssertNotNil(outcome.failure)
        XCTAssertTrue(
            ["tls", "truncated", "network"].contains(outcome.failure?.label ?? ""),
            "\(String(describing: outcome.failure))")
    }

    // MARK: Exec

    func exec(_ argv: [String], timeout: Duration = .seconds(2)) throws -> CheckOutcome {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { try? pool.syncShutdownGracefully() }
        return try ExecProbe.run(target(port: 0, .exec(argv: argv), timeout: timeout), argv: argv, pool: pool, on: loop)
            .wait()
    }

    func testAnExecCheckProgramIsToldItsRealServersAddressPortAndFamily() throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { try? pool.syncShutdownGracefully() }
        let argv = ["/bin/sh", "-c", "echo \"$ECMPD_FAMILY $ECMPD_REAL_SERVER $ECMPD_REAL_SERVER_PORT\"; exit 1"]
        for (address, family) in [("2001:db8::5", "inet6"), ("198.18.1.2", "inet")] {
            let key = RealServerKey(
                service: .tcp(.v4(IPv4Address(198, 18, 0, 100)), port: 80),
                destination: IPVSDestinationKey(IPAddress(address)!, port: 8080))
            let target = CheckTarget(
                key: key, address: IPAddress(address)!, port: 8080, check: HealthCheck(kind: .exec(argv: argv)))
            let outcome = try ExecProbe.run(target, argv: argv, pool: pool, on: loop).wait()
            XCTAssertEqual(outcome.failure?.description, "exit status 1: \(family) \(address) 8080")
        }
    }

    func testExecExitZeroIsHealthy() throws {
        XCTAssertNil(try exec(["/bin/true"]).failure)
    }

    func testExecNonZeroExitIsAFailureWithItsOutput() throws {
        let outcome = try exec(["/bin/sh", "-c", "echo database unreachable; exit 3"])
        XCTAssertEqual(outcome.failure?.description, "exit status 3: database unreachable")
    }

    func testExecPastItsTimeoutIsKilled() throws {
        let started = ContinuousClock.now
        let outcome = try exec(["/bin/sleep", "30"], timeout: .milliseconds(300))
        XCTAssertEqual(outcome.failure, .execTimeout(.milliseconds(300)))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
    }

    func testExecOfAMissingProgramSaysSo() throws {
        XCTAssertEqual(try exec(["/nonexistent/check"]).failure?.label, "exec_failed")
    }

    // MARK: Exec checks that flood their output

    /// 50 MB to stdout, then exit 0: nothing blocks on a full pipe and the
    /// check passes well within its timeout.
    func testExecThatFloodsThenExitsZeroIsHealthyWithinItsTimeout() throws {
        let started = ContinuousClock.now
        let outcome = try exec(["/usr/bin/head", "-c", "50000000", "/dev/zero"], timeout: .seconds(20))
        let took = ContinuousClock.now - started
        print("exec check writing 50,000,000 bytes then exiting 0 took \(took)")
        XCTAssertNil(outcome.failure)
        XCTAssertLessThan(took, .seconds(20))
    }

    /// A failing check's output is kept for its first line only: at most
    /// ExecProbe.outputLimit bytes of a 50 MB flood, marked as cut.
    func testExecThatFloodsThenFailsKeepsAtMostOutputLimitBytes() throws {
        let outcome = try exec(
            ["/bin/sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' x; exit 1"], timeout: .seconds(20))
        guard case .exitStatus(1, let output)? = outcome.failure else {
            return XCTFail("\(String(describing: outcome.failure))")
        }
        let marker = "\n[output truncated at \(ExecProbe.outputLimit) bytes]"
        XCTAssertTrue(output.hasSuffix(marker), String(output.suffix(80)))
        XCTAssertEqual(output.utf8.count, ExecProbe.outputLimit + marker.utf8.count)
        XCTAssertEqual(Set(output.dropLast(marker.count)), ["x"])
    }

    /// `yes` until the timeout kills it: the unlinked output file it writes
    /// into is held near the limit while it runs, never its full flood.
    func testExecThatFloodsUntilItsTimeoutDoesNotFillTheDisk() throws {
        let watcher = OutputFileWatcher()
        let thread = Thread { watcher.watch() }
        thread.start()
        let outcome = try exec(["/usr/bin/yes"], timeout: .seconds(2))
        let peak = watcher.stop()
        print(
            "exec check `yes` for 2s: output file peaked at \(peak.allocated) bytes on disk (size \(peak.size)), \(peak.samples) samples"
        )
        // Cut back every 2 ms, `yes` runs into its timeout. With the CPU
        // taken by other work the poll can come so late that the file
        // reaches ProcessRunner.fileSizeBackstop first, and the kernel ends
        // `yes` with SIGXFSZ (exit status 128 + 25): a failure either way,
        // and never more on disk than the backstop.
        let ended =
            outcome.failure == .execTimeout(.seconds(2))
            || outcome.failure.map { if case .exitStatus(128 + SIGXFSZ, _) = $0 { true } else { false } } == true
        XCTAssertTrue(ended, "\(String(describing: outcome.failure))")
        XCTAssertGreaterThan(peak.samples, 10, "the watcher saw the output file while `yes` ran")
        // Unbounded, `yes` writes 150 MB-2 GB a second here.
        XCTAssertLessThanOrEqual(peak.allocated, ProcessRunner.fileSizeBackstop + (1 << 20))
    }
}
