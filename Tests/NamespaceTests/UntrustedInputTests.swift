import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier, the built `ecmpd` on files a local attacker or a careless
/// operator hands it: VIPs that no director can serve on this namespace's
/// own networks. Needs root and iproute2; no FRR daemon runs.
final class UntrustedInputTests: XCTestCase {
    var lab: NetnsLab!
    var director = ""

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        lab = try NetnsLab()
        // eth0 198.18.0.2/24, default route via 198.18.0.1 (NetnsLab).
        director = try lab.directorNamespace("d")
    }

    override func tearDown() {
        lab?.tearDown()
    }

    // MARK: VIPs

    func ecmpdConfig(vips: [String]) throws -> String {
        let entries = vips.map { "  - address: \($0)\n" }.joined()
        return try lab.write("ecmpd.yaml", "node: { hostname: director-1 }\nvips:\n" + entries)
    }

    func testVIPsThatAreTheNetworkBroadcastOrGatewayOfAConnectedSubnetAreRefusedWithFieldAndValue() throws {
        try lab.exec(director, ["ip", "addr", "add", "198.18.4.1/30", "dev", "eth1"])
        let expected = [
            "198.18.0.0": "is the network address of 198.18.0.0/24 (eth0)",
            "198.18.0.255": "is the broadcast address of 198.18.0.0/24 (eth0)",
            "198.18.0.1": "is the default gateway",
            "198.18.4.0": "is the network address of 198.18.4.0/30 (eth1)",
            "198.18.4.3": "is the broadcast address of 198.18.4.0/30 (eth1)",
        ]
        let vips = expected.keys.sorted()
        let config = try ecmpdConfig(vips: vips)
        for role in ["director", "router"] {
            let check = [Command.ecmpd, "check", "--role", role, "--config", config]
            let result = try lab.exec(director, check, allowFailure: true)
            XCTAssertEqual(result.status, 1, "\(role): \(result.output)")
            for (index, vip) in vips.enumerated() {
                XCTAssertTrue(result.output.contains("vips[\(index)].address: \"\(vip)\": \(expected[vip]!)"),
                              "\(role) \(vip):\n\(result.output)")
            }
        }
        // With the host's network read, `render` refuses them as well.
        let render = try lab.exec(director, [Command.ecmpd, "render", "--config", config], allowFailure: true)
        XCTAssertEqual(render.status, 1, render.output)
        XCTAssertFalse(render.output.contains("network 198.18.0.255/32"), render.output)
    }

    func testVIPsFromBlocksThatCannotBeVIPsAreRefusedWithoutTheNetwork() throws {
        let blocks = ["255.255.255.255", "0.0.0.0", "240.0.0.1", "169.254.10.10", "224.0.0.5", "127.0.0.2"]
        let config = try ecmpdConfig(vips: blocks)
        let check = [Command.ecmpd, "check", "--no-network", "--config", config]
        let result = try lab.exec(director, check, allowFailure: true)
        XCTAssertEqual(result.status, 1, result.output)
        for (index, vip) in blocks.enumerated() {
            XCTAssertTrue(result.output.contains("vips[\(index)].address: \"\(vip)\": "), "\(vip):\n\(result.output)")
        }
        XCTAssertTrue(result.output.contains("\(blocks.count) errors"), result.output)
        let render = try lab.exec(director, [Command.ecmpd, "render", "--config", config], allowFailure: true)
        XCTAssertEqual(render.status, 1, render.output)
        XCTAssertFalse(render.output.contains("network 255.255.255.255/32"), render.output)
    }

    func testVIPInsideAConnectedPrefixIsAWarningAndCheckStillPasses() throws {
        let config = try ecmpdConfig(vips: ["198.18.0.100", "198.18.9.1"])
        for role in ["director", "router"] {
            let check = [Command.ecmpd, "check", "--role", role, "--config", config]
            let result = try lab.exec(director, check, allowFailure: true)
            XCTAssertEqual(result.status, 0, "\(role): warnings do not fail the check:\n\(result.output)")
            let warning = "warning: vips[0].address: \"198.18.0.100\": "
                + "is inside 198.18.0.0/24, a connected prefix of eth0"
            XCTAssertTrue(result.output.contains(warning), "\(role):\n\(result.output)")
            XCTAssertFalse(result.output.contains("vips[1].address"),
                           "198.18.9.1 is on no connected prefix:\n\(result.output)")
        }
    }
}
