@testable import ECMPCore
import XCTest

/// Inputs `ecmpd import-keepalived` must refuse, each with file, line and
/// value, and with no config returned (so nothing is written). The classes
/// and what was observed are in docs/reliability.md, "Bad input".
final class KeepalivedBadInputTests: XCTestCase {
    /// Every problem (warnings too) for `text`, failing the test if it imported.
    func problems(_ text: String, includes: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line)
        -> [ConfigProblem]
    {
        do {
            _ = try KeepalivedImporter.importConfig(text: text, file: "keepalived.conf", fwmarkVIP: nil, configID: nil)
            { path in
                includes[path].map { [(file: path, text: $0)] } ?? []
            }
            XCTFail("imported: the input should have been refused", file: file, line: line)
            return []
        } catch {
            return error.problems
        }
    }

    func refusal(_ text: String, includes: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line)
        -> [ConfigProblem]
    {
        problems(text, includes: includes, file: file, line: line).filter { $0.severity == .error }
    }

    func virtualServer(_ address: String, _ port: String, realServer: String = "198.18.1.1 80") -> String {
        "virtual_server \(address) \(port) {\n  lb_algo rr\n  real_server \(realServer) {\n    TCP_CHECK {\n    }\n  }\n}\n"
    }

    func testFileLargerThanTheLimitIsRefusedAtTheLineTheLimitFallsIn() {
        let line = "! " + String(repeating: "x", count: 1021) + "\n"
        let found = refusal(String(repeating: line, count: (SourceText.maximumSize >> 10) + 1))
        XCTAssertEqual(found.map(\.line), [SourceText.maximumSize / 1024 + 1])
        XCTAssertEqual(found.first?.file, "keepalived.conf")
    }

    func testBracesThousandsDeepAreRefusedWithoutOverflowingTheStack() {
        let depth = 100_000
        let text =
            "virtual_server 198.18.0.1 80 {\n" + String(repeating: "a {\n", count: depth)
            + String(repeating: "}\n", count: depth + 1)
        let found = refusal(text)
        let tooDeep = found.filter {
            $0.message.hasPrefix("blocks nest deeper than \(KeepalivedStatement.maximumDepth) levels")
        }
        XCTAssertEqual(tooDeep.map(\.line), [KeepalivedStatement.maximumDepth + 1])
        XCTAssertFalse(
            found.contains { $0.message.contains("never closed") || $0.message.contains("extra '}'") }, "\(found)")
    }

    func testUnclosedBracesThousandsDeepAreRefusedWithoutOverflowingTheStack() {
        let found = refusal("virtual_server 198.18.0.1 80 {\n" + String(repeating: "a {\n", count: 100_000))
        XCTAssertTrue(
            found.contains { $0.line == KeepalivedStatement.maximumDepth + 1 && $0.message.contains("never closed") },
            "\(found.prefix(3))")
    }

    func testDefinitionsThatExpandExponentiallyAreRefusedAtTheirLine() {
        var text = "$A=xxxxxxxxxxxxxxxx\n"
        for (name, previous) in zip("BCDEFGHIJKLMNOPQ", "ABCDEFGHIJKLMNOP") {
            text += "$\(name)=$\(previous) $\(previous) $\(previous) $\(previous)\n"
        }
        text += virtualServer("198.18.0.1", "80") + "notification_email { $Q }\n"
        let found = refusal(text)
        XCTAssertEqual(found.map(\.line), [25])
        XCTAssertEqual(
            found.first?.message,
            "longer than 64 KiB once definitions are expanded (definitions that expand into each other many times)")
    }

    func testAddressesOutOfRangeAreRefusedWithTheirValue() {
        for address in ["198.18.0.256", "300.1.1.1"] {
            let virtual = refusal(virtualServer(address, "80"))
            XCTAssertEqual(virtual.map(\.value), [address])
            XCTAssertEqual(virtual.map(\.line), [1])
            let real = refusal(virtualServer("198.18.0.1", "80", realServer: "\(address) 80"))
            XCTAssertEqual(real.map(\.value), [address])
            XCTAssertEqual(real.map(\.line), [3])
        }
    }

    func testVirtualServerFromABlockThatCannotBeAVIPIsRefusedWithItsValue() {
        let blocks = [
            "255.255.255.255": "255.255.255.255/32", "169.254.1.1": "169.254.0.0/16",
            "240.0.0.1": "240.0.0.0/4",
        ]
        for (address, block) in blocks {
            let found = refusal(virtualServer(address, "80"))
            XCTAssertEqual(found.map(\.value), [address])
            XCTAssertEqual(found.map(\.line), [1])
            XCTAssertTrue(found.first?.message.hasPrefix("in \(block)") == true, "\(found)")
        }
    }

