import ECMPCore
import XCTest

final class IPVSDesiredTableTests: XCTestCase {
    private let vip = IPv4Address(198, 18, 0, 100)
    private func ip(_ text: String) -> IPAddress { IPAddress(text)! }

    private func desired(_ yaml: String, ownsWholeTable: Bool = false) throws -> IPVSDesiredTable {
        IPVSDesiredTable(try ConfigParser.parse(yaml, file: "t.yaml").config, ownsWholeTable: ownsWholeTable)
    }

    private func config(_ services: [VirtualService]) -> Config {
        Config(vips: [VIPConfig(address: vip, services: services)])
    }

    func testReadsEveryServiceSettingFromYAML() throws {
        let result = try desired(
            """
            vips:
              - address: 198.18.0.100
                services:
                  - { protocol: sctp, port: 9000, scheduler: sh, scheduler_flags: [sh-port], forwarding: tunnel }
                  - protocol: udp
                    port: 5060
                    scheduler_flags: [one-packet]
                    persistence: { timeout: 900, netmask: 255.255.0.0 }
                    forwarding: nat
                    real_servers:
                      - { address: 198.18.1.4, weight: 5 }
                      - { address: 198.18.1.3, port: 5080 }
            """)
        XCTAssertEqual(
            result.table,
            IPVSTable([
                .init(
                    IPVSService(
                        .udp(.v4(vip), port: 5060), scheduler: "wlc", flags: [.onePacket, .persistent],
                        persistenceTimeout: 900,
                        netmask: .ipv4(IPv4Address(255, 255, 0, 0))),
                    destinations: [
                        IPVSDestination(ip("198.18.1.3"), port: 5080, forwarding: .masquerade, weight: 1),
                        IPVSDestination(ip("198.18.1.4"), port: 5060, forwarding: .masquerade, weight: 5),
                    ]),
                .init(IPVSService(.sctp(.v4(vip), port: 9000), scheduler: "sh", flags: .shPort)),
            ]))
    }

    func testRealServerWithoutPortTakesTheServicePort() {
        let service = VirtualService(listener: .port(.tcp, 8080), realServers: [RealServer(address: ip("198.18.1.1"))])
        XCTAssertEqual(IPVSDesiredTable(config([service])).table.entries.first?.destinations.map(\.port), [8080])
    }

    func testMarkServiceIsIPv4WithPortZeroDestinations() {
        let service = VirtualService(
            listener: .fwmark(7), scheduler: "rr", forwarding: .nat,
            realServers: [
                RealServer(address: ip("198.18.1.1")), RealServer(address: ip("198.18.1.2"), port: 8080, weight: 0),
            ])
        XCTAssertEqual(
            IPVSDesiredTable(config([service])).table,
            IPVSTable([
                .init(
                    IPVSService(.fwmark(7, family: .ipv4), scheduler: "rr"),
                    destinations: [
                        IPVSDestination(ip("198.18.1.1"), port: 0, forwarding: .masquerade, weight: 1),
                        IPVSDestination(ip("198.18.1.2"), port: 8080, forwarding: .masquerade, weight: 0),
                    ])
            ]))
    }

    func testSchedulerFlagNamesMapToTheSharedBits() {
        XCTAssertEqual(IPVSDesiredTable.flags(named: ["mh-fallback", "mh-port"]), [.sched1, .sched2])
        XCTAssertEqual(IPVSDesiredTable.flags(named: ["sh-fallback", "sh-port"]), [.sched1, .sched2])
        XCTAssertEqual(IPVSDesiredTable.flags(named: ["one-packet"]), .onePacket)
        XCTAssertEqual(IPVSDesiredTable.flags(named: ["no-such-flag"]), [])
    }

    func testPersistenceWithoutNetmaskGroupsByHost() {
        let service = VirtualService(listener: .port(.tcp, 80), persistence: Persistence(timeout: 60))
        let programmed = IPVSDesiredTable(config([service])).table.services.first
        XCTAssertEqual(programmed?.flags, .persistent)
        XCTAssertEqual(programmed?.persistenceTimeout, 60)
        XCTAssertEqual(programmed?.netmask, .host(for: .ipv4))
    }

    func testServicesAndDestinationsComeInCanonicalOrder() throws {
        let result = try desired(
            """
            vips:
              - address: 198.18.0.200
                services:
                  - { fwmark: 3, real_servers: [{ address: 198.18.1.1 }] }
                  - { protocol: udp, port: 53, real_servers: [{ address: 198.18.1.1 }] }
              - address: 198.18.0.100
                services:
                  - port: 443
                    real_servers: [{ address: "2001:db8::2" }, { address: 198.18.1.10 }, { address: 198.18.1.9 }]
                  - { port: 80, real_servers: [{ address: 198.18.1.1 }] }
            """)
        XCTAssertEqual(
            result.table.services.map(\.identity.description),
            ["TCP 198.18.0.100:80", "TCP 198.18.0.100:443", "UDP 198.18.0.200:53", "FWM 3"])
        XCTAssertEqual(
            result.table[.tcp(.v4(vip), port: 443)]?.destinations.map(\.key.description),
            ["198.18.1.9:443", "198.18.1.10:443", "[2001:db8::2]:443"])
        XCTAssertEqual(result.table, result.table.configuration, "already canonical")
    }

    /// `{address}` and `{address, port: <service port>}` pass the parser's
    /// duplicate check but are one IPVS destination.
    func testServerListedWithAndWithoutTheServicePortIsOneDestination() {
        let service = VirtualService(
            listener: .port(.tcp, 80),
            realServers: [
                RealServer(address: ip("198.18.1.1"), weight: 3),
                RealServer(address: ip("198.18.1.1"), port: 80, weight: 9),
            ])
        XCTAssertEqual(IPVSDesiredTable(config([service])).table.entries.first?.destinations.map(\.weight), [3])
    }

    func testOwnsOnlyTheServicesTheConfigNamesUnlessTold() {
        let service = VirtualService(listener: .port(.tcp, 80))
        let named = IPVSServiceIdentity.tcp(.v4(vip), port: 80)
        XCTAssertEqual(IPVSDesiredTable(config([service])).ownership, .services([named]))
        XCTAssertEqual(IPVSDesiredTable(config([service]), ownsWholeTable: true).ownership, .wholeTable)
    }

    /// Without whole-table ownership a plan never deletes: a service taken
    /// out of the config, or one keepalived created, stays.
    func testPlanFromDesiredTableLeavesForeignServicesAlone() {
        let foreign = IPVSTable([.init(IPVSService(.tcp(.v4(IPv4Address(198, 18, 9, 9)), port: 80)))])
        let desired = IPVSDesiredTable(config([VirtualService(listener: .port(.tcp, 80))]))
        let plan = IPVSReconcilePlan(desired: desired.table, actual: foreign, ownership: desired.ownership)
        XCTAssertEqual(plan.changes, [.addService(desired.table.services[0])])
    }

    func testEmptyConfigWantsAnEmptyTable() {
        let result = IPVSDesiredTable(Config())
        XCTAssertEqual(result.table, IPVSTable())
        XCTAssertEqual(result.ownership, .services([]))
    }
}
