import ECMPCore
import ECMPNetlink
import XCTest

/// `ipvsadm-restore` and ecmpd must read each other's tables exactly.
final class IPVSRestoreInteropTests: IPVSKernelTestCase {
    /// Written the way `IPVSRestoreRules` renders (canonical order), so the
    /// dump must render back to exactly these lines.
    private let rules = """
        -A -t 198.18.0.1:80 -s mh -b mh-fallback,mh-port
        -a -t 198.18.0.1:80 -r 198.18.1.1:80 -g -w 1
        -a -t 198.18.0.1:80 -r 198.18.1.2:80 -g -w 3 -x 100 -y 10
        -A -t [2001:db8::1]:443 -s rr -p 120 -M 64
        -a -t [2001:db8::1]:443 -r [2001:db8::11]:443 -m -w 2
        -A -u 198.18.0.1:53 -s wrr -p 60 -M 255.255.255.0 -o
        -a -u 198.18.0.1:53 -r 198.18.1.5:53 -i -w 1 --tun-type ipip
        -A --sctp-service 198.18.0.2:9 -s sh -b sh-port
        -A -f 7 -s rr
        -a -f 7 -r 198.18.1.7:0 -g -w 0
        -A -f 8 -6 -s wlc

        """

    private var expected: IPVSTable {
        let a = SampleTables.ip
        return IPVSTable([
            .init(
                IPVSService(.tcp(a("198.18.0.1"), port: 80), scheduler: "mh", flags: [.mhFallback, .mhPort]),
                destinations: [
                    IPVSDestination(a("198.18.1.1"), port: 80, forwarding: .directRoute, weight: 1),
                    IPVSDestination(
                        a("198.18.1.2"), port: 80, forwarding: .directRoute, weight: 3, upperThreshold: 100,
                        lowerThreshold: 10),
                ]),
            .init(
                IPVSService(
                    .tcp(a("2001:db8::1"), port: 443), scheduler: "rr", flags: .persistent,
                    persistenceTimeout: 120, netmask: .ipv6(prefixLength: 64)),
                destinations: [
                    IPVSDestination(a("2001:db8::11"), port: 443, forwarding: .masquerade, weight: 2)
                ]),
            .init(
                IPVSService(
                    .udp(a("198.18.0.1"), port: 53), scheduler: "wrr", flags: [.persistent, .onePacket],
                    persistenceTimeout: 60, netmask: .ipv4(IPv4Address(255, 255, 255, 0))),
                destinations: [
                    IPVSDestination(a("198.18.1.5"), port: 53, forwarding: .tunnel, weight: 1)
                ]),
            .init(IPVSService(.sctp(a("198.18.0.2"), port: 9), scheduler: "sh", flags: .shPort)),
            .init(
                IPVSService(.fwmark(7, family: .ipv4), scheduler: "rr"),
                destinations: [
                    IPVSDestination(a("198.18.1.7"), port: 0, forwarding: .directRoute, weight: 0)
                ]),
            .init(IPVSService(.fwmark(8, family: .ipv6), scheduler: "wlc")),
        ])
    }

    func testRulesRestoredByIpvsadmReadBackExactly() throws {
        try Ipvsadm.restore(rules)
        let table = try client.table()
        assertSameConfiguration(table, expected, "ipvsadm-restore, read by ecmpd")
        XCTAssertEqual(IPVSRestoreRules.render(table), rules)
    }

    func testRenderedRulesRestoreToTheSameTable() throws {
        try Ipvsadm.restore(IPVSRestoreRules.render(SampleTables.everyKind))
        assertSameConfiguration(try client.table(), SampleTables.everyKind, "ecmpd's rules, restored by ipvsadm")
    }

    /// Line for line what `ipvsadm -Sn` prints, apart from its order and
    /// the thresholds it leaves out.
    func testRenderedRulesMatchIpvsadmSave() throws {
        try Ipvsadm.restore(rules)
        let saved = Set(try Ipvsadm.run(["-Sn"]).split(separator: "\n").map(String.init))
        let rendered = Set(
            IPVSRestoreRules.render(SampleTables.withoutThresholds(try client.table()))
                .split(separator: "\n").map(String.init))
        XCTAssertEqual(rendered, saved)
    }
}
