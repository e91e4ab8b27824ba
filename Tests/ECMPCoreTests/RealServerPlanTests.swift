import ECMPCore
import XCTest

final class RealServerPlanTests: XCTestCase {
    private let vip = IPAddress("198.18.0.100")!
    private let other = IPAddress("198.18.0.101")!
    private let vip6 = IPAddress("2001:db8::100")!
    private let localhost = PrefixedAddress(address: IPAddress("127.0.0.1")!, prefixLength: 8)
    private let ignoreAll = RealServerSysctl(interface: "all", setting: .arpIgnore)
    private let announceAll = RealServerSysctl(interface: "all", setting: .arpAnnounce)
    private let ignoreLo = RealServerSysctl(interface: "lo", setting: .arpIgnore)
    private let announceLo = RealServerSysctl(interface: "lo", setting: .arpAnnounce)

    private func host(_ address: IPAddress) -> PrefixedAddress { .host(address) }

    private var defaults: [RealServerSysctl: Int] { [ignoreAll: 0, announceAll: 1, ignoreLo: 0, announceLo: 1] }
    private var wanted: [RealServerSysctl: Int] { [ignoreAll: 1, announceAll: 2, ignoreLo: 1, announceLo: 2] }

    func testSysctlNamesAndPaths() {
        XCTAssertEqual(
            RealServerSysctl.all.map(\.key),
            [
                "net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
                "net.ipv4.conf.lo.arp_ignore", "net.ipv4.conf.lo.arp_announce",
            ])
        XCTAssertEqual(ignoreLo.path, "/proc/sys/net/ipv4/conf/lo/arp_ignore")
        XCTAssertEqual(RealServerSysctl(key: "net.ipv4.conf.all.arp_announce"), announceAll)
    }

    func testUpRecordsPreviousValuesAndAddsMissingVIPs() {
        let plan = RealServerUpPlan(vips: [vip], onLoopback: [localhost], sysctls: defaults, record: nil)
        XCTAssertEqual(plan.sysctlWrites.map(\.sysctl), RealServerSysctl.all)
        XCTAssertEqual(plan.sysctlWrites.map(\.to), [1, 2, 1, 2])
        XCTAssertEqual(plan.additions, [vip])
        XCTAssertEqual(plan.record.previous, defaults)
        XCTAssertEqual(plan.record.added, [vip])
    }

    func testSecondUpChangesNothingAndKeepsTheFirstPreviousValues() {
        let first = RealServerUpPlan(vips: [vip], onLoopback: [localhost], sysctls: defaults, record: nil)
        let second = RealServerUpPlan(
            vips: [vip], onLoopback: [localhost, host(vip)], sysctls: wanted, record: first.record)
        XCTAssertTrue(second.isEmpty)
        XCTAssertEqual(second.record, first.record)
        XCTAssertEqual(second.addressesInPlace, [.init(vip: vip, addedByEcmpd: true)])
    }

    func testAnIPv6VIPIsAddedAsA128AndRemovedByDownBesideAnIPv4One() {
        // An IPv6 address under another prefix is not the VIP's /128.
        let elsewhere = PrefixedAddress(address: vip6, prefixLength: 64)
        let up = RealServerUpPlan(
            vips: [vip6, vip], onLoopback: [localhost, elsewhere], sysctls: defaults, record: nil)
        XCTAssertEqual(up.additions, [vip, vip6])
        XCTAssertEqual(up.record.addedVIPs, ["198.18.0.100", "2001:db8::100"])
        let status = RealServerStatus(vips: [vip6], onLoopback: [localhost, elsewhere], sysctls: wanted)
        XCTAssertEqual(status.missing.map(\.description), ["2001:db8::100/128 on lo: missing, expected present"])
        let down = RealServerDownPlan(
            vips: [vip6], onLoopback: [localhost, host(vip), host(vip6)], sysctls: wanted, record: up.record)
        XCTAssertEqual(down.removals, [vip6])
        XCTAssertEqual(down.remainingVIPs, [vip])
        XCTAssertEqual(down.record?.added, [vip])
    }