    func testPortsZeroAndAbove65535AreRefused() {
        for port in ["0", "65536"] {
            XCTAssertEqual(refusal(virtualServer("198.18.0.1", port)).map(\.line), [1], port)
        }
        XCTAssertEqual(
            refusal(virtualServer("198.18.0.1", "80", realServer: "198.18.1.1 65536")).map(\.value), ["65536"])
    }

    func testVirtualIPAddressWithPrefixOver32IsNotTakenAsTheFwmarkVIP() {
        let text =
            "vrrp_instance VI_1 {\n  virtual_ipaddress {\n    198.18.0.1/33\n  }\n}\n" + virtualServer("fwmark", "7")
        XCTAssertEqual(refusal(text).map(\.line), [6], "the fwmark service is left without a VIP")
        let skipped = problems(text).filter { $0.severity == .warning && $0.value == "198.18.0.1/33" }
        XCTAssertEqual(skipped.map(\.line), [3])
    }

    func testDuplicateVirtualServerIsRefusedAtTheSecond() {
        let found = refusal(virtualServer("198.18.0.1", "80") + virtualServer("198.18.0.1", "80"))
        XCTAssertEqual(found.map(\.line), [8])
        XCTAssertEqual(found.first?.value, "198.18.0.1 udp/80", "keepalived's default protocol")
    }

    func testIncludeOfItselfIsRefusedAsALoop() {
        let text = "include keepalived.conf\n" + virtualServer("198.18.0.1", "80")
        let found = refusal(text, includes: ["keepalived.conf": text])
        XCTAssertEqual(found.map(\.line), [1])
    }

    func testFilesIncludingEachOtherByGlobAreReadAtMostTheLimitInAll() {
        let names = (1...8).map { "/etc/keepalived/conf.d/\($0).conf" }
        var reads = 0
        XCTAssertThrowsError(
            try KeepalivedImporter.importConfig(
                text: "include conf.d/*.conf\n", file: "/etc/keepalived/keepalived.conf"
            ) { pattern in
                XCTAssertEqual(pattern, "/etc/keepalived/conf.d/*.conf")
                reads += 1
                return names.map { (file: $0, text: "include *.conf\n") }
            }
        ) { error in
            let tooMany =
                (error as? ConfigErrors)?.problems.filter {
                    $0.message.hasPrefix("more than 1024 included files read in all")
                } ?? []
            XCTAssertEqual(tooMany.count, 1)
            XCTAssertEqual(tooMany.first?.line, 1)
        }
        XCTAssertLessThanOrEqual(reads, KeepalivedLexer.maximumIncludedFiles + 1)
    }

    func testIncludedFilesLargerThanTheLimitInAllAreRefusedAtTheInclude() {
        let part = String(repeating: "! " + String(repeating: "x", count: 1021) + "\n", count: 3 << 10)
        XCTAssertThrowsError(
            try KeepalivedImporter.importConfig(text: "include part-*.conf\n", file: "keepalived.conf") { _ in
                (1...6).map { (file: "part-\($0).conf", text: part) }
            }
        ) { error in
            let problems =
                (error as? ConfigErrors)?.problems.filter { $0.message.contains("MiB a config may have in all") } ?? []
            XCTAssertEqual(problems.map(\.value), ["part-6.conf"])
            XCTAssertEqual(problems.map(\.line), [1])
        }
    }

    // MARK: Files that are not keepalived configs

    /// A unique token in every secret line, so a leak of any part shows.
    let token = "Zq7tokenXk2"
    var shadow: String { (1...6).map { "user\($0):$6$\(token)salt$\(token)hash\($0):19700:0:99999:7:::\n" }.joined() }

    func assertOneErrorLeakingNothing(
        _ text: String, includes: [String: String] = [:], about file: String,
        file callerFile: StaticString = #filePath, line: UInt = #line
    ) {
        let found = problems(text, includes: includes, file: callerFile, line: line)
        XCTAssertEqual(
            found.count, 1, "one error, no line-by-line warnings: \(found.prefix(3))",
            file: callerFile, line: line)
        XCTAssertEqual(found.first?.severity, .error, file: callerFile, line: line)
        XCTAssertEqual(found.first?.file, file, file: callerFile, line: line)
        XCTAssertTrue(
            found.first?.message.contains("does not look like a keepalived config") == true,
            "\(found.prefix(3))", file: callerFile, line: line)
        for problem in found {
            XCTAssertFalse(
                problem.description.contains(token), "echoes the file: \(problem)",
                file: callerFile, line: line)
        }
    }

    func testIncludedFileThatIsNotAKeepalivedConfigStopsTheImportWithOneErrorEchoingNoLine() {
        let text = virtualServer("198.18.0.1", "80") + "include /etc/shadow\n"
        assertOneErrorLeakingNothing(text, includes: ["/etc/shadow": shadow], about: "/etc/shadow")
        // Shorter than the statements judged: every statement it has is unknown.
        assertOneErrorLeakingNothing(text, includes: ["/etc/shadow": "ghp_\(token)\n"], about: "/etc/shadow")
    }

