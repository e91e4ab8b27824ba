import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: `ecmpd realserver up|down|status` in a namespace that
/// stands for a real server. /proc/sys/net/ipv4/conf/* is per network
/// namespace, so the host's ARP settings are never touched. Needs root and
/// iproute2.
final class RealServerTests: XCTestCase {
    var lab: NetnsLab!
    var server = ""
    let vip = "198.18.0.100"
    let second = "198.18.0.101"
    var stateFile: String { lab.path("state/realserver.json") }

    override func setUpWithError() throws {
        if let missing = NetnsLab.addressPrerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        lab = try NetnsLab()
        server = try lab.namespace("rs")
        // Non-default starting values, so a restore is told apart from a reset.
        try setSysctls(ignore: 0, announce: 1)
    }

    override func tearDown() {
        lab?.tearDown()
    }

    func setSysctls(ignore: Int, announce: Int) throws {
        for interface in ["all", "lo"] {
            try lab.exec(
                server,
                [
                    "sysctl", "-q", "-w", "net.ipv4.conf.\(interface).arp_ignore=\(ignore)",
                    "net.ipv4.conf.\(interface).arp_announce=\(announce)",
                ])
        }
    }

    func sysctls() throws -> [String] {
        try ["all", "lo"].flatMap { interface in
            try ["arp_ignore", "arp_announce"].map { name in
                try lab.exec(server, ["sysctl", "-n", "net.ipv4.conf.\(interface).\(name)"]).output
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
    }

    func onLoopback(_ address: String) throws -> Bool {
        try lab.exec(server, ["ip", "-4", "-o", "addr", "show", "dev", "lo"]).output.contains(" \(address)/32 ")
    }

    @discardableResult
    func realserver(_ verb: String, _ vips: [String], json: Bool = false, allowFailure: Bool = false) throws -> (
        status: Int32, output: String
    ) {
        try lab.exec(
            server,
            [Command.ecmpd, "realserver", verb, "--state-file", stateFile] + vips.flatMap { ["--vip", $0] }
                + (json ? ["--json"] : []), allowFailure: allowFailure)
    }

    func testUpStatusDownRoundTripRestoresThePreviousValues() throws {
        XCTAssertEqual(try realserver("status", [vip], allowFailure: true).status, 1)
        let up = try realserver("up", [vip]).output
        XCTAssertTrue(up.contains("net.ipv4.conf.all.arp_ignore: 0 -> 1"), up)
        XCTAssertEqual(try sysctls(), ["1", "2", "1", "2"])
        XCTAssertTrue(try onLoopback(vip))
        var info = stat()
        XCTAssertEqual(stat(stateFile, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)

        let status = try realserver("status", [vip], json: true)
        XCTAssertEqual(status.status, 0, status.output)
        let report = try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
        XCTAssertEqual(report?["complete"] as? Bool, true)
        XCTAssertEqual((report?["pieces"] as? [Any])?.count, 5)

        let down = try realserver("down", [vip]).output
        XCTAssertTrue(down.contains("\(vip)/32 on lo: removed"), down)
        XCTAssertEqual(try sysctls(), ["0", "1", "0", "1"])
        XCTAssertFalse(try onLoopback(vip))
        XCTAssertFalse(FileManager.default.fileExists(atPath: stateFile), "nothing left to undo, so no record")
        XCTAssertEqual(try realserver("status", [vip], allowFailure: true).status, 1)
    }

    func testUpTwiceIsIdempotentAndDownStillRestoresTheOriginalValues() throws {
        try realserver("up", [vip])
        let record = try String(contentsOfFile: stateFile, encoding: .utf8)
        let again = try realserver("up", [vip]).output
        XCTAssertTrue(again.contains("nothing to change"), again)
        XCTAssertTrue(again.contains("\(vip)/32 on lo: present (added by ecmpd)"), again)
        XCTAssertEqual(
            try String(contentsOfFile: stateFile, encoding: .utf8), record,
            "the second up keeps the first up's previous values")
        try realserver("down", [vip])
        XCTAssertEqual(try sysctls(), ["0", "1", "0", "1"])
        XCTAssertFalse(try onLoopback(vip))
    }

    func testDownNeverRemovesAVIPThatWasOnLoopbackBeforeUp() throws {
        try lab.exec(server, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        let up = try realserver("up", [vip, second]).output
        XCTAssertTrue(up.contains("\(vip)/32 on lo: present (not added by ecmpd; down leaves it)"), up)
        XCTAssertTrue(up.contains("\(second)/32 on lo: added"), up)
        let down = try realserver("down", [vip, second]).output
        XCTAssertTrue(down.contains("\(vip)/32 on lo: left (not added by ecmpd)"), down)
        XCTAssertTrue(try onLoopback(vip))
        XCTAssertFalse(try onLoopback(second))
        XCTAssertEqual(try sysctls(), ["0", "1", "0", "1"])
    }

    func testStatusExitsOneAndNamesTheMissingPiece() throws {
        try realserver("up", [vip])
        try lab.exec(server, ["ip", "addr", "del", "\(vip)/32", "dev", "lo"])
        let missingAddress = try realserver("status", [vip], allowFailure: true)
        XCTAssertEqual(missingAddress.status, 1)
        XCTAssertTrue(
            missingAddress.output.contains("\(vip)/32 on lo: missing, expected present"), missingAddress.output)

        try realserver("up", [vip])
        try lab.exec(server, ["sysctl", "-q", "-w", "net.ipv4.conf.lo.arp_announce=0"])
        let missingSysctl = try realserver("status", [vip], json: true, allowFailure: true)
        XCTAssertEqual(missingSysctl.status, 1)
        let report = try JSONSerialization.jsonObject(with: Data(missingSysctl.output.utf8)) as? [String: Any]
        let pieces = report?["pieces"] as? [[String: Any]] ?? []
        XCTAssertEqual(
            pieces.filter { $0["ok"] as? Bool == false }.map { $0["name"] as? String },
            ["net.ipv4.conf.lo.arp_announce"])
    }

    func testDownLeavesASysctlChangedSinceUp() throws {
        try realserver("up", [vip])
        try lab.exec(server, ["sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=2"])
        let down = try realserver("down", [vip]).output
        XCTAssertTrue(down.contains("net.ipv4.conf.all.arp_ignore: left at 2"), down)
        XCTAssertEqual(try sysctls(), ["2", "1", "0", "1"])
    }

    func testABadVIPIsAUsageError() throws {
        let result = try realserver("up", ["10.1"], allowFailure: true)
        XCTAssertEqual(result.status, 2, result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stateFile))
    }

    // MARK: IPv6 direct routing

    /// A router namespace on one link with the real server: 2001:db8:7::1
    /// and ::2, both without DAD, and an on-link route to `vip6` on the
    /// router, so the router resolves the VIP by neighbour discovery as it
    /// would a director-less VIP on its own link.
    func routerOnTheLink(vip6: String) throws -> String {
        let router = try lab.namespace("router")
        try lab.link(router, "eth0", server, "eth0")
        try lab.exec(router, ["ip", "addr", "add", "2001:db8:7::1/64", "dev", "eth0", "nodad"])
        try lab.exec(server, ["ip", "addr", "add", "2001:db8:7::2/64", "dev", "eth0", "nodad"])
        try lab.exec(router, ["ip", "-6", "route", "add", "\(vip6)/128", "dev", "eth0"])
        return router
    }

    /// ndisc6's neighbour solicitation for `target` from the router: the
    /// answer's text, or nil when none came (two tries, 500 ms each).
    func solicit(_ router: String, _ target: String) throws -> String? {
        let result = try lab.exec(
            router, ["/usr/bin/ndisc6", "-n", "-r", "2", "-w", "500", target, "eth0"], allowFailure: true)
        return result.status == 0 ? result.output : nil
    }

    /// The router's neighbour entry for `address` after it sent one
    /// datagram there (which makes the kernel solicit it), once resolution
    /// has finished: "FAILED" when no one answered, else the entry's state.
    func neighbourAfterTraffic(_ router: String, _ address: String) throws -> String {
        try lab.exec(router, ["ip", "-6", "neigh", "flush", "dev", "eth0"])
        try lab.exec(
            router,
            [
                "/usr/bin/python3", "-c",
                "import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b'x', ('\(address)', 9))",
            ])
        var entry = ""
        _ = try NetnsLab.waitFor("\(address)'s neighbour entry to settle", timeout: .seconds(10)) {
            entry = try lab.exec(router, ["ip", "-6", "neigh", "show", address, "dev", "eth0"]).output
            return !entry.contains("INCOMPLETE")
        }
        return entry.contains("FAILED") || entry.isEmpty ? "FAILED" : entry
    }

    /// IPv6 has no arp_ignore. What keeps a Linux real server from drawing
    /// the VIP's traffic is that it answers a neighbour solicitation only
    /// for an address on the interface it arrived on (or one it proxies):
    /// with the VIP as a /128 on lo, as `realserver up` adds it, the router
    /// gets no answer and no neighbour entry. The same VIP on the link's
    /// interface is answered at once, so the check can tell them apart.
    func testAnIPv6VIPOnLoIsNotAnsweredByNeighbourDiscovery() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ndisc6") else {
            XCTFail("/usr/bin/ndisc6 is missing: run scripts/install-deps.sh (Debian package ndisc6)")
            return
        }
        // The VIP ends as the real server's own 2001:db8:7::2 does, so its
        // solicited-node group (ff02::1:ff00:2) is joined on eth0 and the
        // solicitation reaches the neighbour-discovery code: only the
        // kernel's own rule keeps it from answering.
        let vip6 = "2001:db8:ff::2"
        let router = try routerOnTheLink(vip6: vip6)
        XCTAssertNotNil(try solicit(router, "2001:db8:7::2"), "the real server's own address is answered")

        let up = try realserver("up", [vip6]).output
        XCTAssertTrue(up.contains("\(vip6)/128 on lo: added"), up)
        let lo = try lab.exec(server, ["ip", "-6", "-o", "addr", "show", "dev", "lo"]).output
        XCTAssertTrue(lo.contains(" \(vip6)/128 "), lo)
        XCTAssertFalse(lo.contains("tentative"), "added with nodad: \(lo)")
        XCTAssertEqual(try realserver("status", [vip6]).status, 0)

        XCTAssertNil(try solicit(router, vip6), "the real server answered a solicitation for the VIP on its lo")
        XCTAssertEqual(try neighbourAfterTraffic(router, vip6), "FAILED")

        // Control: the VIP on the link's interface is answered.
        try lab.exec(server, ["ip", "addr", "add", "\(vip6)/128", "dev", "eth0", "nodad"])
        XCTAssertNotNil(try solicit(router, vip6))
        XCTAssertTrue(try neighbourAfterTraffic(router, vip6).contains("lladdr"))
        try lab.exec(server, ["ip", "addr", "del", "\(vip6)/128", "dev", "eth0"])

        let down = try realserver("down", [vip6]).output
        XCTAssertTrue(down.contains("\(vip6)/128 on lo: removed"), down)
        XCTAssertFalse(try lab.exec(server, ["ip", "-6", "-o", "addr", "show", "dev", "lo"]).output.contains(vip6))
        XCTAssertEqual(try realserver("status", [vip6], allowFailure: true).status, 1)
    }
}
