@testable import ECMPCore
import XCTest

/// ospf6d.conf for both roles, golden files under Fixtures/render/<case>/,
/// and zebra.conf for dual stack.
final class OSPF6RenderingTests: XCTestCase, RenderingFixtures {

    /// eth0 as a dual-stack director has it: IPv4, a global /64 and a /56,
    /// a link-local address, one tentative and one deprecated address.
    func dualStack(extraInterface: Bool = false) -> NetworkSnapshot {
        var network = director([InterfaceAddress(network: IPv4Network("198.18.0.2/24")!)])
        network.interfaces[1].ipv6Addresses = [
            IPv6InterfaceAddress(network: IPv6Network("2001:db8:0:1::2/64")!),
            IPv6InterfaceAddress(network: IPv6Network("2001:db8:100:ff::2/56")!),
            IPv6InterfaceAddress(network: IPv6Network("fe80::2/64")!),
            IPv6InterfaceAddress(network: IPv6Network("2001:db8:0:2::2/64")!, isTentative: true),
            IPv6InterfaceAddress(network: IPv6Network("2001:db8:0:3::2/64")!, isDeprecated: true),
        ]
        if extraInterface {
            network.interfaces.append(
                NetworkInterface(
                    index: 3, name: "eth1", isUp: true, addresses: [],
                    ipv6Addresses: [IPv6InterfaceAddress(network: IPv6Network("2001:db8:0:9::2/64")!)]))
        }
        return network
    }

    let dualStackConfig = """
        ospf6: { lo_cost: 20 }
        vips:
          - address: 198.18.0.100
          - address: 2001:db8:ffff::10
          - address: 2001:db8:ffff::11
        """

    func testDirectorAnnouncesIPv6VIPsFromAPassiveLoWithPriorityZero() throws {
        let output = try render(.director, dualStackConfig, dualStack())
        try assertGolden(output, "director-dual-stack")
        XCTAssertEqual(output.files.map(\.daemon), ["zebra", "ospfd", "ospf6d"])
        XCTAssertFalse(output.ospfd.contains("2001:db8"), "IPv6 VIPs are ospf6d's")
        let ospf6d = try XCTUnwrap(output.ospf6d)
        XCTAssertTrue(ospf6d.contains(" ospf6 router-id 198.18.0.2\n"), "ospfd's router-id by default")
        XCTAssertFalse(ospf6d.contains("fe80"), "link-local addresses are neither listed nor reported")
        XCTAssertTrue(ospf6d.contains("2001:db8:0:2::2/64 on eth0 not listed for ospf6d: tentative"), ospf6d)
        XCTAssertTrue(ospf6d.contains("2001:db8:0:3::2/64 on eth0 not listed for ospf6d: deprecated"), ospf6d)
        XCTAssertTrue(output.zebra.contains("ipv6 protocol ospf6 route-map ECMPD-NO-OSPF-FIB\n"))
    }

    func testRouterGetsMaximumPathsAndTheTimersOspf6dHas() throws {
        let yaml = """
            ospf: { interfaces: [eth0] }
            ospf6: { interfaces: [eth0, eth1], router_id: 198.18.0.1 }
            vips: [{ address: 198.18.0.100 }, { address: "2001:db8:ffff::10" }]
            """
        let output = try render(.router, yaml, dualStack(extraInterface: true))
        try assertGolden(output, "router-dual-stack")
        let ospf6d = try XCTUnwrap(output.ospf6d)
        XCTAssertTrue(ospf6d.contains(" maximum-paths 64\n"))
        XCTAssertTrue(ospf6d.contains(" ipv6 ospf6 priority 1\n"), "the router is the DR")
        XCTAssertFalse(ospf6d.contains("interface lo"), "a router announces no VIPs")
        XCTAssertTrue(output.zebra.contains("interface eth1\n"), "zebra.conf names ospf6d's interfaces too")
        XCTAssertFalse(output.zebra.contains("ipv6 protocol"), "the router installs OSPFv3 routes")
    }

    func testWithoutIPv6VIPsNoOspf6dConfAndZebraConfAsBefore() throws {
        let yaml = "ospf6: {}\nvips: [{ address: 198.18.0.100 }]\n"
        let output = try render(.director, yaml, dualStack())
        XCTAssertNil(output.ospf6d)
        XCTAssertEqual(output.files.map(\.daemon), ["zebra", "ospfd"])
        XCTAssertFalse(output.zebra.contains("ipv6"))
    }

    func testFastConvergenceOffLeavesOspf6dTimersAtFRRDefaults() throws {
        let yaml = "ospf6: { fast_convergence: false }\nvips: [{ address: \"2001:db8:ffff::10\" }]\n"
        let ospf6d = try XCTUnwrap(try render(.director, yaml, dualStack()).ospf6d)
        XCTAssertFalse(ospf6d.contains("timers"))
    }

    func testAnOspf6InterfaceWithoutIPv4IsFineButAMissingOneIsNamed() throws {
        let yaml = "ospf6: { interfaces: [eth1] }\nvips: [{ address: \"2001:db8:ffff::10\" }]\n"
        XCTAssertNotNil(try render(.director, yaml, dualStack(extraInterface: true)).ospf6d)
        XCTAssertThrowsError(try render(.director, yaml, dualStack())) { error in
            XCTAssertEqual((error as? OSPFPlanError)?.field, "ospf6.interfaces")
        }
    }

    func testIPv6VIPsWithoutAnOspf6dTemplateIsANamedError() throws {
        var templates = try templates(.director)
        templates.ospf6d = nil
        let plan = try OSPFPlanner.plan(
            role: .director, config: try config(dualStackConfig), network: dualStack(),
            systemHostname: "director-1")
        XCTAssertThrowsError(
            try RoutingRenderer(templates: templates).render(plan, key: nil, version: "0", source: "ecmpd.yaml")
        ) { error in
            XCTAssertTrue("\(error)".contains("templates have no ospf6d.conf"), "\(error)")
        }
    }
}
