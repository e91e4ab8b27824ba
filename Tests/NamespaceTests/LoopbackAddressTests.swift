import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: VIP /32s and /128s on a namespace's lo, changed over rtnetlink by
/// the built ecmpd (`ecmpd loopback apply`, run with `ip netns exec`), with
/// `ip` and `ip monitor` as independent witnesses. Needs root and iproute2.
final class LoopbackAddressTests: XCTestCase {
    var lab: NetnsLab!
    var director = ""
    let vip = "198.18.0.100"
    let foreign = "198.18.0.200"

    override func setUpWithError() throws {
        if let missing = NetnsLab.addressPrerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        lab = try NetnsLab()
        director = try lab.namespace("dir")
    }

    override func tearDown() {
        lab?.tearDown()
    }

    @discardableResult
    func apply(configured: [String], announce: [String]) throws -> String {
        try lab.exec(
            director,
            [Command.ecmpd, "loopback", "apply", "--owned-file", lab.path("owned.json")]
                + configured.flatMap { ["--configured", $0] } + announce.flatMap { ["--announce", $0] }
        ).output
    }

    /// lo's addresses of one family from `ip -j`, keyed by "address/prefix".
    func loopback(family: String = "-4") throws -> [String: [String: Any]] {
        let output = try lab.exec(director, ["ip", family, "-j", "addr", "show", "dev", "lo"]).output
        let links = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        var result: [String: [String: Any]] = [:]
        for info in links.flatMap({ $0["addr_info"] as? [[String: Any]] ?? [] }) {
            result["\(info["local"] ?? "")/\(info["prefixlen"] ?? "")"] = info
        }
        return result
    }

    func testAnnounceAddsPrimaryScopeGlobalSlash32sAndWithdrawRemovesThem() throws {
        let next = "198.18.0.101"
        let added = try apply(configured: [vip, next], announce: [vip, next])
        XCTAssertTrue(added.contains("added \(vip)/32") && added.contains("added \(next)/32"), added)
        let addresses = try loopback()
        for address in [vip, next] {
            let entry = try XCTUnwrap(addresses["\(address)/32"], "\(addresses.keys.sorted())")
            XCTAssertEqual(entry["scope"] as? String, "global")
            XCTAssertEqual(entry["label"] as? String, "lo:ecmpd")
            XCTAssertNil(entry["secondary"], "ospfd skips secondary addresses; a /32 on lo must be primary")
        }
        try apply(configured: [vip, next], announce: [vip])
        XCTAssertNil(try loopback()["\(next)/32"])
        XCTAssertFalse(
            try lab.exec(director, ["ip", "-4", "route", "show", "table", "all"]).output.contains(
                "\(vip)/32 dev lo proto kernel"),
            "a /32 gets no prefix route")
        var info = stat()
        XCTAssertEqual(stat(lab.path("owned.json"), &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)

        let withdrawn = try apply(configured: [vip], announce: [])
        XCTAssertTrue(withdrawn.contains("removed \(vip)/32"), withdrawn)
        XCTAssertNil(try loopback()["\(vip)/32"])
        XCTAssertNotNil(try loopback()["127.0.0.1/8"])
    }

    func testAVIPAlreadyOnLoopbackIsAdoptedWithoutDeleteOrReAdd() throws {
        // A finite lifetime shows whether the address was re-added
        // (NLM_F_REPLACE would reset it to forever).
        try lab.exec(
            director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo", "valid_lft", "1000", "preferred_lft", "1000"])
        let monitor = try AddressMonitor(lab: lab, namespace: director)
        defer { monitor.stop() }
        let output = try apply(configured: [vip], announce: [vip])
        XCTAssertTrue(output.contains("adopted \(vip)/32"), output)
        XCTAssertFalse(output.contains("added"), output)
        let events = try monitor.eventsSoFar()
        XCTAssertFalse(
            events.contains { $0.contains(vip) },
            "no RTM_NEWADDR/RTM_DELADDR for the adopted VIP:\n\(events.joined(separator: "\n"))")
        let entry = try XCTUnwrap(try loopback()["\(vip)/32"])
        XCTAssertLessThanOrEqual(entry["valid_life_time"] as? Int ?? Int.max, 1000)
        XCTAssertEqual(entry["label"] as? String, "lo", "an adopted address keeps its label")

        // Once adopted, it is ecmpd's: a withdrawal removes it.
        let withdrawn = try apply(configured: [vip], announce: [])
        XCTAssertTrue(withdrawn.contains("removed \(vip)/32"), withdrawn)
        XCTAssertTrue(try monitor.eventsSoFar().contains { $0.hasPrefix("Deleted") && $0.contains("\(vip)/32") })
    }

    func testAForeignSlash32OnLoopbackIsNeverTouched() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(foreign)/32", "dev", "lo"])
        let monitor = try AddressMonitor(lab: lab, namespace: director)
        defer { monitor.stop() }
        let announced = try apply(configured: [vip], announce: [vip])
        XCTAssertTrue(announced.contains("foreign \(foreign)/32 left alone"), announced)
        try apply(configured: [vip], announce: [])
        try apply(configured: [], announce: [])
        XCTAssertNotNil(try loopback()["\(foreign)/32"])
        XCTAssertNil(try loopback()["\(vip)/32"], "the VIP ecmpd added and no longer configures is gone")
        XCTAssertFalse(try monitor.eventsSoFar().contains { $0.contains(foreign) })
    }

    func testAConfiguredVIPOnLoopbackUnderAnotherPrefixIsLeftAlone() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/24", "dev", "lo"])
        let output = try apply(configured: [vip], announce: [vip])
        XCTAssertTrue(output.contains("conflict: \(vip)/24"), output)
        try apply(configured: [vip], announce: [])
        XCTAssertNotNil(try loopback()["\(vip)/24"])
        XCTAssertNil(try loopback()["\(vip)/32"])
    }