    func testUpDoesNotClaimAVIPThatWasAlreadyThere() {
        let plan = RealServerUpPlan(
            vips: [vip, other], onLoopback: [localhost, host(vip)], sysctls: defaults, record: nil)
        XCTAssertEqual(plan.additions, [other])
        XCTAssertEqual(plan.record.added, [other])
        XCTAssertEqual(plan.addressesInPlace, [.init(vip: vip, addedByEcmpd: false)])
    }

    func testDownRemovesOnlyWhatUpAddedThenRestoresSysctls() {
        let up = RealServerUpPlan(
            vips: [vip, other], onLoopback: [localhost, host(vip)], sysctls: defaults, record: nil)
        let down = RealServerDownPlan(
            vips: [vip, other], onLoopback: [localhost, host(vip), host(other)], sysctls: wanted, record: up.record)
        XCTAssertEqual(down.removals, [other])
        XCTAssertEqual(down.notAddedByEcmpd, [vip])
        XCTAssertEqual(down.sysctlRestores.map(\.to), [0, 1, 0, 1])
        XCTAssertNil(down.record)
    }

    func testDownWithoutVIPsUndoesEverythingRecorded() {
        let up = RealServerUpPlan(vips: [vip], onLoopback: [localhost], sysctls: defaults, record: nil)
        let down = RealServerDownPlan(
            vips: nil, onLoopback: [localhost, host(vip)], sysctls: wanted, record: up.record)
        XCTAssertEqual(down.removals, [vip])
        XCTAssertEqual(down.sysctlRestores.count, 4)
    }

    func testPartialDownKeepsSysctlsWhileAnAddedVIPRemains() {
        let up = RealServerUpPlan(vips: [vip, other], onLoopback: [localhost], sysctls: defaults, record: nil)
        let down = RealServerDownPlan(
            vips: [vip], onLoopback: [localhost, host(vip), host(other)], sysctls: wanted, record: up.record)
        XCTAssertEqual(down.removals, [vip])
        XCTAssertEqual(down.remainingVIPs, [other])
        XCTAssertEqual(down.sysctlRestores, [])
        XCTAssertEqual(down.record?.added, [other])
        XCTAssertEqual(down.record?.previous, defaults)
    }

    func testDownLeavesASysctlSomeoneChangedSinceUp() {
        let up = RealServerUpPlan(vips: [vip], onLoopback: [localhost], sysctls: defaults, record: nil)
        var now = wanted
        now[ignoreAll] = 2
        let down = RealServerDownPlan(vips: nil, onLoopback: [localhost, host(vip)], sysctls: now, record: up.record)
        XCTAssertEqual(down.sysctlsChangedSinceUp.map(\.sysctl), [ignoreAll])
        XCTAssertEqual(down.sysctlRestores.map(\.sysctl), [announceAll, ignoreLo, announceLo])
    }

    func testDownWithoutARecordDoesNothing() {
        let down = RealServerDownPlan(vips: [vip], onLoopback: [localhost, host(vip)], sysctls: wanted, record: nil)
        XCTAssertTrue(down.isEmpty)
        XCTAssertEqual(down.notAddedByEcmpd, [vip])
    }

    func testStatusNamesEachMissingPiece() {
        var values = wanted
        values[announceLo] = 0
        let status = RealServerStatus(vips: [vip, other], onLoopback: [localhost, host(vip)], sysctls: values)
        XCTAssertFalse(status.isComplete)
        XCTAssertEqual(
            status.missing.map(\.description),
            [
                "198.18.0.101/32 on lo: missing, expected present",
                "net.ipv4.conf.lo.arp_announce: 0, expected 2",
            ])
        XCTAssertTrue(RealServerStatus(vips: [vip], onLoopback: [host(vip)], sysctls: wanted).isComplete)
    }

    func testRecordRoundTripsThroughJSON() throws {
        let record = RealServerUpPlan(vips: [other, vip], onLoopback: [], sysctls: defaults, record: nil).record
        let decoded = try JSONDecoder().decode(RealServerRecord.self, from: try JSONEncoder().encode(record))
        XCTAssertEqual(decoded, record)
        XCTAssertEqual(record.addedVIPs, ["198.18.0.100", "198.18.0.101"])
    }
}
