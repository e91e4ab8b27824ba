@testable import ECMPCore
import XCTest

/// IPv6 VIPs and the `ospf6` section: the address rules, the routing
/// section each family needs, and `ospf6` read by the same rules as `ospf`.
final class IPv6ConfigTests: XCTestCase {
    let ospf6 = "ospf6:\n  router_id: 198.18.0.1\n"

    func parse(_ text: String) throws -> LoadedConfig { try ConfigParser.parse(text, file: "t.yaml") }

    func errors(_ text: String) -> [String] {
        do throws(ConfigErrors) {
            return try ConfigParser.parse(text, file: "t.yaml").warnings.filter { $0.severity == .error }.map(
                \.description)
        } catch {
            return error.problems.filter { $0.severity == .error }.map(\.description)
        }
    }

    func testAnIPv6VIPWithOspf6IsReadInItsCanonicalForm() throws {
        let loaded = try parse(ospf6 + "vips:\n  - address: 2001:DB8:0:0::10\n")
        XCTAssertEqual(loaded.config.vips.map(\.address), [IPAddress("2001:db8::10")!])
        XCTAssertEqual(loaded.config.ipv6VIPs.map(\.description), ["2001:db8::10"])
        XCTAssertEqual(loaded.config.ipv4VIPs, [])
    }

    func testReservedIPv6VIPsAreRefusedWithFieldAndValue() {
        let cases = [
            ("fe80::1", "fe80::/10, link-local"),
            ("ff02::1", "ff00::/8, multicast"),
            ("::1", "::1/128, loopback"),
            ("::", "::/128, the unspecified address"),
            ("::ffff:198.18.0.1", "::ffff:0:0/96, IPv4-mapped"),
        ]
        for (address, phrase) in cases {
            let found = errors(ospf6 + "vips:\n  - address: \"\(address)\"\n")
            XCTAssertEqual(found.count, 1, "\(address): \(found)")
            let canonical = IPAddress(address)!.description
            XCTAssertTrue(
                found.first?.hasPrefix("t.yaml:4:14: error: vips[0].address: \"\(canonical)\": in \(phrase)") == true,
                "\(address): \(found)")
        }
    }

    func testAnIPv6VIPWithoutOspf6NamesWhatIsMissing() {
        let found = errors("vips:\n  - address: 198.18.0.100\n  - address: 2001:db8::10\n")
        XCTAssertEqual(
            found,
            [
                "t.yaml:3:14: error: ospf6: \"2001:db8::10\": missing: vips[1].address is an IPv6 VIP, which ospf6d "
                    + "announces; add an ospf6 section (at least `ospf6: {router_id: A.B.C.D}`, "
                    + "or `ospf6: {}` for the defaults)"
            ])
    }

    func testMixedFamiliesWithBothSectionsAreAccepted() throws {
        let loaded = try parse(
            "ospf6:\n  interfaces: [eth1]\n  lo_cost: 20\nvips:\n  - address: 198.18.0.100\n  - address: 2001:db8::10\n"
        )
        XCTAssertEqual(loaded.config.ipv4VIPs, [IPv4Address(198, 18, 0, 100)])
        XCTAssertEqual(loaded.config.ipv6VIPs, [IPv6Address("2001:db8::10")!])
        XCTAssertEqual(loaded.config.ospf6?.interfaces, .named(["eth1"]))
        XCTAssertEqual(loaded.config.ospf6?.loopbackCost, 20)
        XCTAssertEqual(loaded.config.ospf, OSPFSettings(), "ospf keeps its defaults")
    }

    func testOspf6TakesTheDefaultsOfOspf() throws {
        let loaded = try parse("ospf6: {}\nvips:\n  - address: 2001:db8::10\n")
        XCTAssertEqual(loaded.config.ospf6, OSPFSettings())
    }

    func testOspf6SharesTheRulesOfOspf() {
        let found = errors(
            "ospf6:\n  hello_interval: 4\n  dead_interval: 4\n  router_id: 127.0.0.1\n  area: x\n"
                + "vips:\n  - address: 2001:db8::10\n")
        XCTAssertEqual(
            found,
            [
                "t.yaml:5:9: error: ospf6.area: \"x\": an area is a dotted quad (0.0.0.0) or a number",
                "t.yaml:3:18: error: ospf6.dead_interval: \"4\": must be greater than hello_interval (4); usually 4 x hello",
                "t.yaml:4:14: error: ospf6.router_id: \"127.0.0.1\": a router-id must be a unicast address of this director",
            ])
    }

