@testable import ECMPCore
import XCTest

/// The templates, networks and golden-file check every rendering test
/// shares (RoutingRendererTests, OSPF6RenderingTests).
protocol RenderingFixtures {}

extension RenderingFixtures {
    func templates(_ role: RoutingRole) throws -> RoutingRenderer.Templates {
        let directory = FixtureFiles.repository.appendingPathComponent("quagga-templates/\(role.rawValue)")
        return RoutingRenderer.Templates(
            zebra: try FixtureFiles.read(directory.appendingPathComponent("zebra.conf.mustache")),
            ospfd: try FixtureFiles.read(directory.appendingPathComponent("ospfd.conf.mustache")),
            bfdd: try FixtureFiles.read(directory.appendingPathComponent("bfdd.conf.mustache")),
            ospf6d: try FixtureFiles.read(directory.appendingPathComponent("ospf6d.conf.mustache"))
        )
    }

    func config(_ yaml: String) throws -> Config { try ConfigParser.parse(yaml, file: "ecmpd.yaml").config }

    static var eth0: Int { 2 }

    func director(_ addresses: [InterfaceAddress], defaultRoute: Bool = true) -> NetworkSnapshot {
        NetworkSnapshot(
            interfaces: [
                NetworkInterface(
                    index: 1, name: "lo", isUp: true, isLoopback: true,
                    addresses: [InterfaceAddress(network: IPv4Network("127.0.0.1/8")!)]),
                NetworkInterface(index: Self.eth0, name: "eth0", isUp: true, addresses: addresses),
            ],
            defaultRoute: defaultRoute
                ? DefaultRoute(interfaceIndex: Self.eth0, gateway: IPv4Address("198.18.0.1")) : nil
        )
    }

    func render(
        _ role: RoutingRole, _ yaml: String, _ network: NetworkSnapshot, key: RoutingRenderer.AuthenticationKey? = nil
    ) throws -> RoutingRenderer.Output {
        let plan = try OSPFPlanner.plan(
            role: role, config: try config(yaml), network: network, systemHostname: "director-1")
        return try RoutingRenderer(templates: templates(role)).render(
            plan, key: key, version: "0.0.0-test", source: "ecmpd.yaml")
    }

    func assertGolden(
        _ output: RoutingRenderer.Output, _ name: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        try FixtureFiles.assertGolden(output.zebra, "render/\(name)/zebra.conf", file: file, line: line)
        try FixtureFiles.assertGolden(output.ospfd, "render/\(name)/ospfd.conf", file: file, line: line)
        if let bfdd = output.bfdd {
            try FixtureFiles.assertGolden(bfdd, "render/\(name)/bfdd.conf", file: file, line: line)
        }
        if let ospf6d = output.ospf6d {
            try FixtureFiles.assertGolden(ospf6d, "render/\(name)/ospf6d.conf", file: file, line: line)
        }
    }
}
