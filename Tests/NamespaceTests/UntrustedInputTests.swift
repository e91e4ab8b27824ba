import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier, the built `ecmpd` on files a local attacker or a careless
/// operator hands it: an import whose include names a secret file, `check`
/// and `render` on files that are not ecmpd configs, and VIPs that no
/// director can serve on this namespace's own networks. Needs root and
/// iproute2; no FRR daemon runs. The secret files are the test's own, each
/// line carrying a token unique to the run, so any echo of a line shows.
final class UntrustedInputTests: XCTestCase {
    var lab: NetnsLab!
    var director = ""
    let token = "leak" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16)

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        lab = try NetnsLab()
        // eth0 198.18.0.2/24, default route via 198.18.0.1 (NetnsLab).
        director = try lab.directorNamespace("d")
    }

    override func tearDown() {
        lab?.tearDown()
    }

    // MARK: Secret files

    /// Lines shaped like /etc/shadow, the token in the salt and the hash.
    func writeShadow() throws -> String {
        try lab.write(
            "secret/shadow",
            (1...8).map {
                "user\($0):$6$\(token)s\($0)$\(token)h\($0)/Ab.c:19700:0:99999:7:::\n"
            }.joined())
    }

    /// Shaped like /proc/self/environ: NUL-separated, no newline.
    func writeEnviron() throws -> String {
        try lab.write("secret/environ", "PATH=/usr/bin\u{0}API_TOKEN=\(token)\u{0}HOME=/root\u{0}")
    }

    func assertLeaksNothing(_ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(text.contains(token), "\(what) echoes the secret file:\n\(text)", file: file, line: line)
        XCTAssertFalse(
            text.contains("19700:0:99999"), "\(what) echoes a line of the secret file:\n\(text)",
            file: file, line: line)
    }

    func keepalivedConfig(including secret: String) throws -> String {
        try lab.write(
            "keepalived.conf",
            """
            virtual_server 198.18.0.100 80 {
                lb_algo rr
                lb_kind DR
                protocol TCP
                real_server 198.18.0.4 80 {
                    TCP_CHECK {
                        connect_timeout 3
                    }
                }
            }
            include \(secret)

            """)
    }

    func testImportOfAConfigIncludingASecretFileLeaksNoLineOfItToStdoutStderrOrTheYAML() throws {
        for secret in [try writeShadow(), try writeEnviron()] {
            let config = try keepalivedConfig(including: secret)
            let output = lab.path("imported.yaml")
            let written = try Command.run(
                [Command.ecmpd, "import-keepalived", config, "--output", output],
                allowFailure: true)
            let printed = try Command.run([Command.ecmpd, "import-keepalived", config], allowFailure: true)
            for (result, how) in [(written, "with --output"), (printed, "to stdout")] {
                XCTAssertEqual(result.status, 1, "\(secret) \(how): the import stops:\n\(result.output)")
                assertLeaksNothing(result.output, "import-keepalived \(how) of \(secret)")
                let errors = result.output.split(separator: "\n").filter { $0.contains(": error: ") }
                XCTAssertEqual(errors.count, 1, "one error, no line-by-line warnings:\n\(result.output)")
                let expected = "\(secret):1: error: does not look like a keepalived config"
                XCTAssertTrue(errors.first?.hasPrefix(expected) == true, result.output)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: output), "no YAML written for a stopped import")
        }
    }

    func testCheckAndRenderOfAFileThatIsNotAnEcmpdConfigLeakNoLineOfIt() throws {
        let oneLine = try lab.write("secret/token", "ghp_\(token)\n")
        for secret in [try writeShadow(), try writeEnviron(), oneLine] {
            for command in [
                ["check", "--config", secret], ["check", "--no-network", "--config", secret],
                ["render", "--config", secret],
            ] {
                let result = try lab.exec(director, [Command.ecmpd] + command, allowFailure: true)
                XCTAssertEqual(result.status, 1, "\(command): \(result.output)")
                assertLeaksNothing(result.output, command.joined(separator: " "))
                let errors = result.output.split(separator: "\n").filter { $0.contains(": error: ") }
                XCTAssertEqual(errors.count, 1, "one error, no line-by-line ones: \(command):\n\(result.output)")
                let expected = "\(secret):1: error: does not look like an ecmpd config"
                XCTAssertTrue(errors.first?.hasPrefix(expected) == true, "\(command):\n\(result.output)")
            }
        }
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
                XCTAssertTrue(
                    result.output.contains("vips[\(index)].address: \"\(vip)\": \(expected[vip]!)"),
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
            let warning =
                "warning: vips[0].address: \"198.18.0.100\": "
                + "is inside 198.18.0.0/24, a connected prefix of eth0"
            XCTAssertTrue(result.output.contains(warning), "\(role):\n\(result.output)")
            XCTAssertFalse(
                result.output.contains("vips[1].address"),
                "198.18.9.1 is on no connected prefix:\n\(result.output)")
        }
    }
}
