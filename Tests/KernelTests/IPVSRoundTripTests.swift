import ECMPCore
import ECMPNetlink
import XCTest

/// Programs every kind of service through `IPVSClient` and reads it back
/// through the client and through `ipvsadm`: all three must agree.
final class IPVSRoundTripTests: IPVSKernelTestCase {
    private func program(_ table: IPVSTable) throws {
        for entry in table.entries {
            try client.addService(entry.service)
            for destination in entry.destinations {
                try client.addDestination(destination, to: entry.service.identity)
            }
        }
    }

    func testEveryKindReadsBackThroughTheClient() throws {
        try program(SampleTables.everyKind)
        assertSameConfiguration(try client.table(), SampleTables.everyKind, "client")
    }

    func testEveryKindReadsBackThroughIpvsadmList() throws {
        try program(SampleTables.everyKind)
        assertSameConfiguration(try Ipvsadm.listing(), SampleTables.everyKind, "ipvsadm -Ln")
    }

    func testEveryKindReadsBackThroughIpvsadmSave() throws {
        try program(SampleTables.everyKind)
        let saved = try Ipvsadm.parseRules(try Ipvsadm.run(["-Sn"]))
        assertSameConfiguration(saved, SampleTables.withoutThresholds(SampleTables.everyKind), "ipvsadm -Sn")
    }

    func testReadBackCarriesHashedFlagAndStatistics() throws {
        try program(SampleTables.everyKind)
        let table = try client.table()
        XCTAssertTrue(table.services.allSatisfy { $0.flags.contains(.hashed) }, "kernel sets hashed on every service")
        XCTAssertTrue(table.services.allSatisfy { $0.stats != nil })
        XCTAssertTrue(table.entries.flatMap(\.destinations).allSatisfy { $0.stats != nil && $0.connections != nil })
    }

    func testServiceLookupAndDestinationsOfOneService() throws {
        try program(SampleTables.everyKind)
        for entry in SampleTables.everyKind.entries {
            XCTAssertEqual(try client.service(entry.service.identity).configuration, entry.service)
            XCTAssertEqual(
                Set(try client.destinations(of: entry.service.identity).map(\.configuration)),
                Set(entry.destinations), "\(entry.service.identity)")
        }
    }

    /// The kernel prepends each new destination to the service's list, and
    /// the list order is what `mh` builds its table from.
    func testDestinationsAreListedNewestFirst() throws {
        let service = IPVSService(.tcp(SampleTables.ip("198.18.0.1"), port: 80), scheduler: "mh")
        try client.addService(service)
        let keys = ["198.18.1.2", "198.18.1.9", "198.18.1.1"].map { IPVSDestinationKey(SampleTables.ip($0), port: 80) }
        for key in keys {
            try client.addDestination(IPVSDestination(key.address, port: key.port), to: service.identity)
        }
        XCTAssertEqual(try client.destinations(of: service.identity).map(\.key), keys.reversed())
    }

    /// ipvsadm forces a direct-routing destination's port to the service's;
    /// the kernel keeps whatever it is given (the port is never rewritten).
    func testDirectRouteDestinationKeepsItsOwnPort() throws {
        let service = IPVSService(.tcp(SampleTables.ip("198.18.0.1"), port: 80), scheduler: "rr")
        let real = IPVSDestination(SampleTables.ip("198.18.1.1"), port: 8080, forwarding: .directRoute)
        try program(IPVSTable([.init(service, destinations: [real])]))
        XCTAssertEqual(try client.destinations(of: service.identity).map(\.key), [real.key])
        XCTAssertEqual(try Ipvsadm.listing()[service.identity]?.destinations.map(\.key), [real.key])
    }

    func testEditServiceSwapsSchedulerAndKeepsDestinations() throws {
        let entry = SampleTables.everyKind.entries[0]
        try program(IPVSTable([entry]))
        var edited = entry.service
        edited.scheduler = "wrr"
        edited.flags = [.persistent]
        edited.persistenceTimeout = 30
        edited.netmask = .ipv4(IPv4Address(255, 255, 0, 0))
        try client.editService(edited)
        assertSameConfiguration(
            try client.table(), IPVSTable([.init(edited, destinations: entry.destinations)]), "after edit")
        assertSameConfiguration(
            try Ipvsadm.listing(), IPVSTable([.init(edited, destinations: entry.destinations)]), "ipvsadm after edit")
    }

    func testEditAndDeleteDestination() throws {
        let entry = SampleTables.everyKind.entries[0]
        try program(IPVSTable([entry]))
        var changed = entry.destinations[0]
        changed.weight = 7
        changed.forwarding = .masquerade
        changed.upperThreshold = 9
        changed.lowerThreshold = 3
        try client.editDestination(changed, of: entry.service.identity)
        try client.deleteDestination(entry.destinations[1].key, from: entry.service.identity)
        let expected = IPVSTable([.init(entry.service, destinations: [changed, entry.destinations[2]])])
        assertSameConfiguration(try client.table(), expected, "client")
        assertSameConfiguration(try Ipvsadm.listing(), expected, "ipvsadm")
    }

    func testDeleteServiceAndFlush() throws {
        try program(SampleTables.everyKind)
        let first = SampleTables.everyKind.entries[0].service.identity
        try client.deleteService(first)
        XCTAssertNil(try client.table()[first])
        XCTAssertEqual(try client.services().count, SampleTables.everyKind.entries.count - 1)
        try client.flush()
        XCTAssertEqual(try client.services(), [])
        XCTAssertEqual(try Ipvsadm.parseRules(try Ipvsadm.run(["-Sn"])), IPVSTable())
    }

