import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: an IPv6 VIP end to end on real FRR. A director (the
/// daemon tests' namespace, `ecmpd run`) and a router, each running zebra
/// and ospf6d from Debian's FRR with the configs ecmpd rendered, share an
/// IPv6 veth link (2001:db8:1::/64). The router's kernel learns the VIP's
/// /128 from the director while the VIP is on lo, and loses it when ecmpd
/// withdraws the VIP (an operator's drain: this kernel has no IPVS, so no
/// health observation could announce one). Also: `render --write --reload`
/// validates ospf6d.conf with FRR and applies a change through
/// frr-reload.py --daemon ospf6d. `ecmpd verify` on the router reads the
/// /128's link-local nexthop from the kernel (both encodings:
/// net.ipv4.nexthop_compat_mode, which governs IPv6 routes too, at 1 and 0)
/// and FRR's `show ipv6 route`, and agrees with both while the director
/// announces and after it withdraws. Needs root, iproute2 and FRR (ospf6d).
final class OSPF6RoutingTests: DaemonTestCase {
    var router = ""
    let vip6 = "2001:db8:ffff::10"
    var directorPathspace: String { "\(lab.prefix)d" }
    var routerPathspace: String { "\(lab.prefix)r" }

    override func setUpWithError() throws {
        try super.setUpWithError()
        let ospf6d = "/usr/lib/frr/ospf6d"
        guard FileManager.default.fileExists(atPath: ospf6d) else {
            XCTFail("\(ospf6d) is missing: run scripts/install-deps.sh (Debian package frr)")
            throw XCTSkip("no ospf6d")
        }
        router = try lab.namespace("r")
        try lab.link(router, "lan", director, "lan0")
        // nodad: usable at once, as ecmpd adds its VIPs; the IPv4 /24 is the
        // router's ospfd interface address, which its OSPFv3 router-id comes from.
        try lab.exec(router, ["ip", "addr", "add", "198.18.1.1/24", "dev", "lan"])
        try lab.exec(router, ["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "lan", "nodad"])
        try lab.exec(director, ["ip", "-6", "addr", "add", "2001:db8:1::2/64", "dev", "lan0", "nodad"])
    }

    func directorConfig(loCost: Int = 10) throws {
        try writeConfig(
            vips: [vip, vip6], fall: 1000,
            routing: ["reload: frr-reload", "pathspace: \(directorPathspace)"],
            ospf6: "{ interfaces: [lan0], lo_cost: \(loCost) }")
    }

    /// The router's files, rendered by ecmpd in the router namespace.
    func startRouter() throws {
        let etc = lab.path("etc-rtr")
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        let config = try lab.write(
            "router.yaml",
            """
            node: { hostname: router }
            ospf: { interfaces: [lan] }
            ospf6: { interfaces: [lan] }
            vips: [{ address: \(vip) }, { address: "\(vip6)" }]
            """)
        try lab.exec(router, [Command.ecmpd, "render", "--role", "router", "--config", config, "--write", etc])
        try lab.startFRR("zebra", in: router, pathspace: routerPathspace, config: "\(etc)/zebra.conf")
        try lab.startFRR("ospf6d", in: router, pathspace: routerPathspace, config: "\(etc)/ospf6d.conf")
    }

    func routerRoute() throws -> String {
        try lab.exec(router, ["ip", "-6", "route", "show", "\(vip6)/128"]).output
    }

    /// `ecmpd verify --vip VIP6 ARGS --json` on the router, asking the router's FRR.
    func verify(_ arguments: [String]) throws -> (status: Int32, report: [String: Any]) {
        let result = try lab.exec(
            router,
            [Command.ecmpd, "verify", "--vip", vip6, "--pathspace", routerPathspace, "--json"] + arguments,
            allowFailure: true)
        let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        return (result.status, try XCTUnwrap(json, result.output))
    }

    func testTheRouterLearnsTheIPv6VIPFromTheDirectorAndLosesItOnWithdrawal() throws {
        try directorConfig(loCost: 10)
        let render = try lab.exec(
            director, [Command.ecmpd, "render", "--config", configPath, "--write", routingDirectory]
        ).output
        XCTAssertTrue(render.contains("ospf6d.conf: installed"), render)
        XCTAssertEqual(owner("\(routingDirectory)/ospf6d.conf"), 0o640)
        try lab.startFRR("zebra", in: director, pathspace: directorPathspace, config: "\(routingDirectory)/zebra.conf")
        try lab.startFRR(
            "ospf6d", in: director, pathspace: directorPathspace, config: "\(routingDirectory)/ospf6d.conf")
        try startRouter()

        // A change reaches the running ospf6d through frr-reload.py --daemon ospf6d.
        try directorConfig(loCost: 42)
        let reload = try lab.exec(
            director, [Command.ecmpd, "render", "--config", configPath, "--write", routingDirectory, "--reload"]
        ).output
        XCTAssertTrue(reload.contains("ospf6d: reloaded"), reload)
        XCTAssertFalse(reload.contains("ospfd: reloaded"), "ospfd.conf did not change: \(reload)")
        XCTAssertTrue(try lab.vtysh(directorPathspace, "show running-config").contains("ipv6 ospf6 cost 42"))

        // The VIP already on lo is adopted by `ecmpd run` and announced by ospf6d.
        try lab.exec(director, ["ip", "-6", "addr", "add", "\(vip6)/128", "dev", "lo", "nodad"])
        try startDaemon()
        let learned = try waitFor("the router's kernel route to \(vip6) via the director", timeout: .seconds(45)) {
            let route = try routerRoute()
            return route.contains("dev lan proto ospf") && route.contains("via fe80::")
        }
        print("router learned \(vip6)/128 \(learned) after ecmpd run answered")
        // The director's link-local address on the link, the gateway OSPFv3 installs.
        let linkLocal = try XCTUnwrap(
            try lab.exec(director, ["ip", "-6", "-o", "addr", "show", "dev", "lan0", "scope", "link"]).output
                .split(separator: " ").first { $0.hasPrefix("fe80::") }?.split(separator: "/").first.map(String.init))
        for (mode, source) in [(1, "route-message"), (0, "nexthop-objects")] {
            try lab.exec(router, ["sysctl", "-qw", "net.ipv4.nexthop_compat_mode=\(mode)"])
            let announced = try verify(["--expect", "1"])
            XCTAssertEqual(announced.status, 0, "compat mode \(mode): \(announced.report)")
            XCTAssertEqual(announced.report["agreement"] as? String, "agree", "\(announced.report)")
            let kernel = try XCTUnwrap(announced.report["kernel"] as? [String: Any])
            XCTAssertEqual(kernel["nexthopSource"] as? String, source, "compat mode \(mode)")
            XCTAssertEqual(kernel["protocol"] as? String, "ospf")
            let nexthops = try XCTUnwrap(kernel["nexthops"] as? [[String: Any]])
            XCTAssertEqual(nexthops.map { $0["gateway"] as? String }, [linkLocal])
            XCTAssertEqual(nexthops.map { $0["interface"] as? String }, ["lan"])
            let frr = try XCTUnwrap((announced.report["frr"] as? [String: Any])?["routes"] as? [[String: Any]])
            XCTAssertEqual(frr.map { $0["protocol"] as? String }, ["ospf6"])
        }
        XCTAssertEqual(try verify(["--expect-nexthops", linkLocal]).status, 0)
        XCTAssertEqual(try verify(["--expect", "0"]).status, 1, "the route is there")
        let text = try lab.exec(
            router, [Command.ecmpd, "verify", "--vip", vip6, "--pathspace", routerPathspace, "--expect", "1"]
        ).output
        for line in [
            "kernel: 1 nexthop for \(vip6)/128", "  via \(linkLocal) dev lan", "frr: ospf6 route installed",
            "frr: agrees with the kernel", "bfd: not checked: an IPv6 VIP", "ok: 1 nexthop",
        ] {
            XCTAssertTrue(text.contains(line), "missing \(line):\n\(text)")
        }

        // --watch follows IPv6 route events: the drain below is its one change.
        let watchLog = lab.path("watch6.jsonl")
        let watch = try lab.spawn(
            router,
            [
                Command.ecmpd, "verify", "--vip", vip6, "--no-frr", "--watch", "--json", "--count", "1", "--timeout",
                "20",
            ],
            log: watchLog)
        try waitFor("the watch's first line", timeout: .seconds(10)) {
            ((try? String(contentsOfFile: watchLog, encoding: .utf8)) ?? "").contains("\"event\":\"initial\"")
        }

        XCTAssertEqual(state(of: vip6), "announced")
        XCTAssertFalse(
            try lab.exec(director, ["ip", "-6", "route"]).output.contains("proto ospf"),
            "zebra keeps OSPFv3 routes out of the director's kernel")

        let drain = try lab.exec(director, [Command.ecmpd, "drain", "--vip", vip6, "--wait", "-c", configPath]).output
        XCTAssertTrue(drain.contains("drained \(vip6)"), drain)
        let lost = try waitFor("the router to lose \(vip6)/128", timeout: .seconds(20)) {
            try routerRoute().isEmpty
        }
        print("router lost \(vip6)/128 \(lost) after the drain returned")
        XCTAssertEqual(lab.waitExit(watch, timeout: .seconds(10)), 1, "the watch ends on the change, without a route")
        let watched = try String(contentsOfFile: watchLog, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(watched.count, 2, "\(watched)")
        XCTAssertTrue(watched.last?.contains("\"event\":\"change\"") == true, "\(watched)")
        XCTAssertTrue(watched.last?.contains("\"present\":false") == true, "\(watched)")
        XCTAssertTrue(watched.last?.contains("\"removed\":[{\"gateway\":\"\(linkLocal)\"") == true, "\(watched)")
        let gone = try verify(["--expect", "1"])
        XCTAssertEqual(gone.status, 1, "\(gone.report)")
        XCTAssertEqual(
            gone.report["problems"] as? [String], ["the kernel has no route to \(vip6)/128; expected 1 nexthop"])
        let withdrawn = try verify(["--expect", "0"])
        XCTAssertEqual(withdrawn.status, 0, "\(withdrawn.report)")
        XCTAssertEqual(withdrawn.report["agreement"] as? String, "agree", "FRR has no route either")
        XCTAssertFalse(
            try lab.exec(director, ["ip", "-6", "addr", "show", "dev", "lo"]).output.contains(vip6), "withdrawn from lo"
        )
        XCTAssertEqual(try events("withdraw", vip: vip6).first?["reason"] as? String, "drained by an operator")
    }

    // MARK: Detection over rtnetlink (no FRR daemon)

    func testRenderListsTheRealPrefixesAndSaysWhichAddressesItSkipsAndWhy() throws {
        // DAD would take 1000 probes a second apart: the address stays tentative.
        try lab.exec(director, ["sysctl", "-qw", "net.ipv6.conf.lan0.dad_transmits=1000"])
        try lab.exec(director, ["ip", "-6", "addr", "add", "2001:db8:2::2/64", "dev", "lan0"])
        try lab.exec(
            director, ["ip", "-6", "addr", "add", "2001:db8:3::2/64", "dev", "lan0", "preferred_lft", "0", "nodad"])
        try lab.exec(director, ["ip", "-6", "addr", "add", "2001:db8:100:ff::2/56", "dev", "lan0", "nodad"])
        try directorConfig()
        let output = try lab.exec(director, [Command.ecmpd, "render", "--config", configPath]).output
        for line in [
            "! announced from the OSPF interfaces: 2001:db8:1::/64",
            "! announced from the OSPF interfaces: 2001:db8:100::/56",
            "note: 2001:db8:2::2/64 on lan0 not listed for ospf6d: tentative",
            "note: 2001:db8:3::2/64 on lan0 not listed for ospf6d: deprecated",
        ] {
            XCTAssertTrue(output.contains(line), "missing \(line):\n\(output)")
        }
        XCTAssertFalse(output.contains("fe80"), "link-local addresses are neither listed nor reported")
    }

    func testCheckRefusesAnIPv6VIPThatIsAnInterfaceAddressAndWarnsWithoutOspf6d() throws {
        try writeConfig(vips: ["2001:db8:1::2"], ospf6: "{ interfaces: [lan0] }")
        let result = try lab.exec(
            director, [Command.ecmpd, "check", "--config", configPath], allowFailure: true)
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(
            result.output.contains(
                "error: vips[0].address: \"2001:db8:1::2\": is an address of interface lan0; a VIP must live only on lo"
            ),
            result.output)
        XCTAssertTrue(
            result.output.contains(
                "warning: ospf6: the config has IPv6 VIPs, but ospf6d is not running: no /var/run/frr/ospf6d.pid; "
                    + "IPv6 VIPs need FRR's ospf6d: set ospf6d=yes in /etc/frr/daemons"),
            result.output)
    }

    func owner(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }
}
