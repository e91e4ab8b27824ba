@testable import ECMPCore
import XCTest

/// Golden-file tests: each network shape renders to reviewed zebra.conf and
/// ospfd.conf under Fixtures/render/<case>/.
final class RoutingRendererTests: XCTestCase, RenderingFixtures {
    func testWithoutBFDNoBfddConfAndNoBFDLine() throws {
        let output = try render(
            .director, "vips: [{ address: 198.18.0.100 }]\n",
            director([InterfaceAddress(network: IPv4Network("198.18.0.2/24")!)]))
        XCTAssertNil(output.bfdd)
        XCTAssertFalse(output.ospfd.contains("bfd"))
        XCTAssertEqual(output.files.map(\.daemon), ["zebra", "ospfd"])
    }

    func testDirectorWithBFDRendersBfddConfAndIpOspfBfd() throws {
        let output = try render(
            .director, "vips: [{ address: 198.18.0.100 }]\nospf: { bfd: { enabled: true } }\n",
            director([InterfaceAddress(network: IPv4Network("198.18.0.2/24")!)]))
        try assertGolden(output, "director-bfd")
        XCTAssertTrue(output.ospfd.contains("interface eth0\n ip ospf hello-interval 1"))
        XCTAssertTrue(output.ospfd.contains(" ip ospf bfd\n ip ospf bfd profile ecmpd\n"))
        XCTAssertFalse(
            output.ospfd.components(separatedBy: "interface lo").last?.contains("bfd") == true,
            "lo forms no adjacency, so it gets no BFD")
        XCTAssertEqual(
            output.files.map(\.daemon), ["zebra", "bfdd", "ospfd"], "bfdd is reloaded before ospfd names its profile")
    }

    func testRouterWithBFDAndEchoMode() throws {
        let network = NetworkSnapshot(interfaces: [
            NetworkInterface(
                index: 2, name: "lan", isUp: true, addresses: [InterfaceAddress(network: IPv4Network("198.18.0.1/24")!)]
            )
        ])
        let output = try render(
            .router,
            "ospf: { interfaces: [lan], bfd: { receive_interval: 100ms, transmit_interval: 100ms, detect_multiplier: 3, echo_mode: true } }\nvips: [{ address: 198.18.0.100 }]\n",
            network)
        try assertGolden(output, "router-bfd")
        XCTAssertTrue(output.bfdd?.contains("  receive-interval 100\n  transmit-interval 100\n  echo-mode\n") == true)
    }

    func testBFDWithoutABfddTemplateIsANamedError() throws {
        let plan = try OSPFPlanner.plan(
            role: .director, config: try config("vips: [{ address: 198.18.0.100 }]\nospf: { bfd: {enabled: true} }\n"),
            network: director([InterfaceAddress(network: IPv4Network("198.18.0.2/24")!)]), systemHostname: "d")
        var old = try templates(.director)
        old.bfdd = nil
        XCTAssertThrowsError(try RoutingRenderer(templates: old).render(plan, key: nil, version: "v", source: "s")) {
            XCTAssertEqual("\($0)", "template bfdd.conf: ospf.bfd is on, but the templates have no bfdd.conf")
        }
    }

    func testDirectorWithOneSlash24AndOneVIP() throws {
        let output = try render(
            .director, "vips: [{ address: 198.18.0.100 }]\n",
            director([InterfaceAddress(network: IPv4Network("198.18.0.2/24")!)]))
        try assertGolden(output, "director-24")
    }

    func testDirectorOnASlash22WithTwoVIPsKeepsTheRealPrefix() throws {
        let output = try render(
            .director,
            "vips: [{ address: 198.18.8.100 }, { address: 198.18.8.101 }]\nospf: { fast_convergence: false }\n",
            director([InterfaceAddress(network: IPv4Network("198.18.5.10/22")!)]))
        try assertGolden(output, "director-22-two-vips")
        XCTAssertTrue(output.ospfd.contains(" network 198.18.4.0/22 area 0.0.0.0\n"))
    }

    func testDirectorWithSecondaryAddressesAndLabels() throws {
        let network = director([
            InterfaceAddress(network: IPv4Network("198.18.0.2/24")!),
            InterfaceAddress(network: IPv4Network("198.18.0.3/24")!, label: "eth0:0", isSecondary: true),
            InterfaceAddress(network: IPv4Network("198.18.1.66/26")!, label: "eth0:1"),
        ])
        let output = try render(.director, "vips: [{ address: 198.18.0.100 }]\nnode: { hostname: lvs-a }\n", network)
        try assertGolden(output, "director-secondary")
    }

