@testable import ECMPCore
import Foundation
import XCTest

/// Inputs an ecmpd config must refuse, each with file, line, field and
/// value, and with no config returned (so nothing can be applied). The
/// classes and what was observed are in docs/reliability.md, "Bad input".
final class ConfigBadInputTests: XCTestCase {
    /// The errors for `text`, failing the test if it parsed.
    func refusal(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [ConfigProblem] {
        do {
            _ = try ConfigParser.parse(text, file: "t.yaml")
            XCTFail("parsed: the input should have been refused", file: file, line: line)
            return []
        } catch {
            return error.problems.filter { $0.severity == .error }
        }
    }

    func vip(_ address: String, services: String = "") -> String { "vips:\n  - address: \"\(address)\"\n\(services)" }

    func testConfigLargerThanTheLimitIsRefusedAtTheLineTheLimitFallsIn() {
        let line = "# " + String(repeating: "x", count: 1021) + "\n"
        let text = "vips:\n" + String(repeating: line, count: (SourceText.maximumSize >> 10) + 1)
        let found = refusal(text)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.file, "t.yaml")
        XCTAssertEqual(found.first?.line, 1 + (SourceText.maximumSize - 6) / 1024 + 1)
        XCTAssertEqual(found.first?.value, "\(text.utf8.count) bytes")
    }

    func testMultiMegabyteConfigWithinTheLimitParsesEveryVIP() throws {
        let vips = (0..<20_000).map { index in
            "  - address: 10.\(index >> 8 & 255).\(index & 255).1\n    services:\n      - port: 80\n        real_servers: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }, { address: 192.0.2.3 }]\n"
        }
        let text = "vips:\n" + vips.joined()
        XCTAssertGreaterThan(text.utf8.count, 2 << 20)
        XCTAssertEqual(try ConfigParser.parse(text, file: "t.yaml").config.vips.count, 20_000)
    }

