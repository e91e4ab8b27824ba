import ECMPCore
import XCTest

final class IPVSReconcilePlanTests: XCTestCase {
    private let web = IPVSServiceIdentity.tcp(.v4(IPv4Address(198, 18, 0, 1)), port: 80)
    private let dns = IPVSServiceIdentity.udp(.v4(IPv4Address(198, 18, 0, 1)), port: 53)
    private let stranger = IPVSServiceIdentity.tcp(.v4(IPv4Address(198, 18, 9, 9)), port: 443)

    private func real(_ last: UInt8, weight: Int32 = 1) -> IPVSDestination {
        IPVSDestination(.v4(IPv4Address(198, 18, 1, last)), port: 80, forwarding: .directRoute, weight: weight)
    }

    private func table(_ entries: IPVSTable.Entry...) -> IPVSTable { IPVSTable(entries) }

    /// What the kernel hands back: `hashed` set, counters and stats present.
    private func asReadBack(_ table: IPVSTable) -> IPVSTable {
        IPVSTable(
            table.entries.map { entry in
                var service = entry.service
                service.flags.insert(.hashed)
                service.stats = IPVSStats(connections: 42)
                let destinations = entry.destinations.reversed().map { destination in
                    var copy = destination
                    copy.connections = IPVSConnectionCounts(active: 3, inactive: 1)
                    copy.stats = IPVSStats(connections: 7)
                    return copy
                }
                return IPVSTable.Entry(service, destinations: destinations)
            })
    }

    func testAddsEverythingToAnEmptyTable() {
        let service = IPVSService(web, scheduler: "mh", flags: [.mhPort])
        let desired = table(.init(service, destinations: [real(2), real(3)]))
        let plan = IPVSReconcilePlan(desired: desired, actual: IPVSTable(), ownership: .services([]))
        XCTAssertEqual(
            plan.changes,
            [
                .addService(service),
                .addDestination(real(2), service: web),
                .addDestination(real(3), service: web),
            ])
    }

    func testPlanOfATableAgainstItselfIsEmpty() {
        let desired = table(
            .init(
                IPVSService(web, scheduler: "mh", flags: [.mhPort, .mhFallback]),
                destinations: [real(2), real(3, weight: 5)]),
            .init(
                IPVSService(
                    dns, scheduler: "rr", flags: [.persistent, .onePacket], persistenceTimeout: 60,
                    netmask: .ipv4(IPv4Address(255, 255, 255, 0))), destinations: [real(4)])
        )
        XCTAssertTrue(IPVSReconcilePlan(desired: desired, actual: desired, ownership: .wholeTable).isEmpty)
        XCTAssertTrue(IPVSReconcilePlan(desired: desired, actual: asReadBack(desired), ownership: .wholeTable).isEmpty)
    }

    func testWeightOnlyChangeIsOneDestinationEdit() {
        let service = IPVSService(web, scheduler: "wrr")
        let actual = asReadBack(table(.init(service, destinations: [real(2), real(3)])))
        let desired = table(.init(service, destinations: [real(2), real(3, weight: 0)]))
        let plan = IPVSReconcilePlan(desired: desired, actual: actual, ownership: .services([web]))
        XCTAssertEqual(plan.changes, [.editDestination(real(3, weight: 0), service: web, changed: .weight)])
    }

    func testSchedulerChangeIsAnEditNotDeleteAndAdd() {
        let actual = asReadBack(table(.init(IPVSService(web, scheduler: "rr"), destinations: [real(2)])))
        let edited = IPVSService(web, scheduler: "mh", flags: [.mhPort])
        let desired = table(.init(edited, destinations: [real(2)]))
        let plan = IPVSReconcilePlan(desired: desired, actual: actual, ownership: .services([web]))
        XCTAssertEqual(plan.changes, [.editService(edited, changed: [.scheduler, .flags])])
    }

    func testLeavesServicesItDoesNotOwnAlone() {
        let actual = table(.init(IPVSService(stranger, scheduler: "rr"), destinations: [real(9)]))
        let plan = IPVSReconcilePlan(desired: IPVSTable(), actual: actual, ownership: .services([web]))
        XCTAssertTrue(plan.isEmpty)
    }

    func testDeletesOwnedServicesNoLongerDesired() {
        let actual = table(.init(IPVSService(web, scheduler: "rr")), .init(IPVSService(stranger, scheduler: "rr")))
        let plan = IPVSReconcilePlan(desired: IPVSTable(), actual: actual, ownership: .services([web]))
        XCTAssertEqual(plan.changes, [.deleteService(web)])
    }