    func testOspf6RouterIDIsADottedQuad() {
        let found = errors("ospf6:\n  router_id: 2001:db8::1\nvips:\n  - address: 2001:db8::10\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found[0].contains("ospf6.router_id: \"2001:db8::1\": not an IPv4 address"), "\(found)")
    }

    func testOspf6RouterIDNeverEqualsAVIP() {
        let found = errors("ospf6:\n  router_id: 198.18.0.100\nvips:\n  - address: 198.18.0.100\n")
        XCTAssertEqual(
            found,
            [
                "t.yaml:2:14: error: ospf6.router_id: \"198.18.0.100\": equals a VIP: every director announces the VIP, so router-ids would collide"
            ])
    }

    func testOspf6RefusesWhatEcmpdDoesNotWriteForOspf6d() {
        let found = errors(
            "ospf6:\n  bfd: {}\n  authentication: {key_file: /etc/k}\nvips:\n  - address: 2001:db8::10\n")
        XCTAssertEqual(found.count, 2, "\(found)")
        XCTAssertTrue(found.allSatisfy { $0.contains("not supported for ospf6 yet") }, "\(found)")
    }

    func testDuplicateIPv6VIPsAreFoundWhateverTheSpelling() {
        let found = errors(ospf6 + "vips:\n  - address: 2001:db8::10\n  - address: 2001:0db8:0::0010\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found[0].contains("duplicate VIP (also vips[0])"), "\(found)")
    }

    func testAFwmarkServiceOnAnIPv6VIPIsAnInet6Service() throws {
        let loaded = try parse(
            ospf6 + "vips:\n  - address: 2001:db8::10\n    services:\n      - fwmark: 7\n"
                + "        real_servers: [{address: 2001:db8:1::2}]\n")
        let table = IPVSDesiredTable(loaded.config).table
        XCTAssertEqual(table.entries.map(\.service.identity), [.fwmark(7, family: .ipv6)])
    }

    func testViaVIPAndADottedNetmaskAreForIPv4VIPsOnly() {
        let found = errors(
            ospf6 + "vips:\n  - address: 2001:db8::10\n    services:\n      - port: 80\n"
                + "        persistence: {timeout: 60, netmask: 255.255.255.0}\n"
                + "        forwarding: dr\n"
                + "        real_servers: [{address: 2001:db8:1::2, check: {type: tcp, via_vip: true}}]\n")
        XCTAssertEqual(found.count, 2, "\(found)")
        XCTAssertTrue(found.contains { $0.contains("netmask") && $0.contains("2001:db8::10 is IPv6") }, "\(found)")
        XCTAssertTrue(found.contains { $0.contains("via_vip needs an IPv4 VIP") }, "\(found)")
    }

    // MARK: Against the host's network (`ecmpd check`)

    func network(_ ipv6: [String]) -> NetworkSnapshot {
        NetworkSnapshot(interfaces: [
            NetworkInterface(
                index: 2, name: "eth0", isUp: true,
                addresses: [InterfaceAddress(network: IPv4Network("198.18.0.1/24")!)],
                ipv6Addresses: ipv6.map { IPv6InterfaceAddress(network: IPv6Network($0)!) })
        ])
    }

    func testAnIPv6VIPThatIsAnInterfaceAddressIsAnError() throws {
        let loaded = try parse(ospf6 + "vips:\n  - address: 2001:db8:0:1::5\n")
        let problems = NetworkConfigValidator.problems(loaded, network: network(["2001:db8:0:1::5/64"]))
        XCTAssertEqual(problems.map(\.severity), [.error])
        XCTAssertEqual(problems.first?.field, "vips[0].address")
        XCTAssertEqual(problems.first?.value, "2001:db8:0:1::5")
        XCTAssertEqual(problems.first?.line, 4)
        XCTAssertTrue(problems.first?.message.hasPrefix("is an address of interface eth0") == true)
    }

    func testAnIPv6VIPOffTheInterfacesIsFine() throws {
        let loaded = try parse(ospf6 + "vips:\n  - address: 2001:db8:ff::5\n")
        XCTAssertEqual(NetworkConfigValidator.problems(loaded, network: network(["2001:db8:0:1::5/64"])), [])
    }

    func testWhichIPv6InterfaceAddressesOSPFv3MayUse() {
        let prefix = IPv6Network("2001:db8:0:1::5/64")!
        XCTAssertNil(IPv6InterfaceAddress(network: prefix).unusableReason)
        XCTAssertEqual(
            IPv6InterfaceAddress(network: prefix, isTentative: true).unusableReason?.hasPrefix("tentative"), true)
        XCTAssertEqual(
            IPv6InterfaceAddress(network: prefix, isDeprecated: true).unusableReason?.hasPrefix("deprecated"), true)
        XCTAssertEqual(
            IPv6InterfaceAddress(network: IPv6Network("fe80::1/64")!).unusableReason?.hasPrefix("link-local"), true)
        XCTAssertEqual(prefix.network.description, "2001:db8:0:1::/64")
    }
}
