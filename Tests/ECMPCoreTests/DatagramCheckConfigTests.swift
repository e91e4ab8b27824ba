@testable import ECMPCore
import XCTest

/// `type: udp`, `type: dns` and `type: icmp` in the config: every field
/// read, written back the same (`ecmpd import-keepalived` emits them), and
/// bad values refused with field and value. Also the pure parts of their
/// probes: reply patterns, UDP reply rules, ICMP echo messages.
final class DatagramCheckConfigTests: XCTestCase {
    func config(_ check: String) -> String {
        """
        mode: managed
        vips:
          - address: 198.18.0.100
            services:
              - protocol: udp
                port: 53
                real_servers:
                  - address: 198.18.0.4
                    check: \(check)
        """
    }

    func check(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> HealthCheck {
        let loaded = try ConfigParser.parse(config(text), file: "t.yaml")
        let check = try XCTUnwrap(loaded.config.vips[0].services[0].realServers[0].check, file: file, line: line)
        // And it reads back the same from the YAML the emitter writes.
        let again = try ConfigParser.parse(ConfigEmitter.yaml(loaded.config), file: "emitted.yaml")
        XCTAssertEqual(again.config, loaded.config, file: file, line: line)
        return check
    }

    func errors(_ text: String) -> [ConfigProblem] {
        do {
            _ = try ConfigParser.parse(config(text), file: "t.yaml")
            XCTFail("parsed")
            return []
        } catch {
            return error.problems.filter { $0.severity == .error }
        }
    }

    func testUDPFields() throws {
        let udp = try check(
            "{ type: udp, payload: \"00 01 0a ff\", expect: \"0a0bxx\", min_reply_length: 3, max_reply_length: 100, timeout: 500ms }"
        )
        XCTAssertEqual(
            udp.kind,
            .udp(
                UDPCheck(
                    payload: [0, 1, 10, 255], expect: BytePattern(bytes: [10, 11, 0], mask: [0xff, 0xff, 0]),
                    minimumReplyLength: 3, maximumReplyLength: 100)))
        XCTAssertEqual(udp.timeout, .milliseconds(500))
        XCTAssertEqual(try check("{ type: udp }").kind, .udp(UDPCheck()))
        XCTAssertEqual(
            try check("{ type: udp, payload: \"ab\", require_reply: false }").kind,
            .udp(UDPCheck(payload: [0xab], requireReply: false)))
    }

    func testDNSFields() throws {
        let dns = try check(
            "{ type: dns, query_name: example.org., query_type: aaaa, rcode: NXDOMAIN, require_answer: true }")
        XCTAssertEqual(
            dns.kind, .dns(DNSCheck(name: "example.org", type: .aaaa, rcode: .nameError, requireAnswer: true)))
        XCTAssertEqual(try check("{ type: dns, query_name: . }").kind, .dns(DNSCheck(name: "", type: .a)))
        XCTAssertEqual(
            try check("{ type: dns, query_name: x.test, query_type: TYPE65, rcode: 9 }").kind,
            .dns(DNSCheck(name: "x.test", type: DNSRecordType(rawValue: 65), rcode: DNSResponseCode(rawValue: 9))))
    }

    func testICMP() throws {
        XCTAssertEqual(try check("{ type: icmp, interval: 1s }").kind, .icmp)
    }

    func testBadValuesNameTheFieldAndValue() {
        let cases: [(String, String, String?)] = [
            ("{ type: udp, payload: \"0g\" }", "payload", "0g"),
            ("{ type: udp, payload: \"abc\" }", "payload", "abc"),
            ("{ type: udp, expect: \"zz\" }", "expect", "zz"),
            ("{ type: udp, min_reply_length: 10, max_reply_length: 5 }", "min_reply_length", "10"),
            ("{ type: udp, require_reply: false, expect: \"00\" }", "expect", nil),
            ("{ type: udp, max_reply_length: 70000 }", "max_reply_length", "70000"),
            ("{ type: dns }", "query_name", nil),
            ("{ type: dns, query_name: \"a..b\" }", "query_name", "a..b"),
            ("{ type: dns, query_name: x.test, query_type: AXFR }", "query_type", "AXFR"),
            ("{ type: dns, query_name: x.test, rcode: BOGUS }", "rcode", "BOGUS"),
            ("{ type: icmp, connect_port: 7 }", "connect_port", nil),
            ("{ type: icmp, payload: \"00\" }", "payload", nil),
            ("{ type: tcp, query_name: x.test }", "query_name", nil),
            ("{ type: dns, query_name: x.test, path: / }", "path", nil),
            ("{ type: udpp }", "type", "udpp"),
        ]
        for (text, field, value) in cases {
            let found = errors(text)
            XCTAssertEqual(found.count, 1, "\(text): \(found)")
            XCTAssertEqual(found.first?.field, "vips[0].services[0].real_servers[0].check.\(field)", text)
            XCTAssertEqual(found.first?.value, value, text)
            XCTAssertEqual(found.first?.line, 9, text)
        }
    }

    func testStatusCodeRangesReadAndAreWrittenAsRanges() throws {
        let http = try check("{ type: http, status_codes: [\"200-299\", 301, 302, 404] }")
        guard case .http(let parsed) = http.kind else { return XCTFail("\(http.kind)") }
        XCTAssertEqual(parsed.statusCodes, Array(200...299) + [301, 302, 404])
        let emitted = ConfigEmitter.yaml(
            try ConfigParser.parse(config("{ type: http, status_codes: [\"200-299\", 301, 302, 404] }"), file: "t")
                .config)
        XCTAssertTrue(emitted.contains("status_codes: [\"200-299\", 301, 302, 404]"), emitted)
        XCTAssertEqual(errors("{ type: http, status_codes: [\"299-200\"] }").first?.value, "299-200")
        XCTAssertEqual(ConfigEmitter.statusCodes([200, 201, 202, 204]).count, 2)
    }

    // MARK: The probes' pure parts

    func testBytePatterns() throws {
        let pattern = try XCTUnwrap(BytePattern(hex: "DE ad xX 0x"))
        XCTAssertEqual(pattern.description, "deadxx0x")
        XCTAssertTrue(pattern.isPrefix(of: [0xde, 0xad, 0x77, 0x05, 0x99]))
        XCTAssertFalse(pattern.isPrefix(of: [0xde, 0xad, 0x77, 0x15]))
        XCTAssertFalse(pattern.isPrefix(of: [0xde, 0xad, 0x77]), "a shorter reply does not match")
        XCTAssertNil(BytePattern(hex: "0x", wildcards: false))
        XCTAssertNil(BytePattern(hex: " "))
    }

    func testUDPReplyRules() {
        let check = UDPCheck(
            expect: BytePattern(hex: "0a0b"), minimumReplyLength: 2, maximumReplyLength: 4)
        XCTAssertNil(UDPReplyCheck.problem([10, 11, 12], length: 3, check: check))
        XCTAssertEqual(
            UDPReplyCheck.problem([10], length: 1, check: check),
            "UDP reply of 1 bytes, shorter than min_reply_length 2")
        XCTAssertEqual(
            UDPReplyCheck.problem([10, 11, 0, 0, 0], length: 5, check: check),
            "UDP reply of 5 bytes, longer than max_reply_length 4")
        XCTAssertEqual(
            UDPReplyCheck.problem([10, 12, 0], length: 3, check: check), "UDP reply starts 0a0c, expected 0a0b")
    }

    func testICMPEchoMessages() {
        let request = ICMPEcho.request(identifier: 0x1234, sequence: 7, ipv6: false)
        XCTAssertEqual(request.count, 8 + ICMPEcho.payloadLength)
        XCTAssertEqual(ICMPEcho.checksum(request), 0, "a message with its checksum sums to zero")
        var reply = request
        reply[0] = 0
        XCTAssertEqual(ICMPEcho.read(reply, identifier: 0x1234, sequence: 7, ipv6: false), .reply)
        XCTAssertEqual(ICMPEcho.read(reply, identifier: 0x1234, sequence: 8, ipv6: false), .other)
        XCTAssertEqual(ICMPEcho.read(reply, identifier: 0x9999, sequence: 7, ipv6: false), .other)
        XCTAssertEqual(ICMPEcho.read(reply, identifier: nil, sequence: 7, ipv6: false), .reply)
        XCTAssertEqual(ICMPEcho.read([0, 0, 0], identifier: nil, sequence: 7, ipv6: false), .other)
        // Host unreachable quoting our request (a 20-byte IP header, then our echo).
        let quoted: [UInt8] = [3, 1, 0, 0, 0, 0, 0, 0] + [0x45] + Array(repeating: 0, count: 19) + request.prefix(8)
        XCTAssertEqual(
            ICMPEcho.read(quoted, identifier: 0x1234, sequence: 7, ipv6: false),
            .error("ICMP destination unreachable: host unreachable"))
        XCTAssertEqual(ICMPEcho.read(quoted, identifier: 0x4321, sequence: 7, ipv6: false), .other)
        let v6 = ICMPEcho.request(identifier: 1, sequence: 2, ipv6: true)
        XCTAssertEqual(v6[0], 128)
        var v6Reply = v6
        v6Reply[0] = 129
        XCTAssertEqual(ICMPEcho.read(v6Reply, identifier: nil, sequence: 2, ipv6: true), .reply)
    }

    func testPingGroupRange() {
        XCTAssertNil(PingGroupRange.problem(range: "0\t2147483647\n", group: 998, groupName: "ecmpd"))
        XCTAssertNil(PingGroupRange.problem(range: "998 998", group: 998, groupName: "ecmpd"))
        XCTAssertEqual(
            PingGroupRange.problem(range: "1\t0\n", group: 998, groupName: "ecmpd"),
            "icmp checks need a ping socket, and net.ipv4.ping_group_range (1 0) does not include group ecmpd (998); without it or CAP_NET_RAW every icmp check fails. Set it to \"998 998\" in /etc/sysctl.d (docs/managed-mode.md, \"ICMP checks and their privilege\")"
        )
    }
}
