import ECMPCore
import ECMPDaemon
import ECMPRouting
import ECMPTestSupport
import Foundation
import Logging
import XCTest

/// Namespace tier: the last-announcer guard's IPv6 input on real ospf6d.
/// A router and two directors on one LAN (a bridge in the router), each
/// running zebra and ospf6d from the files `ecmpd render --write` made,
/// both directors with the IPv6 VIP on lo. `OSPF6DatabaseReader`, run in
/// director 1's namespace (vtysh under `ip netns exec`) against director
/// 1's pathspace, reads that director 2 announces the VIP; after the VIP
/// leaves director 2's lo, that nobody else does; after it comes back and
/// director 2's ospf6d is stopped (it flushes its LSAs), again that nobody
/// else does. `LSDBAnnouncers` asked for an IPv4 and the IPv6 VIP answers
/// the IPv6 one although ospfd, not running here, leaves the IPv4 one not
/// known; with director 1's ospf6d stopped too, the IPv6 one is not known
/// either and the reader's error names ospf6d's command.
/// Needs root, iproute2 and FRR (ospf6d).
final class OSPF6AnnouncersTests: XCTestCase {
    var lab: NetnsLab!
    var router = ""
    var directors: [String] = []
    let vip6 = "2001:db8:ffff::10"
    let vip4 = "198.18.1.100"
    /// Each director's IPv4 address (its OSPFv3 router-id) and IPv6 address.
    let addresses = [("198.18.0.2", "2001:db8:1::2"), ("198.18.0.3", "2001:db8:1::3")]

