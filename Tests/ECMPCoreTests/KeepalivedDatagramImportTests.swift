@testable import ECMPCore
import XCTest

/// keepalived 2.x's UDP_CHECK, DNS_CHECK and PING_CHECK imported with their
/// semantics (check_udp.c, check_dns.c, check_ping.c), and the import
/// defects of issue 25: a NAT sorry server's port, the warning for a server
/// whose only check is unsupported (and `ecmpd check`'s), a fwmark group's
/// error, and default status codes written as a range.
final class KeepalivedDatagramImportTests: XCTestCase {
    func importText(_ text: String, fwmarkVIP: IPv4Address? = nil) throws(ConfigErrors) -> KeepalivedImport {
        try KeepalivedImporter.importConfig(text: text, file: "keepalived.conf", fwmarkVIP: fwmarkVIP) { _ in [] }
    }

    func virtualServer(kind: String = "DR", sorry: String = "", _ realServer: String) -> String {
        """
        virtual_server 198.18.0.100 53 {
            delay_loop 7
            lb_algo rr
            lb_kind \(kind)
            protocol UDP
            \(sorry)
            real_server 198.18.0.11 53 {
                \(realServer)
            }
        }

        """
    }

    func check(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> HealthCheck {
        let imported = try importText(text)
        // The emitted YAML reads back the same.
        let again = try ConfigParser.parse(ConfigEmitter.yaml(imported.config), file: "imported.yaml")
        XCTAssertEqual(again.config, imported.config, file: file, line: line)
        return try XCTUnwrap(
            imported.config.vips.first?.services.first?.realServers.first?.check, file: file, line: line)
    }

    func problems(_ text: String) -> [String] {
        do {
            return try importText(text).warnings.map(\.description)
        } catch {
            return error.problems.map(\.description)
        }
    }

    func testDNSCheckDefaultsAreKeepalivedsSOAOfTheRootWithThreeRetriesADelayLoopApart() throws {
        let dns = try check(virtualServer("DNS_CHECK {\n }"))
        XCTAssertEqual(dns.kind, .dns(DNSCheck(name: "", type: .soa, rcode: .noError, requireAnswer: false)))
        XCTAssertEqual(dns.retries, 4)
        XCTAssertEqual(dns.retryDelay, .seconds(7))
        XCTAssertEqual(dns.interval, .seconds(7))
        XCTAssertEqual(dns.timeout, .seconds(5))
    }

    func testDNSCheckTypeAndName() throws {
        let dns = try check(
            virtualServer("DNS_CHECK {\n type AAAA\n name www.example.org.\n retry 1\n delay_before_retry 2\n }"))
        XCTAssertEqual(dns.kind, .dns(DNSCheck(name: "www.example.org", type: .aaaa)))
        XCTAssertEqual(dns.retries, 2)
        XCTAssertEqual(dns.retryDelay, .seconds(2))
    }

    func testDNSCheckBadTypeAndNameAreNamed() {
        XCTAssertTrue(
            problems(virtualServer("DNS_CHECK {\n type aaaa\n }")).contains {
                $0.hasPrefix("keepalived.conf:9: error: type: \"aaaa\": keepalived knows the DNS types A, NS, CNAME")
            }, "\(problems(virtualServer("DNS_CHECK {\n type aaaa\n }")))")
        XCTAssertTrue(
            problems(virtualServer("DNS_CHECK {\n name a..b\n }")).contains(
                "keepalived.conf:9: error: name: \"a..b\": a name has no empty label (two dots in a row, or a leading dot)"
            ))
        XCTAssertTrue(
            problems(virtualServer("DNS_CHECK {\n name a.org\n name b.org\n }")).contains(
                "keepalived.conf:10: warning: name: \"b.org\": keepalived keeps the first name and ignores this one; so does the import"
            ))
    }

    func testUDPCheckWithoutRequireReplyTakesSilenceAsHealthy() throws {
        let udp = try check(virtualServer("UDP_CHECK {\n payload 0a0b 0c\n connect_port 5353\n }"))
        XCTAssertEqual(udp.kind, .udp(UDPCheck(payload: [10, 11, 12], requireReply: false)))
        XCTAssertEqual(udp.connectPort, 5353)
        XCTAssertEqual(udp.retries, 2)
        XCTAssertEqual(udp.retryDelay, .seconds(1))
    }

    func testUDPCheckRequireReplyWithPatternAndLengths() throws {
        let udp = try check(
            virtualServer("UDP_CHECK {\n require_reply 0a0bxx\n min_reply_length 3\n max_reply_length 40\n }"))
        XCTAssertEqual(
            udp.kind,
            .udp(
                UDPCheck(
                    expect: BytePattern(bytes: [10, 11, 0], mask: [0xff, 0xff, 0]), requireReply: true,
                    minimumReplyLength: 3, maximumReplyLength: 40)))
        // keepalived's default longest reply with require_reply is 255 bytes.
        XCTAssertEqual(
            try check(virtualServer("UDP_CHECK {\n require_reply\n }")).kind,
            .udp(UDPCheck(requireReply: true, maximumReplyLength: 255)))
    }

    func testUDPCheckBadHexIsAnError() {
        XCTAssertTrue(
            problems(virtualServer("UDP_CHECK {\n payload 0g\n }")).contains(
                "keepalived.conf:9: error: payload: \"0g\": expected hex bytes in pairs (0a0b0c)"))
        XCTAssertTrue(
            problems(virtualServer("UDP_CHECK {\n payload 0x\n }")).contains(
                "keepalived.conf:9: error: payload: \"0x\": expected hex bytes in pairs (0a0b0c)"))
        XCTAssertTrue(
            problems(virtualServer("UDP_CHECK {\n min_reply_length 9\n }")).contains(
                "keepalived.conf:9: warning: min_reply_length: keepalived compares reply lengths only with require_reply; ignored, as keepalived does"
            ))
    }

    func testPingCheckIsAnICMPCheckWithoutAPort() throws {
        let ping = try check(virtualServer("PING_CHECK {\n connect_timeout 2\n connect_port 7\n }"))
        XCTAssertEqual(ping.kind, .icmp)
        XCTAssertEqual(ping.timeout, .seconds(2))
        XCTAssertNil(ping.connectPort)
        XCTAssertTrue(
            problems(virtualServer("PING_CHECK {\n connect_port 7\n }")).contains(
                "keepalived.conf:9: warning: connect_port: echo requests have no port; keepalived ignores connect_port for PING_CHECK, and so does the import"
            ))
    }

    // MARK: Defects fixed

    func testANATSorryServerKeepsItsPort() throws {
        let nat = try importText(virtualServer(kind: "NAT", sorry: "sorry_server 198.18.0.9 8053", "PING_CHECK {\n }"))
        XCTAssertEqual(nat.config.vips[0].services[0].sorryServer?.port, 8053)
        XCTAssertFalse(nat.warnings.contains { $0.message.contains("sorry server's port") })
        // Direct routing cannot change the port: keepalived resets it, and so does the import.
        let dr = try importText(virtualServer(kind: "DR", sorry: "sorry_server 198.18.0.9 8053", "PING_CHECK {\n }"))
        XCTAssertEqual(dr.config.vips[0].services[0].sorryServer?.port, 53)
    }

    func testANATFwmarkSorryServerKeepsItsPort() throws {
        let text = """
            virtual_server fwmark 5 {
                lb_algo rr
                lb_kind NAT
                sorry_server 198.18.0.9 8080
                real_server 198.18.0.11 80 {
                    TCP_CHECK {
                    }
                }
            }
            virtual_server fwmark 6 {
                lb_algo rr
                lb_kind DR
                sorry_server 198.18.0.9 8080
                real_server 198.18.0.11 80 {
                    TCP_CHECK {
                    }
                }
            }

            """
        let imported = try importText(text, fwmarkVIP: IPv4Address(198, 18, 0, 100))
        XCTAssertEqual(imported.config.vips[0].services.map { $0.sorryServer?.port }, [8080, nil])
    }

    func testEcmpdCheckWarnsAboutAServerWhoseKeepalivedCheckWasDropped() throws {
        let imported = try importText(virtualServer("SMTP_CHECK {\n }"))
        let yaml = ConfigEmitter.yaml(imported.config)
        XCTAssertTrue(yaml.contains("keepalived_check: SMTP_CHECK"), yaml)
        let loaded = try ConfigParser.parse(yaml, file: "imported.yaml")
        let warning = try XCTUnwrap(loaded.warnings.first { $0.field?.hasSuffix("keepalived_check") == true })
        XCTAssertEqual(warning.value, "SMTP_CHECK")
        XCTAssertTrue(warning.message.hasPrefix("keepalived checked this server with SMTP_CHECK"), warning.message)
        XCTAssertFalse(loaded.warnings.contains { $0.message.hasPrefix("no check in managed mode") })
    }

    func testAFwmarkGroupWithoutAVIPIsOneErrorNamingEachEntry() {
        let text = """
            virtual_server_group G {
                fwmark 1
                fwmark 2
            }
            virtual_server group G {
                lb_algo rr
                lb_kind DR
                real_server 198.18.0.11 80 {
                    TCP_CHECK {
                    }
                }
            }

            """
        let errors = problems(text).filter { $0.contains("error") }
        XCTAssertEqual(
            errors,
            [
                "keepalived.conf:5: error: virtual_server: keepalived gives fwmark services no address (fwmark 1 at keepalived.conf:2, fwmark 2 at keepalived.conf:3 of virtual_server_group G), and this config has no VRRP virtual_ipaddress to take one from; name the VIP these packets are for (--fwmark-vip ADDRESS)"
            ])
    }

    func testDefaultStatusCodesAreWrittenAsARange() throws {
        let text = """
            virtual_server 198.18.0.100 80 {
                lb_algo rr
                lb_kind DR
                protocol TCP
                real_server 198.18.0.11 80 {
                    HTTP_GET {
                        url {
                            path /health
                        }
                    }
                }
            }

            """
        let yaml = ConfigEmitter.yaml(try importText(text).config)
        XCTAssertTrue(yaml.contains("status_codes: [\"200-299\"]"), yaml)
        XCTAssertFalse(yaml.contains("201"), yaml)
    }
}