    func testAnnouncingTwiceChangesNothing() throws {
        try apply(configured: [vip], announce: [vip])
        let monitor = try AddressMonitor(lab: lab, namespace: director)
        defer { monitor.stop() }
        let second = try apply(configured: [vip], announce: [vip])
        XCTAssertFalse(second.contains("added"), second)
        XCTAssertEqual(try monitor.eventsSoFar().filter { $0.contains(vip) }, [])
    }

    func testListShowsLoopbackAddresses() throws {
        try apply(configured: [vip], announce: [vip])
        let output = try lab.exec(director, [Command.ecmpd, "loopback", "list", "--json"]).output
        let list = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        let entry = try XCTUnwrap(list.first { $0["address"] as? String == vip }, output)
        XCTAssertEqual(entry["prefixLength"] as? Int, 32)
        XCTAssertEqual(entry["secondary"] as? Bool, false)
    }

    // MARK: IPv6: a /128 with nodad, under the same ownership rules

    let vip6 = "2001:db8::10"

    func testAnIPv6VIPIsAddedAsA128WithNodadBesideAnIPv4OneAndRemovedOnWithdrawal() throws {
        let added = try apply(configured: [vip, vip6], announce: [vip, vip6])
        XCTAssertTrue(added.contains("added \(vip6)/128") && added.contains("added \(vip)/32"), added)
        let ipv6 = try loopback(family: "-6")
        let entry = try XCTUnwrap(ipv6["\(vip6)/128"], "\(ipv6.keys.sorted())")
        XCTAssertEqual(entry["scope"] as? String, "global")
        XCTAssertEqual(entry["nodad"] as? Bool, true, "added with IFA_F_NODAD: usable at once")
        XCTAssertNil(entry["tentative"])
        let owned = try String(contentsOfFile: lab.path("owned.json"), encoding: .utf8)
        XCTAssertTrue(owned.contains("\"2001:db8::10\""), owned)

        let withdrawn = try apply(configured: [vip, vip6], announce: [vip])
        XCTAssertTrue(withdrawn.contains("removed \(vip6)/128"), withdrawn)
        XCTAssertNil(try loopback(family: "-6")["\(vip6)/128"])
        XCTAssertNotNil(try loopback()["\(vip)/32"], "the IPv4 VIP stays")
        XCTAssertNotNil(try loopback(family: "-6")["::1/128"], "::1 is never ecmpd's")
    }

    func testAnIPv6VIPAlreadyOnLoopbackIsAdoptedAndOneUnderAnotherPrefixLeftAlone() throws {
        try lab.exec(director, ["ip", "-6", "addr", "add", "\(vip6)/128", "dev", "lo", "nodad"])
        try lab.exec(director, ["ip", "-6", "addr", "add", "2001:db8::11/64", "dev", "lo", "nodad"])
        let monitor = try AddressMonitor(lab: lab, namespace: director)
        defer { monitor.stop() }
        let output = try apply(configured: [vip6, "2001:db8::11"], announce: [vip6, "2001:db8::11"])
        XCTAssertTrue(output.contains("adopted \(vip6)/128"), output)
        XCTAssertTrue(output.contains("conflict: 2001:db8::11/64"), output)
        XCTAssertFalse(output.contains("added"), output)
        XCTAssertFalse(
            try monitor.eventsSoFar().contains { $0.contains(vip6) }, "no RTM_NEWADDR/RTM_DELADDR for the adopted VIP")
        let withdrawn = try apply(configured: [vip6, "2001:db8::11"], announce: [])
        XCTAssertTrue(withdrawn.contains("removed \(vip6)/128"), withdrawn)
        XCTAssertNotNil(try loopback(family: "-6")["2001:db8::11/64"], "not ecmpd's: left alone")
    }
}

/// `ip -o monitor address` inside a namespace, its output in a file. Events
/// are fenced with marker addresses: after `start` the monitor is known to
/// be listening, and `eventsSoFar` returns only once everything before it
/// has been printed.
final class AddressMonitor {
    private let lab: NetnsLab
    private let namespace: String
    private let process = Process()
    private let output: URL
    private var markers = 0

    init(lab: NetnsLab, namespace: String) throws {
        self.lab = lab
        self.namespace = namespace
        output = URL(fileURLWithPath: lab.path("monitor-\(UUID().uuidString.prefix(8)).log"))
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: try Command.resolve("ip"))
        process.arguments = ["netns", "exec", namespace, "ip", "-o", "monitor", "address"]
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        _ = try fence()
    }

    /// Adds and removes a marker /32 on lo and waits until the monitor has
    /// printed its removal.
    private func fence() throws -> [String] {
        markers += 1
        let marker = "198.19.255.\(markers)"
        try lab.exec(namespace, ["ip", "addr", "add", "\(marker)/32", "dev", "lo"])
        try lab.exec(namespace, ["ip", "addr", "del", "\(marker)/32", "dev", "lo"])
        var lines: [String] = []
        try NetnsLab.waitFor("ip monitor to report marker \(marker)", timeout: .seconds(10)) {
            lines = (try? String(contentsOf: output, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
            return lines.contains { $0.hasPrefix("Deleted") && $0.contains("\(marker)/32") }
        }
        return lines.filter { !$0.contains("198.19.255.") }
    }

    func eventsSoFar() throws -> [String] { try fence() }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

extension NetnsLab {
    /// The address tests need root and iproute2 only (no FRR).
    static func addressPrerequisites() -> String? {
        if geteuid() != 0 { return "the namespace tier needs root (ip netns, rtnetlink)" }
        if (try? Command.resolve("ip")) == nil { return "iproute2's ip is missing" }
        return nil
    }
}
