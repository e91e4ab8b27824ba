import ECMPCore
import ECMPNetlink
import XCTest

/// The planner against the real kernel: one apply reaches the target from
/// any start, and changes that can be made in place are.
final class IPVSReconcileKernelTests: IPVSKernelTestCase {
    private let ip = SampleTables.ip
    private let stranger = IPVSServiceIdentity.tcp(IPAddress("198.18.9.9")!, port: 443)

    /// Overlaps the sample table in every awkward way: a stranger service,
    /// a service with the wrong scheduler and flags, wrong weights and
    /// forwarding, a destination too many, destinations missing, a service
    /// of the wrong family under the same mark.
    private let messyStart = """
        -A -t 198.18.9.9:443 -s rr
        -a -t 198.18.9.9:443 -r 198.18.1.99:443 -g -w 1
        -A -t 198.18.0.1:80 -s rr
        -a -t 198.18.0.1:80 -r 198.18.1.3:80 -g -w 5
        -a -t 198.18.0.1:80 -r 198.18.1.1:80 -m -w 1
        -a -t 198.18.0.1:80 -r 198.18.1.50:80 -g -w 1
        -A -u 198.18.0.1:53 -s wrr -p 30
        -A -f 8 -s sh
        -a -f 8 -r 198.18.1.8:0 -g -w 1

        """

    func testOneApplyReachesTheTargetAndTheNextPlanIsEmpty() throws {
        try Ipvsadm.restore(messyStart)
        let plan = IPVSReconcilePlan(
            desired: SampleTables.everyKind, actual: try client.table(), ownership: .wholeTable)
        XCTAssertFalse(plan.isEmpty)
        try client.apply(plan)
        assertSameConfiguration(try client.table(), SampleTables.everyKind, "after one apply")
        assertSameConfiguration(try Ipvsadm.listing(), SampleTables.everyKind, "ipvsadm after one apply")
        let again = IPVSReconcilePlan(
            desired: SampleTables.everyKind, actual: try client.table(), ownership: .wholeTable)
        XCTAssertTrue(again.isEmpty, "second plan:\n\(again)")
    }

    func testServicesOfOthersSurviveWhenOwningOnlyOurs() throws {
        try Ipvsadm.restore(messyStart)
        let owned = Set(SampleTables.everyKind.services.map(\.identity))
        let plan = IPVSReconcilePlan(
            desired: SampleTables.everyKind, actual: try client.table(), ownership: .services(owned))
        try client.apply(plan)
        let after = try client.table()
        XCTAssertEqual(after[stranger]?.destinations.map(\.key), [IPVSDestinationKey(ip("198.18.1.99"), port: 443)])
        XCTAssertNotNil(after[.fwmark(8, family: .ipv4)], "IPv4 fwmark 8 is not ours: only the IPv6 one is desired")
        var withoutStrangers = after
        withoutStrangers.entries.removeAll { !owned.contains($0.service.identity) }
        assertSameConfiguration(withoutStrangers, SampleTables.everyKind, "our services")
    }

    /// On an `mh` service, every director must hold the destinations in the
    /// same list order; from an empty table the plan inserts in canonical
    /// order whatever order the config listed them in.
    func testDestinationsGoInInCanonicalOrder() throws {
        let service = IPVSService(.tcp(ip("198.18.0.1"), port: 80), scheduler: "mh", flags: .mhPort)
        let shuffled = ["198.18.1.7", "198.18.1.10", "198.18.1.2", "2001:db8::1", "198.18.1.3"]
            .map { IPVSDestination(ip($0), port: 80, forwarding: .tunnel) }
        let desired = IPVSTable([.init(service, destinations: shuffled)])
        try client.apply(IPVSReconcilePlan(desired: desired, actual: try client.table(), ownership: .wholeTable))
        let listed = try client.destinations(of: service.identity).map(\.key)
        XCTAssertEqual(listed, shuffled.map(\.key).sorted().reversed(), "kernel lists newest first")
    }

    /// A weight change is one SET_DEST: the destination object, with its
    /// connection entries and counters, survives. Delete + add would zero
    /// the counters.
    func testWeightOnlyChangeKeepsTheDestinationsCounters() throws {
        let lab = try TrafficLab()
        defer { lab.tearDown() }
        let service = IPVSService(.tcp(lab.vip, port: 80), scheduler: "wrr")
        let real = IPVSDestination(lab.realServer, port: 80, forwarding: .directRoute, weight: 1)
        try client.apply(
            IPVSReconcilePlan(
                desired: IPVSTable([.init(service, destinations: [real])]),
                actual: try client.table(), ownership: .wholeTable))
        try lab.sendConnectionAttempts(to: 80, count: 2)
        let before = try XCTUnwrap(try client.destinations(of: service.identity).first)
        XCTAssertGreaterThan(before.stats?.connections ?? 0, 0, "IPVS scheduled the lab's connections")
        // Kernel 6.1 counts a TCP entry as active from its first SYN, even in SYN_RECV.
        XCTAssertGreaterThan(before.connections?.active ?? 0, 0)
        XCTAssertEqual(
            try Ipvsadm.listing()[service.identity]?.destinations.first?.connections,
            IPVSConnectionCounts(active: before.connections?.active ?? 0, inactive: before.connections?.inactive ?? 0),
            "ecmpd and ipvsadm agree on the counts")

        var lighter = real
        lighter.weight = 0
        let plan = IPVSReconcilePlan(
            desired: IPVSTable([.init(service, destinations: [lighter])]),
            actual: try client.table(), ownership: .wholeTable)
        XCTAssertEqual(plan.changes, [.editDestination(lighter, service: service.identity, changed: .weight)])
        try client.apply(plan)

        let after = try XCTUnwrap(try client.destinations(of: service.identity).first)
        XCTAssertEqual(after.weight, 0)
        XCTAssertGreaterThanOrEqual(after.stats?.connections ?? 0, before.stats?.connections ?? 0, "counters survived")
        XCTAssertEqual(after.connections, before.connections, "connection entries survived")
    }
}
