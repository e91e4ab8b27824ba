import ECMPCore
import ECMPNetlink
import Foundation
import XCTest

/// `ecmpd ipvs apply` and `ecmpd ipvs list`, run as the built binary the
/// way an operator runs them, checked against `ipvsadm`.
final class IPVSCommandTests: IPVSKernelTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecmpd-ipvs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        try super.tearDownWithError()
    }

    private func ip(_ text: String) -> IPAddress { IPAddress(text)! }

    /// Every service setting the config has: ports with and without the
    /// real server's own, mh flags, persistence with a netmask, one-packet,
    /// DR, NAT and tunnel, a mark service, weight 0.
    private func configText(webWeight: Int = 1) -> String {
        """
        vips:
          - address: 198.18.0.1
            services:
              - port: 80
                scheduler: mh
                scheduler_flags: [mh-port]
                real_servers:
                  - { address: 198.18.1.2, weight: \(webWeight) }
                  - { address: 198.18.1.1, port: 8080, weight: 3 }
              - protocol: udp
                port: 53
                scheduler: wrr
                scheduler_flags: [one-packet]
                persistence: { timeout: 60, netmask: 255.255.255.0 }
                forwarding: nat
                real_servers:
                  - { address: 198.18.1.3, port: 5353, weight: 0 }
          - address: 198.18.0.2
            services:
              - fwmark: 7
                scheduler: rr
                forwarding: tunnel
                real_servers:
                  - { address: 198.18.1.4 }

        """
    }

    private var expected: IPVSTable {
        IPVSTable([
            .init(
                IPVSService(.tcp(ip("198.18.0.1"), port: 80), scheduler: "mh", flags: .mhPort),
                destinations: [
                    IPVSDestination(ip("198.18.1.1"), port: 8080, forwarding: .directRoute, weight: 3),
                    IPVSDestination(ip("198.18.1.2"), port: 80, forwarding: .directRoute, weight: 1),
                ]),
            .init(
                IPVSService(
                    .udp(ip("198.18.0.1"), port: 53), scheduler: "wrr", flags: [.onePacket, .persistent],
                    persistenceTimeout: 60, netmask: .ipv4(IPv4Address(255, 255, 255, 0))),
                destinations: [
                    IPVSDestination(ip("198.18.1.3"), port: 5353, forwarding: .masquerade, weight: 0)
                ]),
            .init(
                IPVSService(.fwmark(7, family: .ipv4), scheduler: "rr"),
                destinations: [
                    IPVSDestination(ip("198.18.1.4"), port: 0, forwarding: .tunnel, weight: 1)
                ]),
        ])
    }

    private func writeConfig(_ text: String, name: String = "ecmpd.yaml") throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// stdout of a successful run.
    @discardableResult
    private func run(_ arguments: [String]) throws -> String { try Tool.run(builtEcmpd, arguments) }

    private func lines(_ output: String) -> [String] { output.split(separator: "\n").map(String.init) }

    func testApplyProgramsTheConfiguredTable() throws {
        let output = try run(["ipvs", "apply", "--config", try writeConfig(configText())])
        XCTAssertEqual(lines(output).filter { $0.hasPrefix("+ service ") }.count, 3, output)
        XCTAssertEqual(lines(output).filter { $0.hasPrefix("+ destination ") }.count, 4, output)
        XCTAssertEqual(lines(output).count, 7, output)
        assertSameConfiguration(try Ipvsadm.listing(), expected, "ipvsadm -Ln after apply")
    }

    func testSecondApplyPrintsNoChanges() throws {
        let config = try writeConfig(configText())
        try run(["ipvs", "apply", "--config", config])
        XCTAssertEqual(try run(["ipvs", "apply", "--config", config]), "no changes\n")
    }

    func testDryRunChangesNothing() throws {
        let output = try run(["ipvs", "apply", "--config", try writeConfig(configText()), "--dry-run"])
        XCTAssertEqual(lines(output).last, "dry run: 7 changes not applied")
        XCTAssertEqual(try Ipvsadm.listing(), IPVSTable())

        try run(["ipvs", "apply", "--config", try writeConfig(configText())])
        try run([
            "ipvs", "apply", "--config", try writeConfig(configText(webWeight: 9), name: "heavier.yaml"), "--dry-run",
        ])
        assertSameConfiguration(try Ipvsadm.listing(), expected, "after a dry run of a weight change")
    }

    func testChangingOneWeightIsExactlyOneDestinationEdit() throws {
        try run(["ipvs", "apply", "--config", try writeConfig(configText())])
        let changed = try writeConfig(configText(webWeight: 5), name: "changed.yaml")
        XCTAssertEqual(
            try run(["ipvs", "apply", "--config", changed]),
            "~ destination 198.18.1.2:80 in TCP 198.18.0.1:80: weight 1 -> 5\n")
        XCTAssertEqual(try Ipvsadm.listing()[.tcp(ip("198.18.0.1"), port: 80)]?.destinations.map(\.weight), [3, 5])
    }

    func testApplyJSONNamesEachChange() throws {
        try run(["ipvs", "apply", "--config", try writeConfig(configText())])
        let output = try run([
            "ipvs", "apply", "--config", try writeConfig(configText(webWeight: 5), name: "changed.yaml"), "--json",
        ])
        let report = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let changes = report?["changes"] as? [[String: Any]]
        XCTAssertEqual(changes?.count, 1, output)
        XCTAssertEqual(changes?.first?["action"] as? String, "edit")
        XCTAssertEqual(changes?.first?["destination"] as? String, "198.18.1.2:80")
        XCTAssertEqual(report?["applied"] as? Int, 1)
    }

    /// Services the config does not name survive unless ecmpd owns the table.
    func testForeignServiceStaysUnlessOwningTheWholeTable() throws {
        try Ipvsadm.run(["-A", "-t", "198.18.9.9:443", "-s", "rr"])
        let config = try writeConfig(configText())
        try run(["ipvs", "apply", "--config", config])
        XCTAssertNotNil(try Ipvsadm.listing()[.tcp(ip("198.18.9.9"), port: 443)])
        XCTAssertEqual(
            try run(["ipvs", "apply", "--config", config, "--own-whole-table"]), "- service TCP 198.18.9.9:443\n")
        assertSameConfiguration(try Ipvsadm.listing(), expected, "after taking the whole table")
    }

    func testKernelRefusalExitsOneWithTheReason() throws {
        let config = try writeConfig(
            """
            vips:
              - address: 198.18.0.1
                services:
                  - { port: 80, forwarding: nat, real_servers: [{ address: "2001:db8::1" }] }

            """)
        XCTAssertThrowsError(try run(["ipvs", "apply", "--config", config])) { error in
            guard let failure = error as? Tool.Failure else { return XCTFail("\(error)") }
            XCTAssertEqual(failure.status, 1)
            XCTAssertTrue(
                failure.output.contains(
                    "error: add destination [2001:db8::1]:80 to TCP 198.18.0.1:80: "
                        + "the kernel refused the destination (EINVAL)"), failure.output)
            XCTAssertTrue(failure.output.contains("applied 1 of 2 changes"), failure.output)
        }
    }

    func testUsageErrorExitsTwo() throws {
        XCTAssertThrowsError(try run(["ipvs", "apply", "--no-such-flag"])) { error in
            XCTAssertEqual((error as? Tool.Failure)?.status, 2, "\(error)")
        }
    }

    static func assertBetween(
        _ low: [UInt64]?, _ value: [UInt64]?, _ high: [UInt64]?, _ message: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        guard let low, let value, let high, low.count == value.count, value.count == high.count else {
            return XCTFail(
                "\(message): missing counters (\(String(describing: low)), \(String(describing: value)), \(String(describing: high)))",
                file: file, line: line)
        }
        for index in value.indices where !(low[index] <= value[index] && value[index] <= high[index]) {
            XCTFail(
                "\(message): counter \(index) is \(value[index]), ipvsadm read \(low[index]) before and \(high[index]) after",
                file: file, line: line)
        }
    }

    /// Field by field against `ipvsadm -Ln` (settings, connections) and
    /// `ipvsadm -Ln --stats --exact` (counters), after real connections
    /// went through IPVS so the counters are not all zero.
    func testListJSONAgreesWithIpvsadm() throws {
        let lab = try TrafficLab()
        defer { lab.tearDown() }
        try run(["ipvs", "apply", "--config", try writeConfig(configText())])
        try lab.sendConnectionAttempts(to: 80, count: 2)

        // Retransmitted SYNs may still arrive while the two tools read, so
        // ecmpd's counters must lie between ipvsadm's before and after.
        let countersBefore = try Self.parseStats(try Ipvsadm.run(["-Ln", "--stats", "--exact"]))
        let listing = try JSONDecoder().decode(Listing.self, from: Data(try run(["ipvs", "list", "--json"]).utf8))
        let settings = try Ipvsadm.listing()
        let counters = try Self.parseStats(try Ipvsadm.run(["-Ln", "--stats", "--exact"]))
        XCTAssertEqual(
            try Ipvsadm.run(["-Ln"]).split(separator: "\n").first.map(String.init),
            "IP Virtual Server version \(listing.version) (size=\(listing.connectionTableSize))")
        XCTAssertEqual(Set(listing.services.map(\.name)), Set(settings.entries.map(\.service.identity.description)))

        for service in listing.services {
            let name = service.name
            guard let entry = settings.entries.first(where: { $0.service.identity.description == name }) else {
                continue
            }
            XCTAssertEqual(service.scheduler, entry.service.scheduler, name)
            XCTAssertEqual(
                service.persistence?.timeout,
                entry.service.flags.contains(.persistent) ? entry.service.persistenceTimeout : nil, name)
            XCTAssertEqual(service.persistence?.netmask ?? "255.255.255.255", entry.service.netmask.description, name)
            XCTAssertEqual(service.flags.contains("one-packet"), entry.service.flags.contains(.onePacket), name)
            XCTAssertEqual(service.flags.contains("mh-port"), entry.service.flags.contains(.mhPort), name)
            Self.assertBetween(countersBefore[name], service.stats.counters, counters[name], "\(name) counters")
            XCTAssertEqual(Set(service.destinations.map(\.key)), Set(entry.destinations.map(\.key.description)), name)
            for destination in service.destinations {
                let context = "\(destination.key) of \(name)"
                guard let listed = entry.destinations.first(where: { $0.key.description == destination.key }) else {
                    continue
                }
                XCTAssertEqual(destination.forwarding, listed.forwarding.description, context)
                XCTAssertEqual(destination.weight, listed.weight, context)
                XCTAssertEqual(destination.activeConnections, listed.connections?.active, context)
                XCTAssertEqual(destination.inactiveConnections, listed.connections?.inactive, context)
                let key = "\(name) -> \(destination.key)"
                Self.assertBetween(
                    countersBefore[key], destination.stats.counters, counters[key], "\(context) counters")
            }
        }
        let web = try XCTUnwrap(listing.services.first { $0.name == "TCP 198.18.0.1:80" })
        XCTAssertGreaterThan(web.stats.connections, 0, "the lab's connections went through IPVS")
        XCTAssertGreaterThan(web.stats.incomingPackets, 0)
    }

    func testListTableShowsEveryServiceAndDestination() throws {
        try run(["ipvs", "apply", "--config", try writeConfig(configText())])
        let rows = lines(try run(["ipvs", "list"]))
        XCTAssertEqual(rows.first, try Ipvsadm.run(["-Ln"]).split(separator: "\n").first.map(String.init))
        XCTAssertEqual(rows.count, 1 + 2 + 3 + 4, rows.joined(separator: "\n"))
        XCTAssertTrue(
            rows.contains { $0.hasPrefix("UDP  198.18.0.1:53 wrr persistent 60 mask 255.255.255.0 ops ") },
            rows.joined(separator: "\n"))
        XCTAssertTrue(rows.contains { $0.hasPrefix("TCP  198.18.0.1:80 mh (mh-port) ") }, rows.joined(separator: "\n"))
        XCTAssertTrue(
            rows.contains {
                $0.range(of: #"^  -> 198\.18\.1\.1:8080 +Route +3( +[0-9]+){7}$"#, options: .regularExpression) != nil
            },
            rows.joined(separator: "\n"))
    }

    // MARK: Reading the outputs

    /// The parts of `ecmpd ipvs list --json` compared here.
    private struct Listing: Decodable {
        var version: String
        var connectionTableSize: UInt32
        var services: [Service]

        struct Service: Decodable {
            var `protocol`: String
            var family: String
            var address: String?
            var port: UInt16?
            var fwmark: UInt32?
            var scheduler: String
            var flags: [String]
            var persistence: Persistence?
            var stats: Stats
            var destinations: [Destination]

            /// As `IPVSServiceIdentity` describes it: `TCP 198.18.0.1:80`, `FWM 7`.
            var name: String {
                if let fwmark { return "FWM \(fwmark)" + (family == "IPv6" ? " IPv6" : "") }
                return "\(`protocol`) \(IPVSDestinationKey(IPAddress(address ?? "")!, port: port ?? 0))"
            }
        }

        struct Persistence: Decodable {
            var timeout: UInt32
            var netmask: String
        }

        struct Destination: Decodable {
            var address: String
            var port: UInt16
            var forwarding: String
            var weight: Int32
            var activeConnections: UInt32
            var inactiveConnections: UInt32
            var stats: Stats

            var key: String { IPVSDestinationKey(IPAddress(address)!, port: port).description }
        }

        struct Stats: Decodable {
            var connections: UInt64
            var incomingPackets: UInt64
            var outgoingPackets: UInt64
            var incomingBytes: UInt64
            var outgoingBytes: UInt64

            var counters: [UInt64] { [connections, incomingPackets, outgoingPackets, incomingBytes, outgoingBytes] }
        }
    }

    /// `ipvsadm -Ln --stats --exact`: the five counters (Conns InPkts OutPkts
    /// InBytes OutBytes) by `TCP 198.18.0.1:80` and `TCP 198.18.0.1:80 -> 198.18.1.1:80`.
    private static func parseStats(_ text: String) throws -> [String: [UInt64]] {
        var counters: [String: [UInt64]] = [:]
        var service = ""
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            let numbers = words.suffix(5).compactMap(UInt64.init)
            guard words.count >= 6, numbers.count == 5 else { continue }
            if words[0] == "->" {
                counters["\(service) -> \(words[1])"] = numbers
            } else if ["TCP", "UDP", "SCTP", "FWM"].contains(words[0]) {
                service = words.dropLast(5).joined(separator: " ")
                counters[service] = numbers
            }
        }
        return counters
    }
}