    var routerSpace: String { "\(lab.prefix)r" }
    func space(_ index: Int) -> String { "\(lab.prefix)d\(index)" }
    func etc(_ name: String) -> String { lab.path("etc-\(name)") }

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        let ospf6d = "/usr/lib/frr/ospf6d"
        guard FileManager.default.fileExists(atPath: ospf6d) else {
            XCTFail("\(ospf6d) is missing: run scripts/install-deps.sh (Debian package frr)")
            throw XCTSkip("no ospf6d")
        }
        lab = try NetnsLab()
        router = try lab.namespace("rtr")
        try lab.exec(router, ["ip", "link", "add", "br0", "type", "bridge"])
        try lab.exec(router, ["ip", "link", "set", "br0", "up"])
        try lab.exec(router, ["ip", "addr", "add", "198.18.0.1/24", "dev", "br0"])
        try lab.exec(router, ["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "br0", "nodad"])
        try start(
            router, role: "router", name: "rtr", pathspace: routerSpace,
            yaml: """
                node: { hostname: router }
                ospf: { interfaces: [br0] }
                ospf6: { interfaces: [br0] }
                vips: [{ address: "\(vip6)" }]
                """)
        for (index, address) in addresses.enumerated() {
            let director = try lab.namespace("d\(index)")
            directors.append(director)
            try lab.link(router, "lan\(index)", director, "eth0")
            try lab.exec(router, ["ip", "link", "set", "lan\(index)", "master", "br0"])
            try lab.exec(director, ["ip", "addr", "add", "\(address.0)/24", "dev", "eth0"])
            try lab.exec(director, ["ip", "-6", "addr", "add", "\(address.1)/64", "dev", "eth0", "nodad"])
            try lab.exec(director, ["ip", "-6", "addr", "add", "\(vip6)/128", "dev", "lo", "nodad"])
            try start(
                director, role: "director", name: "d\(index)", pathspace: space(index),
                yaml: """
                    node: { hostname: director-\(index + 1) }
                    ospf: { interfaces: [eth0] }
                    ospf6: { interfaces: [eth0] }
                    vips: [{ address: "\(vip6)" }]
                    """)
        }
    }

    override func tearDown() {
        lab?.tearDown()
    }

    /// `ecmpd render --write` (vtysh -C and ospf6d -C check the files),
    /// then zebra and ospf6d.
    func start(_ namespace: String, role: String, name: String, pathspace: String, yaml: String) throws {
        try FileManager.default.createDirectory(atPath: etc(name), withIntermediateDirectories: true)
        let config = try lab.write("\(name).yaml", yaml)
        let rendered = try lab.exec(
            namespace, [Command.ecmpd, "render", "--role", role, "--config", config, "--write", etc(name)])
        XCTAssertTrue(rendered.output.contains("ospf6d.conf: installed"), rendered.output)
        try lab.startFRR("zebra", in: namespace, pathspace: pathspace, config: "\(etc(name))/zebra.conf")
        try lab.startFRR("ospf6d", in: namespace, pathspace: pathspace, config: "\(etc(name))/ospf6d.conf")
    }

    /// vtysh run inside director 1's namespace, as ecmpd there runs it.
    func vtyshInDirectorOne() throws -> String {
        let path = try lab.write("vtysh-d0", "#!/bin/sh\nexec ip netns exec \(directors[0]) /usr/bin/vtysh \"$@\"\n")
        chmod(path, 0o755)
        return path
    }

    func stopOSPF6D(_ index: Int) throws {
        let text = try String(contentsOfFile: "/var/run/frr/\(space(index))/ospf6d.pid", encoding: .utf8)
        let pid = try XCTUnwrap(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGTERM)
        try NetnsLab.waitFor("director \(index + 1)'s ospf6d to exit", timeout: .seconds(10)) { kill(pid, 0) != 0 }
    }

    func testDirectorOneReadsWhetherDirectorTwoAnnouncesTheIPv6VIP() async throws {
        let reader = OSPF6DatabaseReader(vtysh: try vtyshInDirectorOne(), pathspace: space(0))
        let vip = try XCTUnwrap(IPv6Address(vip6))
        let (me, other) = (IPv4Address(addresses[0].0)!, IPv4Address(addresses[1].0)!)
        var database = try reader.read()
        XCTAssertEqual(database.selfRouterID, me)
        let announced = try NetnsLab.waitFor("director 1 to see director 2 announce \(vip6)", timeout: .seconds(30)) {
            database = try reader.read()
            return database.announcers(of: vip) == [me, other]
        }
        print("director 1 saw both directors announce \(vip6) \(announced) after both ospf6d started")
        XCTAssertTrue(database.othersAnnounce(vip))
        XCTAssertFalse(database.othersAnnounce(IPv6Address("2001:db8:ffff::11")!), "a /128 nobody has")

        // Both families asked at once: ospfd is not running, ospf6d answers.
        let settings = RoutingDaemonSettings(vtysh: try vtyshInDirectorOne(), pathspace: space(0))
        let announcers = LSDBAnnouncers(
            settings: settings, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let both = try [XCTUnwrap(IPAddress(vip4)), XCTUnwrap(IPAddress(vip6))]
        var answers = await announcers.othersAnnounce(both)
        XCTAssertEqual(answers.count, 2, "\(answers)")
        XCTAssertEqual(answers[both[0]], Bool?.none, "ospfd's database is not known")
        XCTAssertEqual(answers[both[1]], true, "ospf6d's is")

        try lab.exec(directors[1], ["ip", "-6", "addr", "del", "\(vip6)/128", "dev", "lo"])
        let withdrawn = try NetnsLab.waitFor("director 1 to see only itself announce \(vip6)", timeout: .seconds(10)) {
            database = try reader.read()
            return database.announcers(of: vip) == [me]
        }
        print("director 1 saw director 2's withdrawal \(withdrawn) after the VIP left its lo")
        XCTAssertFalse(database.othersAnnounce(vip))
        XCTAssertNil(database.hosts[other], "director 2 flushed its LSA: no prefix of its own is left")

        try lab.exec(directors[1], ["ip", "-6", "addr", "add", "\(vip6)/128", "dev", "lo", "nodad"])
        try NetnsLab.waitFor("director 1 to see director 2 announce \(vip6) again", timeout: .seconds(10)) {
            try reader.read().othersAnnounce(vip)
        }
        try stopOSPF6D(1)
        let flushed = try NetnsLab.waitFor("director 1 to see director 2's LSAs flushed", timeout: .seconds(10)) {
            !(try reader.read().othersAnnounce(vip))
        }
        print("director 1 saw director 2's LSAs flushed \(flushed) after its ospf6d exited")

        try stopOSPF6D(0)
        XCTAssertThrowsError(try reader.read()) {
            XCTAssertEqual("\($0)", "vtysh -c 'show ipv6 ospf6 json': ospf6d is not running")
        }
        answers = await announcers.othersAnnounce(both)
        XCTAssertEqual(answers.count, 2, "\(answers)")
        XCTAssertEqual(answers[both[1]], Bool?.none, "ospf6d's database is not known without ospf6d")
    }
}