    func testIncludedFileInsideABlockIsJudgedTheSame() {
        let text = "virtual_server 198.18.0.1 80 {\n  include /etc/shadow\n  lb_algo rr\n}\n"
        assertOneErrorLeakingNothing(text, includes: ["/etc/shadow": shadow], about: "/etc/shadow")
    }

    func testFileThatIsNotAKeepalivedConfigIsRefusedWithOneErrorEchoingNoLine() {
        assertOneErrorLeakingNothing(shadow, about: "keepalived.conf")
        let environment = "AWS_SECRET_ACCESS_KEY=\(token)\nexport TOKEN=\(token)\n"
        assertOneErrorLeakingNothing(environment, about: "keepalived.conf")
    }

    func testBinaryContentIsRefusedWithOneErrorEchoingNothing() {
        let environ = "PATH=/usr/bin\u{0}SECRET=\(token)\u{0}HOME=/root\u{0}"
        assertOneErrorLeakingNothing(environ, about: "keepalived.conf")
        let text = virtualServer("198.18.0.1", "80") + "include /proc/self/environ\n"
        assertOneErrorLeakingNothing(text, includes: ["/proc/self/environ": environ], about: "/proc/self/environ")
    }

    func testIncludedListOfAddressesOrNamesIsNotMistakenForANonConfig() throws {
        let text =
            "vrrp_instance VI_1 {\n  virtual_ipaddress {\n    include vips.conf\n  }\n"
            + "  track_script {\n    include scripts.conf\n  }\n}\n"
            + "virtual_server_group web {\n  include group.conf\n}\n"
            + "virtual_server group web {\n  lb_algo rr\n"
            + "  real_server 198.18.1.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n"
        let includes = [
            "vips.conf": "198.18.0.1/24 dev eth0\n198.18.0.2\n",
            "scripts.conf": "chk_haproxy\nchk_nginx\n",
            "group.conf": "198.18.0.1 80\n198.18.0.2-3 80\n",
        ]
        let imported = try KeepalivedImporter.importConfig(text: text, file: "keepalived.conf") { path in
            includes[path].map { [(file: path, text: $0)] } ?? []
        }
        XCTAssertEqual(imported.config.vips.map(\.address.description), ["198.18.0.1", "198.18.0.2", "198.18.0.3"])
    }

    func testUnknownKeywordIsNamedTruncatedAndInPrintableASCIIOnly() throws {
        let keyword = "k\(token)" + String(repeating: "x", count: 40) + "\u{e9}\(token)"
        let text = virtualServer("198.18.0.1", "80")
            .replacingOccurrences(of: "  lb_algo rr\n", with: "  lb_algo rr\n  \(keyword) \(token)\n")
        let imported = try KeepalivedImporter.importConfig(text: text, file: "keepalived.conf")
        let unknown = try XCTUnwrap(
            imported.warnings.first { $0.message.hasPrefix("unknown keyword") },
            "\(imported.warnings)")
        let field = unknown.field ?? ""
        XCTAssertTrue(field.hasPrefix("k\(token)xxx"), field)
        XCTAssertLessThanOrEqual(field.count, 35, field)
        XCTAssertTrue(field.allSatisfy { $0.isASCII }, field)
        XCTAssertFalse(unknown.description.contains("x\(token)"), unknown.description)
        XCTAssertFalse(unknown.description.contains(" \(token)"), "the arguments are not shown: \(unknown.description)")
    }

    func testGeneratedYAMLCopiesNoUnknownLineAndNoSecretArgument() throws {
        let text =
            "vrrp_instance VI_1 {\n  authentication {\n    auth_type PASS\n    auth_pass \(token)\n  }\n}\n"
            + "auth_pass \(token)\n"
            + virtualServer("198.18.0.1", "80")
            .replacingOccurrences(of: "  lb_algo rr\n", with: "  lb_algo rr\n  persistance_timeout 30\n")
        let imported = try KeepalivedImporter.importConfig(text: text, file: "keepalived.conf")
        XCTAssertTrue(
            imported.warnings.contains { $0.field == "persistance_timeout" },
            "still said on stderr: \(imported.warnings)")
        let yaml = ConfigEmitter.yaml(imported.config, header: imported.header(source: "keepalived.conf"))
        XCTAssertFalse(yaml.contains(token), yaml)
        XCTAssertFalse(yaml.contains("persistance_timeout"), "an unknown keyword is not copied into the YAML: \(yaml)")
        XCTAssertTrue(yaml.contains("vrrp_instance"), "known keywords ecmpd does not support are still named: \(yaml)")
    }
}