    func testDirectorWithMessageDigestAuthentication() throws {
        let yaml =
            "ospf: { area: 5, authentication: { key_id: 7, key_file: /etc/ecmpd/ospf.key } }\nvips: [{ address: 198.18.0.100 }]\n"
        let network = director([InterfaceAddress(network: IPv4Network("198.18.0.2/24")!)])
        try assertGolden(try render(.director, yaml, network, key: .secret("s3cret-key")), "director-auth")
        let shown = try render(.director, yaml, network, key: .redacted(keyFile: "/etc/ecmpd/ospf.key"))
        XCTAssertFalse(shown.ospfd.contains("s3cret-key"))
        XCTAssertTrue(shown.ospfd.contains("md5 <redacted: key from /etc/ecmpd/ospf.key>"))
    }

    func testRouterInstallsOSPFRoutesAndBecomesDR() throws {
        let network = NetworkSnapshot(interfaces: [
            NetworkInterface(index: 1, name: "lo", isUp: true, isLoopback: true, addresses: []),
            NetworkInterface(
                index: 2, name: "lan", isUp: true, addresses: [InterfaceAddress(network: IPv4Network("198.18.0.1/24")!)]
            ),
            NetworkInterface(
                index: 3, name: "uplink", isUp: true,
                addresses: [InterfaceAddress(network: IPv4Network("198.19.1.1/24")!)]),
        ])
        let output = try render(
            .router, "ospf: { interfaces: [lan, uplink] }\nvips: [{ address: 198.18.0.100 }]\n", network)
        try assertGolden(output, "router")
        XCTAssertFalse(output.zebra.contains("route-map"), "the router must install OSPF routes into its kernel")
        XCTAssertFalse(output.ospfd.contains("198.18.0.100"), "the router does not announce VIPs")
    }

    func testRouterIDSkipsAVIPThatIsAlsoTheFirstAddress() throws {
        let network = director([
            InterfaceAddress(network: IPv4Network("198.18.0.100/24")!),
            InterfaceAddress(network: IPv4Network("198.18.0.2/24")!, isSecondary: true),
        ])
        let plan = try OSPFPlanner.plan(
            role: .director, config: try config("vips: [{ address: 198.18.0.100 }]\n"), network: network,
            systemHostname: "d")
        XCTAssertEqual(plan.routerID, IPv4Address("198.18.0.2"))
    }

    func testNoDefaultRouteIsAClearError() throws {
        let network = director([InterfaceAddress(network: IPv4Network("198.18.0.2/24")!)], defaultRoute: false)
        XCTAssertThrowsError(
            try OSPFPlanner.plan(
                role: .director, config: try config("vips: [{ address: 198.18.0.100 }]\n"), network: network,
                systemHostname: "d")
        ) { error in
            XCTAssertEqual((error as? OSPFPlanError)?.field, "ospf.interfaces")
            XCTAssertTrue("\(error)".contains("no IPv4 default route"), "\(error)")
        }
    }

    func testMissingNamedInterfaceListsWhatExists() throws {
        let network = director([InterfaceAddress(network: IPv4Network("198.18.0.2/24")!)])
        XCTAssertThrowsError(
            try OSPFPlanner.plan(
                role: .director,
                config: try config("ospf: { interfaces: [bond0] }\nvips: [{ address: 198.18.0.100 }]\n"),
                network: network, systemHostname: "d")
        ) { error in
            XCTAssertEqual("\(error)", "ospf.interfaces: no interface named bond0 (this host has: eth0)")
        }
    }

    func testVIPOnAnInterfaceIsReportedAtItsLine() throws {
        let loaded = try ConfigParser.parse("vips:\n  - address: 198.18.0.2\n", file: "ecmpd.yaml")
        let problems = NetworkConfigValidator.problems(
            loaded, network: director([InterfaceAddress(network: IPv4Network("198.18.0.2/24")!)]))
        XCTAssertEqual(problems.map(\.line), [2])
        XCTAssertTrue(problems[0].message.hasPrefix("is an address of interface eth0"))
    }
}