/// The `ecmpd` built beside this test bundle (`swift build --build-tests`
/// builds both into one directory).
var builtEcmpd: String {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("ecmpd").path
}

/// Runs in the boot without ip_vs (see `IPVSNoModuleTests`): the command
/// must say the module is missing and exit 1, like the client it wraps.
extension IPVSNoModuleTests {
    func testIPVSCommandsSayTheKernelHasNoIPVS() throws {
        try KernelTier.requireVM()
        guard KernelTier.expectsNoIPVS else {
            throw XCTSkip("runs in the --no-ipvs boot only (ECMPD_EXPECT_NO_IPVS=1)")
        }
        let config = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ecmpd-no-ipvs-\(UUID().uuidString).yaml"
        ).path
        try "vips:\n  - { address: 198.18.0.1, services: [{ port: 80, real_servers: [{ address: 198.18.1.1 }] }] }\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: config) }
        for arguments in [["ipvs", "list"], ["ipvs", "apply", "--config", config]] {
            XCTAssertThrowsError(try Tool.run(builtEcmpd, arguments)) { error in
                guard let failure = error as? Tool.Failure else { return XCTFail("\(error)") }
                XCTAssertEqual(failure.status, 1, "\(arguments)")
                XCTAssertEqual(
                    failure.output,
                    "error: resolve generic netlink family IPVS: the kernel has no IPVS: load the ip_vs module (modprobe ip_vs)\n"
                )
            }
        }
    }
}
