import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: the daemon's rtnetlink event socket overflowing. With
/// `ecmpd run` stopped (SIGSTOP), thousands of address events pile up
/// past the socket's receive buffer and the kernel drops the rest
/// (ENOBUFS); ecmpd must notice that as such and resync. Needs root,
/// iproute2 and FRR's vtysh; no FRR daemon runs (`routing.reload: none`).
final class NetlinkOverflowTests: DaemonTestCase {
    func testAnOverflowedEventSocketIsCountedRecordedAndFollowedByAFullResync() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        try writeConfig(fall: 1000, pollInterval: "200ms")
        let pid = try startDaemon()
        try waitFor("ospfd.conf installed at start") {
            installedOSPFConfig().contains(" network 198.18.0.0/24 area 0.0.0.0\n")
        }
        XCTAssertEqual(metric("ecmpd_netlink_event_overflows_total"), 0)

        // 2,000 adds and 2,000 deletes on the other veth end: net nothing,
        // far more than the default receive buffer holds (a few hundred).
        let count = 2000
        let addresses = (0..<count).map { "198.19.\($0 / 250).\($0 % 250 + 1)/32" }
        let batch = addresses.map { "addr add \($0) dev eth1" } + addresses.map { "addr del \($0) dev eth1" }
        let batchFile = try lab.write("flood.batch", batch.joined(separator: "\n") + "\n")
        kill(pid, SIGSTOP)
        try lab.exec(director, ["ip", "-batch", batchFile])
        // The one change that matters, last, among the flood's tail.
        try lab.exec(director, ["ip", "addr", "add", "198.18.200.1/24", "dev", "eth0"])
        let resumed = ContinuousClock().now
        kill(pid, SIGCONT)

        try waitFor("the overflow counted") { (metric("ecmpd_netlink_event_overflows_total") ?? 0) >= 1 }
        try waitFor("ospfd.conf reflecting the final network") {
            installedOSPFConfig().contains(" network 198.18.200.0/24 area 0.0.0.0\n")
        }
        print(
            "\(batch.count) events flooded; overflows counted: \(metric("ecmpd_netlink_event_overflows_total") ?? -1); ospfd.conf current \(ContinuousClock().now - resumed) after SIGCONT"
        )
        XCTAssertFalse(installedOSPFConfig().contains("198.19."), "nothing of the flood is left in the render")
        try waitFor("a network-resync event") { try !events("network-resync").isEmpty }
        XCTAssertTrue((try events("network-resync").first?["reason"] as? String ?? "").contains("ENOBUFS"))
        XCTAssertTrue(log().contains("rtnetlink events lost"), "logged")
        XCTAssertTrue(
            try events("routing-reload").contains {
                ($0["reason"] as? String ?? "").contains("rtnetlink overflow resync")
            },
            "the resync rendered at once rather than as a debounced network change")
        XCTAssertTrue(try loopback().contains("\(vip)/32"))
    }
}