    func testWholeTableOwnershipDeletesStrangers() {
        let service = IPVSService(web, scheduler: "rr")
        let actual = table(.init(IPVSService(stranger, scheduler: "rr")), .init(service, destinations: [real(2)]))
        let desired = table(.init(service, destinations: [real(2)]))
        let plan = IPVSReconcilePlan(desired: desired, actual: actual, ownership: .wholeTable)
        XCTAssertEqual(plan.changes, [.deleteService(stranger)])
    }

    func testHashedFlagIsIgnored() {
        var readBack = IPVSService(web, scheduler: "sh", flags: [.shPort])
        readBack.flags.insert(.hashed)
        let plan = IPVSReconcilePlan(
            desired: table(.init(IPVSService(web, scheduler: "sh", flags: [.shPort]))),
            actual: table(.init(readBack)), ownership: .wholeTable
        )
        XCTAssertTrue(plan.isEmpty)
    }

    func testAddsDestinationsInCanonicalOrder() {
        let service = IPVSService(web, scheduler: "mh")
        let v6 = IPVSDestination(.v6(IPv6Address("2001:db8::1")!), port: 80, forwarding: .tunnel)
        let otherPort = IPVSDestination(.v4(IPv4Address(198, 18, 1, 2)), port: 8080)
        let desired = table(.init(service, destinations: [v6, real(10), otherPort, real(2), real(3)]))
        let actual = table(.init(service, destinations: [real(3)]))
        let plan = IPVSReconcilePlan(desired: desired, actual: actual, ownership: .wholeTable)
        XCTAssertEqual(
            plan.changes,
            [
                .addDestination(real(2), service: web),
                .addDestination(otherPort, service: web),
                .addDestination(real(10), service: web),
                .addDestination(v6, service: web),
            ])
    }

    func testServicesAreAddedInCanonicalOrderAfterDeletions() {
        let desired = table(.init(IPVSService(dns, scheduler: "rr")), .init(IPVSService(web, scheduler: "rr")))
        let actual = table(.init(IPVSService(stranger, scheduler: "rr")))
        let plan = IPVSReconcilePlan(desired: desired, actual: actual, ownership: .wholeTable)
        XCTAssertEqual(
            plan.changes,
            [
                .deleteService(stranger),
                .addService(IPVSService(web, scheduler: "rr")),
                .addService(IPVSService(dns, scheduler: "rr")),
            ])
    }

    func testRemovedDestinationIsDeletedBeforeAdditions() {
        let service = IPVSService(web, scheduler: "mh")
        let actual = table(.init(service, destinations: [real(2), real(3)]))
        let desired = table(.init(service, destinations: [real(3), real(4)]))
        let plan = IPVSReconcilePlan(desired: desired, actual: actual, ownership: .wholeTable)
        XCTAssertEqual(
            plan.changes,
            [
                .deleteDestination(real(2).key, service: web),
                .addDestination(real(4), service: web),
            ])
    }

    func testFwmarkFamiliesAreDistinctServices() {
        let v4 = IPVSService(.fwmark(7, family: .ipv4), scheduler: "rr")
        let v6 = IPVSService(.fwmark(7, family: .ipv6), scheduler: "rr")
        XCTAssertEqual(v6.netmask, .ipv6(prefixLength: 128))
        let plan = IPVSReconcilePlan(desired: table(.init(v6)), actual: table(.init(v4)), ownership: .wholeTable)
        XCTAssertEqual(plan.changes, [.deleteService(v4.identity), .addService(v6)])
    }

    func testPersistenceChangeListsOnlyChangedSettings() {
        let actual = table(.init(IPVSService(web, scheduler: "rr", flags: .persistent, persistenceTimeout: 300)))
        let desired = table(.init(IPVSService(web, scheduler: "rr", flags: .persistent, persistenceTimeout: 60)))
        let plan = IPVSReconcilePlan(desired: desired, actual: actual, ownership: .wholeTable)
        XCTAssertEqual(plan.changes.count, 1)
        guard case .editService(_, let changed) = plan.changes.first else { return XCTFail("\(plan)") }
        XCTAssertEqual(changed, .persistenceTimeout)
        XCTAssertEqual(plan.description, "edit service TCP 198.18.0.1:80: persistence timeout 60s")
    }
}
