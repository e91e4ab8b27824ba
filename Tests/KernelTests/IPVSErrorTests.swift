import ECMPCore
import ECMPNetlink
import XCTest

/// Failures carry the kernel's errno (not libnl's folded code) and read as
/// something an operator can act on.
final class IPVSErrorTests: IPVSKernelTestCase {
    private let web = IPVSService(.tcp(IPAddress("198.18.0.1")!, port: 80), scheduler: "rr")
    private let real = IPVSDestination(IPAddress("198.18.1.1")!, port: 80)

    private func assertFails(
        _ body: () throws -> Void, errno expected: Int32, saying text: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? NetlinkError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.errno, expected, "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(text), "\(error)", file: file, line: line)
        }
    }

    func testDuplicateServiceIsEEXIST() throws {
        try client.addService(web)
        assertFails(
            { try client.addService(web) }, errno: EEXIST,
            saying: "add service TCP 198.18.0.1:80: already exists")
    }

    func testDuplicateDestinationIsEEXIST() throws {
        try client.addService(web)
        try client.addDestination(real, to: web.identity)
        assertFails({ try client.addDestination(real, to: web.identity) }, errno: EEXIST, saying: "already exists")
    }

    func testMissingDestinationIsENOENT() throws {
        try client.addService(web)
        assertFails(
            { try client.deleteDestination(real.key, from: web.identity) }, errno: ENOENT,
            saying: "delete destination 198.18.1.1:80 from TCP 198.18.0.1:80: no such destination")
        assertFails(
            { try client.editDestination(real, of: web.identity) }, errno: ENOENT, saying: "no such destination")
    }

    func testMissingServiceIsESRCH() throws {
        assertFails({ _ = try client.destinations(of: web.identity) }, errno: ESRCH, saying: "no such service")
        assertFails({ _ = try client.service(web.identity) }, errno: ESRCH, saying: "no such service")
        assertFails({ try client.deleteService(web.identity) }, errno: ESRCH, saying: "no such service")
        assertFails({ try client.editService(web) }, errno: ESRCH, saying: "no such service")
        assertFails({ try client.addDestination(real, to: web.identity) }, errno: ESRCH, saying: "no such service")
    }

    func testUnknownSchedulerNamesItsModule() throws {
        var unknown = web
        unknown.scheduler = "nosuch"
        assertFails(
            { try client.addService(unknown) }, errno: ENOENT,
            saying: "unknown scheduler 'nosuch' (is ip_vs_nosuch loaded?)")
        try client.addService(web)
        assertFails({ try client.editService(unknown) }, errno: ENOENT, saying: "unknown scheduler 'nosuch'")
    }

    func testNegativeWeightIsOutOfRange() throws {
        try client.addService(web)
        var negative = real
        negative.weight = -1
        assertFails({ try client.addDestination(negative, to: web.identity) }, errno: ERANGE, saying: "out of range")
    }

    func testFirewallMarkZeroIsRefusedBeforeTheKernelMisreadsIt() {
        assertFails(
            { try client.addService(IPVSService(.fwmark(0, family: .ipv4), scheduler: "rr")) },
            errno: EINVAL, saying: "fwmark")
    }

    /// A GET is answered by a reply and an ACK; if the ACK stayed queued,
    /// every later answer would belong to the request before it. Interleave
    /// lookups, writes and failures and check each answer is its own.
    func testRepliesNeverArriveOneCallLate() throws {
        for index in 1...40 {
            let identity = IPVSServiceIdentity.tcp(IPAddress("198.18.0.\(index)")!, port: 80)
            try client.addService(IPVSService(identity, scheduler: index.isMultiple(of: 2) ? "rr" : "wrr"))
            XCTAssertEqual(try client.service(identity).identity, identity)
            XCTAssertEqual(try client.service(identity).scheduler, index.isMultiple(of: 2) ? "rr" : "wrr")
            XCTAssertThrowsError(try client.addService(IPVSService(identity)))
            let destination = IPVSDestination(IPAddress("198.18.1.\(index)")!, port: 80, weight: Int32(index))
            try client.addDestination(destination, to: identity)
            XCTAssertEqual(try client.destinations(of: identity).map(\.weight), [Int32(index)])
            XCTAssertThrowsError(try client.service(.udp(IPAddress("198.18.0.\(index)")!, port: 80)))
            XCTAssertEqual(try client.info().version, "1.2.1")
        }
        XCTAssertEqual(try client.services().count, 40)
    }
}
