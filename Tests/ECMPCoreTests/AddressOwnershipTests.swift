import ECMPCore
import XCTest

final class AddressOwnershipTests: XCTestCase {
    private let vip = IPAddress.v4(IPv4Address(198, 18, 0, 100))
    private let other = IPAddress.v4(IPv4Address(198, 18, 0, 101))
    private let old = IPAddress.v4(IPv4Address(198, 18, 0, 50))
    private let stranger = IPAddress.v4(IPv4Address(198, 18, 9, 9))
    private let localhost = PrefixedAddress(InterfaceAddress(network: IPv4Network("127.0.0.1/8")!))

    private func host(_ address: IPAddress) -> PrefixedAddress { .host(address) }

    func testAdoptsAConfiguredVIPAlreadyOnLoopback() {
        let lo = [localhost, host(vip)]
        let ownership = AddressOwnership(configured: [vip], recorded: [], onLoopback: lo)
        XCTAssertEqual(ownership.adopted, [vip])
        XCTAssertEqual(ownership.owned, [vip])
        let plan = LoopbackPlan(ownership: ownership, announced: [vip], onLoopback: lo)
        XCTAssertTrue(plan.isEmpty, "an adopted, announced VIP is neither removed nor re-added")
    }

    func testNeverTouchesForeignAddresses() {
        let lo = [localhost, host(stranger)]
        let ownership = AddressOwnership(configured: [vip], recorded: [], onLoopback: lo)
        XCTAssertEqual(ownership.foreign, [localhost, host(stranger)])
        XCTAssertFalse(ownership.mayRemove(stranger))
        let plan = LoopbackPlan(ownership: ownership, announced: [], onLoopback: lo)
        XCTAssertEqual(plan.removals, [])
    }

    func testRemovesARecordedVIPThatIsNoLongerConfigured() {
        let lo = [localhost, host(old)]
        let ownership = AddressOwnership(configured: [vip], recorded: [old], onLoopback: lo)
        XCTAssertEqual(ownership.stale, [old])
        XCTAssertTrue(ownership.mayRemove(old))
        let plan = LoopbackPlan(ownership: ownership, announced: [vip], onLoopback: lo)
        XCTAssertEqual(plan.additions, [vip])
        XCTAssertEqual(plan.removals, [old])
    }

    func testForgetsRecordedVIPsThatAreGoneAndNoLongerConfigured() {
        let ownership = AddressOwnership(configured: [vip], recorded: [vip, old], onLoopback: [localhost])
        XCTAssertEqual(ownership.forgotten, [old])
        XCTAssertEqual(ownership.owned, [vip], "a configured VIP stays owned while it is off lo")
    }

    func testRecordsConfiguredVIPsBeforeTheyAreAdded() {
        let ownership = AddressOwnership(configured: [vip, other], recorded: [], onLoopback: [localhost])
        XCTAssertEqual(ownership.owned, [vip, other])
        XCTAssertEqual(ownership.adopted, [])
    }

    func testAConfiguredVIPOnLoopbackUnderAnotherPrefixIsAConflictNotOurs() {
        let wide = PrefixedAddress(address: vip, prefixLength: 24)
        let lo = [localhost, wide]
        let ownership = AddressOwnership(configured: [vip], recorded: [vip], onLoopback: lo)
        XCTAssertEqual(ownership.conflicts, [wide])
        XCTAssertFalse(ownership.mayRemove(vip))
        XCTAssertEqual(ownership.forgotten, [vip])
        XCTAssertTrue(LoopbackPlan(ownership: ownership, announced: [vip], onLoopback: lo).isEmpty)
    }

    func testWithdrawsOwnedVIPsThePolicyDoesNotAnnounce() {
        let lo = [localhost, host(vip), host(other)]
        let ownership = AddressOwnership(configured: [vip, other], recorded: [vip, other], onLoopback: lo)
        let plan = LoopbackPlan(ownership: ownership, announced: [other], onLoopback: lo)
        XCTAssertEqual(plan.removals, [vip])
        XCTAssertEqual(plan.additions, [])
    }

    func testAnnouncedButUnownedVIPsAreNeverAdded() {
        let ownership = AddressOwnership(configured: [vip], recorded: [], onLoopback: [localhost])
        XCTAssertEqual(
            LoopbackPlan(ownership: ownership, announced: [vip, stranger], onLoopback: [localhost]).additions, [vip])
    }

    // MARK: IPv6: the same rules, with /128 as the host prefix

    private let vip6 = IPAddress("2001:db8::10")!
    private let ipv6Localhost = PrefixedAddress(address: IPAddress("::1")!, prefixLength: 128)

    func testAnIPv6VIPIsOwnedAsA128AndAddedAndRemovedAsOne() {
        let ownership = AddressOwnership(configured: [vip6], recorded: [], onLoopback: [localhost, ipv6Localhost])
        XCTAssertEqual(ownership.owned, [vip6])
        XCTAssertEqual(ownership.foreign, [localhost, ipv6Localhost], "::1/128 is a host address, but not a VIP")
        let lo = [localhost, ipv6Localhost]
        XCTAssertEqual(LoopbackPlan(ownership: ownership, announced: [vip6], onLoopback: lo).additions, [vip6])
        let withVIP = lo + [host(vip6)]
        XCTAssertEqual(LoopbackPlan(ownership: ownership, announced: [], onLoopback: withVIP).removals, [vip6])
    }

    func testAnIPv6VIPAlreadyOnLoopbackIsAdoptedWithoutAFlap() {
        let lo = [localhost, host(vip6)]
        let ownership = AddressOwnership(configured: [vip6, vip], recorded: [], onLoopback: lo)
        XCTAssertEqual(ownership.adopted, [vip6])
        XCTAssertEqual(LoopbackPlan(ownership: ownership, announced: [vip6, vip], onLoopback: lo).additions, [vip])
    }

    func testAnIPv6VIPUnderAnotherPrefixIsAConflictNotOurs() {
        let wide = PrefixedAddress(address: vip6, prefixLength: 64)
        let ownership = AddressOwnership(configured: [vip6], recorded: [vip6], onLoopback: [wide])
        XCTAssertEqual(ownership.conflicts, [wide])
        XCTAssertFalse(ownership.mayRemove(vip6))
        XCTAssertTrue(LoopbackPlan(ownership: ownership, announced: [vip6], onLoopback: [wide]).isEmpty)
    }
}