    func testFlowNestingThousandsDeepIsRefusedWithoutOverflowingTheStack() {
        let found = refusal("vips: " + String(repeating: "[", count: 50_000) + "\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.line, 1)
        XCTAssertTrue(
            found.first?.message.contains("Maximum nesting level reached") == true, found.first?.message ?? "")
    }

    func testNestingAtTheLimitStillParses() throws {
        let depth = ConfigParser.maximumNesting - 4
        let text =
            "vips:\n  - address: 198.18.0.1\nnode: { hostname: " + String(repeating: "[", count: depth)
            + String(repeating: "]", count: depth) + " }\n"
        XCTAssertEqual(refusal(text).map(\.field), ["node.hostname"], "refused for its type, not its depth")
    }

    /// Just under libyaml's default limit (which overflowed this stack
    /// before ecmpd set its own), on a thread with a 512 KiB stack.
    func testFlowNestingPastTheLimitIsRefusedOnASmallStack() {
        let text = "vips: " + String(repeating: "[", count: 999) + String(repeating: "]", count: 999) + "\n"
        // Written on the thread, read after `wait`, which orders the two.
        final class Result: @unchecked Sendable { var problems: [ConfigProblem] = [] }
        let result = Result()
        let done = expectation(description: "parsed")
        let thread = Thread {
            do throws(ConfigErrors) {
                _ = try ConfigParser.parse(text, file: "t.yaml")
            } catch {
                result.problems = error.problems
            }
            done.fulfill()
        }
        thread.stackSize = 512 << 10
        thread.start()
        wait(for: [done], timeout: 60)
        XCTAssertEqual(result.problems.map(\.line), [1])
        XCTAssertTrue(
            result.problems.first?.message.contains("Maximum nesting level reached") == true, "\(result.problems)")
    }

    func testBlockNestingThousandsDeepIsRefusedWithoutOverflowingTheStack() {
        let deep = (0..<5_000).map { String(repeating: " ", count: $0) + "- \n" }.joined()
        XCTAssertEqual(refusal("vips:\n" + deep).first?.file, "t.yaml")
    }

    func testAddressPartsOutOfRangeAreRefusedWithFieldAndValue() {
        for address in ["198.18.0.256", "300.1.1.1", "198.18.0.1/33", "198.18.0.1/32", "-1.0.0.1"] {
            let found = refusal(vip(address))
            XCTAssertEqual(found.map(\.field), ["vips[0].address"], address)
            XCTAssertEqual(found.map(\.value), [address])
            XCTAssertEqual(found.map(\.line), [2])
        }
        let server = refusal(
            vip(
                "198.18.0.1",
                services: "    services:\n      - port: 80\n        real_servers: [{ address: 300.1.1.1 }]\n"))
        XCTAssertEqual(server.map(\.field), ["vips[0].services[0].real_servers[0].address"])
        XCTAssertEqual(server.map(\.line), [5])
    }

    func testPortsZeroAndAbove65535AreRefused() {
        for port in ["0", "65536", "-1", "99999999999999999999"] {
            let found = refusal(vip("198.18.0.1", services: "    services:\n      - port: \(port)\n"))
            XCTAssertEqual(
                found.map(\.description),
                [
                    "t.yaml:4:15: error: vips[0].services[0].port: \"\(port)\": \(port.count > 10 ? "expected a whole number" : "out of range 1-65535")"
                ])
        }
    }

    func testInterfaceNamesWithShellCharactersOrOverFifteenBytesAreRefused() {
        let names = ["eth0;rm -rf /", "$(x)", "eth 0", "eth0/1", "`id`", "eth0\nvip", "abcdefghijklmnop"]
        let list = names.map { "\"\($0.replacingOccurrences(of: "\n", with: "\\n"))\"" }.joined(separator: ", ")
        let found = refusal("ospf:\n  interfaces: [abcdefghijklmno, \(list)]\nvips: [{ address: 198.18.0.1 }]\n")
        XCTAssertEqual(found.map(\.field), names.indices.map { "ospf.interfaces[\($0 + 1)]" })
        XCTAssertEqual(found.map(\.value), names)
        XCTAssertEqual(Set(found.map(\.line)), [2])
        XCTAssertEqual(found.last?.message, "longer than 15 bytes (IFNAMSIZ)")
    }

    func testVIPEqualToAnInterfaceAddressIsRefusedWithFieldAndValue() throws {
        let loaded = try ConfigParser.parse(
            "vips:\n  - address: 198.18.0.100\n  - address: 198.18.0.2\n", file: "t.yaml")
        let network = NetworkSnapshot(interfaces: [
            NetworkInterface(
                index: 1, name: "lo", isUp: true, isLoopback: true,
                addresses: [InterfaceAddress(network: IPv4Network("198.18.0.100/32")!)]),
            NetworkInterface(
                index: 2, name: "eth0", isUp: true,
                addresses: [InterfaceAddress(network: IPv4Network("198.18.0.2/24")!)]),
        ])
        let errors = NetworkConfigValidator.problems(loaded, network: network).filter { $0.severity == .error }
        XCTAssertEqual(errors.map(\.field), ["vips[1].address"], "the VIP on lo is where it belongs")
        XCTAssertEqual(errors.map(\.value), ["198.18.0.2"])
        XCTAssertEqual(errors.map(\.line), [3])
        XCTAssertTrue(errors.first?.message.hasPrefix("is an address of interface eth0") == true, "\(errors)")
    }

    // MARK: VIPs that cannot be VIPs

    func testVIPFromABlockThatCannotBeAVIPIsRefusedWithFieldAndValue() {
        let blocks = [
            "255.255.255.255": "255.255.255.255/32", "0.0.0.0": "0.0.0.0/8", "0.1.2.3": "0.0.0.0/8",
            "240.0.0.1": "240.0.0.0/4", "254.255.255.255": "240.0.0.0/4", "169.254.1.1": "169.254.0.0/16",
            "224.0.0.5": "224.0.0.0/4", "239.255.255.250": "224.0.0.0/4", "127.0.0.1": "127.0.0.0/8",
        ]
        for (address, block) in blocks {
            let found = refusal(vip(address))
            XCTAssertEqual(found.map(\.field), ["vips[0].address"], address)
            XCTAssertEqual(found.map(\.value), [address])
            XCTAssertEqual(found.map(\.line), [2])
            XCTAssertTrue(found.first?.message.contains(block) == true, "\(address): \(found)")
        }
        let neighbours = [
            "169.253.255.255", "169.255.0.0", "1.0.0.0", "223.255.255.255", "126.255.255.255",
            "128.0.0.0",
        ]
        for address in neighbours {
            XCTAssertNoThrow(try ConfigParser.parse(vip(address), file: "t.yaml"), address)
        }
    }

    /// eth0 198.18.0.2/24 with the default route via 198.18.0.1, eth1
    /// 198.18.4.1/30, eth2 198.18.5.0/31 (RFC 3021: no network or
    /// broadcast address) and the VIP 198.18.0.100 on lo.
    func connectedNetwork() -> NetworkSnapshot {
        func addresses(_ prefixes: String...) -> [InterfaceAddress] {
            prefixes.map { InterfaceAddress(network: IPv4Network($0)!) }
        }
        return NetworkSnapshot(
            interfaces: [
                NetworkInterface(
                    index: 1, name: "lo", isUp: true, isLoopback: true,
                    addresses: addresses("127.0.0.1/8", "198.18.0.100/32")),
                NetworkInterface(index: 2, name: "eth0", isUp: true, addresses: addresses("198.18.0.2/24")),
                NetworkInterface(index: 3, name: "eth1", isUp: true, addresses: addresses("198.18.4.1/30")),
                NetworkInterface(index: 4, name: "eth2", isUp: true, addresses: addresses("198.18.5.0/31")),
            ], defaultRoute: DefaultRoute(interfaceIndex: 2, gateway: IPv4Address("198.18.0.1")))
    }

    func hostProblems(_ addresses: [String]) throws -> [ConfigProblem] {
        let text = "vips:\n" + addresses.map { "  - address: \($0)\n" }.joined()
        let loaded = try ConfigParser.parse(text, file: "t.yaml")
        return NetworkConfigValidator.problems(loaded, network: connectedNetwork())
    }

    func testVIPThatIsTheNetworkOrBroadcastAddressOfAConnectedSubnetIsRefusedWithFieldAndValue() throws {
        let found = try hostProblems(["198.18.0.0", "198.18.0.255", "198.18.4.0", "198.18.4.3"])
        XCTAssertEqual(found.map(\.severity), [.error, .error, .error, .error], "\(found)")
        XCTAssertEqual(found.map(\.field), (0..<4).map { "vips[\($0)].address" })
        XCTAssertEqual(found.map(\.value), ["198.18.0.0", "198.18.0.255", "198.18.4.0", "198.18.4.3"])
        XCTAssertEqual(found.map(\.line), [2, 3, 4, 5])
        guard found.count == 4 else { return }
        XCTAssertTrue(found[0].message.hasPrefix("is the network address of 198.18.0.0/24 (eth0)"), found[0].message)
        XCTAssertTrue(found[1].message.hasPrefix("is the broadcast address of 198.18.0.0/24 (eth0)"), found[1].message)
        XCTAssertTrue(found[3].message.hasPrefix("is the broadcast address of 198.18.4.0/30 (eth1)"), found[3].message)
    }

    func testVIPThatIsTheDefaultGatewayIsRefusedWithFieldAndValue() throws {
        let found = try hostProblems(["198.18.0.1"])
        XCTAssertEqual(found.map(\.severity), [.error])
        XCTAssertEqual(found.map(\.field), ["vips[0].address"])
        XCTAssertEqual(found.map(\.value), ["198.18.0.1"])
        XCTAssertTrue(found.first?.message.hasPrefix("is the default gateway") == true, "\(found)")
    }

    func testVIPInsideAConnectedPrefixIsAWarningNamingThePrefix() throws {
        // 198.18.5.1 is the other end of a /31: RFC 3021 gives it no network or broadcast address.
        let found = try hostProblems(["198.18.0.100", "198.18.5.1", "198.18.9.1"])
        XCTAssertEqual(found.map(\.severity), [.warning, .warning], "\(found)")
        XCTAssertEqual(found.map(\.field), ["vips[0].address", "vips[1].address"])
        XCTAssertEqual(found.map(\.value), ["198.18.0.100", "198.18.5.1"])
        guard found.count == 2 else { return }
        XCTAssertTrue(
            found[0].message.hasPrefix("is inside 198.18.0.0/24, a connected prefix of eth0"),
            found[0].message)
        XCTAssertTrue(
            found[1].message.hasPrefix("is inside 198.18.5.0/31, a connected prefix of eth2"),
            found[1].message)
    }

    // MARK: Files that are not ecmpd configs

    /// A unique token in every line, so a leak of any part of a line shows.
    let token = "Zq7tokenXk2"

    func assertOneErrorLeakingNothing(
        _ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let problems: [ConfigProblem]
        do {
            _ = try ConfigParser.parse(text, file: "t.yaml")
            return XCTFail("parsed", file: file, line: line)
        } catch {
            problems = error.problems
        }
        XCTAssertEqual(problems.count, 1, "one error for the whole file: \(problems.prefix(3))", file: file, line: line)
        XCTAssertEqual(problems.first?.file, "t.yaml", file: file, line: line)
        XCTAssertTrue(problems.first?.message.contains(what) == true, "\(problems.prefix(3))", file: file, line: line)
        for problem in problems {
            XCTAssertFalse(problem.description.contains(token), "echoes the file: \(problem)", file: file, line: line)
        }
    }

    func testShadowLikeFileIsRefusedWithOneErrorThatEchoesNoLine() {
        let text = (1...6).map { "user\($0):$6$\(token)salt$\(token)hash\($0):19700:0:99999:7:::\n" }.joined()
        assertOneErrorLeakingNothing(text, "does not look like an ecmpd config")
        assertOneErrorLeakingNothing("password: \(token)\n", "does not look like an ecmpd config")
    }

    func testFileOfOneValueOrAListIsRefusedWithOneErrorThatEchoesNothing() {
        assertOneErrorLeakingNothing("ghp_\(token)\(token)\n", "does not look like an ecmpd config")
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\n\(token)\n-----END OPENSSH PRIVATE KEY-----\n"
        assertOneErrorLeakingNothing(key, "does not look like an ecmpd config")
        assertOneErrorLeakingNothing("- \(token)\n- \(token)\n", "does not look like an ecmpd config")
    }

    func testBinaryContentIsRefusedWithOneErrorThatEchoesNothing() {
        let environ = "PATH=/usr/bin\u{0}SECRET=\(token)\u{0}HOME=/root\u{0}"
        assertOneErrorLeakingNothing(environ, "does not look like an ecmpd config")
        assertOneErrorLeakingNothing("vips: []\n\u{1b}[2J\(token)\n", "does not look like an ecmpd config")
    }

    func testUnknownKeyIsNamedTruncatedAndInPrintableASCIIOnly() {
        let key = "k\(token)" + String(repeating: "x", count: 40) + "\u{e9}\(token)"
        let found = refusal("vips:\n  - address: 198.18.0.1\n    \"\(key)\": 1\n")
        XCTAssertEqual(found.count, 1, "\(found)")
        let value = found.first?.value ?? ""
        XCTAssertTrue(value.hasPrefix("k\(token)xxx"), value)
        XCTAssertLessThanOrEqual(value.count, 35, value)
        XCTAssertTrue(value.allSatisfy { $0.isASCII && !$0.isWhitespace || $0 == " " }, value)
        XCTAssertFalse(found.first?.description.contains("x\(token)") == true, "\(found)")
    }

    func testATypoInTheOnlyTopLevelKeyStillGetsADidYouMean() {
        XCTAssertEqual(
            refusal("vip: [{ address: 198.18.0.1 }]\n").map(\.description),
            [
                "t.yaml:1:1: error: vip: \"vip\": unknown key; did you mean 'vips'?",
                "t.yaml:1:1: error: vips: missing: list at least one VIP",
            ])
    }
}