    func testInfoMatchesIpvsadmHeader() throws {
        let header = try Ipvsadm.run(["-Ln"]).split(separator: "\n").first.map(String.init)
        XCTAssertEqual(header, try client.info().description)
    }

    func testTimeoutsRoundTrip() throws {
        let original = try client.timeouts()
        defer { try? client.setTimeouts(original) }
        try client.setTimeouts(IPVSTimeouts(tcp: 901, tcpFin: 121, udp: 301))
        XCTAssertEqual(try client.timeouts(), IPVSTimeouts(tcp: 901, tcpFin: 121, udp: 301))
        XCTAssertEqual(try Ipvsadm.run(["-Ln", "--timeout"]), "Timeout (tcp tcpfin udp): 901 121 301\n")
        try client.setTimeouts(IPVSTimeouts(udp: 302))
        XCTAssertEqual(
            try client.timeouts(), IPVSTimeouts(tcp: 901, tcpFin: 121, udp: 302), "0 leaves a timeout unchanged")
    }
}

/// IPv6 VIPs as ecmpd programs them: `ecmpd ipvs apply` from a config with
/// IPv6 VIPs (services of the inet6 family, fwmark inet6 among them, mh
/// with mh-port, DR/NAT/tunnel, weight 0), read back field by field through
/// `ipvsadm -Ln` and `ipvsadm -Sn` (`-f MARK -6`), and `ecmpd ipvs list`
/// words each service as `ipvsadm -Ln` does.
extension IPVSRoundTripTests {
    static let ipv6Config = """
        ospf6: { router_id: 198.18.0.2 }
        vips:
          - address: 2001:db8:ffff::10
            fleet_consistent: true
            services:
              - port: 80
                real_servers:
                  - { address: 2001:db8:1::2 }
                  - { address: 2001:db8:1::1, port: 8080, weight: 0 }
              - protocol: udp
                port: 53
                scheduler: wrr
                scheduler_flags: [one-packet]
                persistence: 30
                forwarding: nat
                real_servers:
                  - { address: 2001:db8:1::3, port: 5353, weight: 3 }
          - address: 2001:db8:ffff::11
            services:
              - fwmark: 9
                scheduler: sh
                scheduler_flags: [sh-port]
                forwarding: tunnel
                real_servers:
                  - { address: 2001:db8:1::4 }
          - address: 198.18.0.1
            services:
              - port: 80
                real_servers: [{ address: 198.18.1.1 }]

        """

    func testIPv6VIPsAppliedByEcmpdReadBackThroughIpvsadmFieldByField() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecmpd-ipv6-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ecmpd.yaml").path
        try Self.ipv6Config.write(toFile: path, atomically: true, encoding: .utf8)
        let expected = IPVSDesiredTable(try ConfigParser.parse(Self.ipv6Config, file: path).config).table
        XCTAssertEqual(
            expected.services.map(\.identity.description),
            ["TCP 198.18.0.1:80", "TCP [2001:db8:ffff::10]:80", "UDP [2001:db8:ffff::10]:53", "FWM 9 IPv6"])

        let applied = try Tool.run(builtEcmpd, ["ipvs", "apply", "--config", path])
        XCTAssertEqual(applied.split(separator: "\n").filter { $0.hasPrefix("+ service ") }.count, 4, applied)
        // ipvsadm refuses `-6` with `-L` (it marks a fwmark service's family
        // only): `-Ln` lists both families, `-Sn` writes `-f MARK -6`.
        XCTAssertThrowsError(try Ipvsadm.run(["-6", "-Ln"]))
        assertSameConfiguration(try Ipvsadm.listing(), expected, "ipvsadm -Ln after ecmpd ipvs apply")
        let saved = try Ipvsadm.parseRules(try Ipvsadm.run(["-Sn"]))
        assertSameConfiguration(saved, SampleTables.withoutThresholds(expected), "ipvsadm -Sn")
        assertSameConfiguration(try client.table(), expected, "client")
        // ecmpd ipvs list words each service as ipvsadm -Ln does.
        let listed = try Tool.run(builtEcmpd, ["ipvs", "list"]).split(separator: "\n").map(String.init)
        let ipvsadmServices = try Ipvsadm.run(["-Ln"]).split(separator: "\n").dropFirst(3)
            .filter { !$0.hasPrefix("  ->") }.map { String($0).trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(ipvsadmServices.count, 4, ipvsadmServices.joined(separator: "\n"))
        for service in ipvsadmServices {
            XCTAssertTrue(
                listed.contains { $0.hasPrefix(service + " ") || $0 == service },
                "ecmpd ipvs list has no row for ipvsadm's \(service):\n\(listed.joined(separator: "\n"))")
        }
        for row in ["TCP  [2001:db8:ffff::10]:80 mh (mh-fallback,mh-port)", "FWM  9 IPv6 sh (sh-port)"] {
            XCTAssertTrue(listed.contains { $0.hasPrefix(row) }, "no \(row):\n\(listed.joined(separator: "\n"))")
        }
        XCTAssertEqual(try Tool.run(builtEcmpd, ["ipvs", "apply", "--config", path]), "no changes\n")
    }
}
