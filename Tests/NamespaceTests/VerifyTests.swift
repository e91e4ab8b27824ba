import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: `ecmpd verify` on a router namespace whose route to the
/// VIP has 1, 2 and 3 nexthops, written both as a classic multipath route
/// and through kernel nexthop objects (`nhid`, as FRR 8 installs routes),
/// each with net.ipv4.nexthop_compat_mode 1 and 0 — a per-namespace sysctl,
/// so the host's value is never touched. Then `--watch` against live
/// changes, and real FRR (router + two directors) agreeing with the kernel.
/// Needs root, iproute2 and Debian's FRR.
final class VerifyTests: XCTestCase {
    var lab: NetnsLab!
    var router = "", peer = ""
    var watchers: [Process] = []
    let vip = "198.18.0.100"
    let gateways = ["198.18.0.2", "198.18.0.3", "198.18.0.4"]

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        lab = try NetnsLab()
        router = try lab.namespace("rtr")
        peer = try lab.namespace("lan")
        try lab.link(router, "lan", peer, "eth0")
        try lab.exec(router, ["ip", "addr", "add", "198.18.0.1/24", "dev", "lan"])
    }

    override func tearDown() {
        for watcher in watchers where watcher.isRunning {
            watcher.terminate()
            watcher.waitUntilExit()
        }
        lab?.tearDown()
    }

    // MARK: Helpers

    func ip(_ arguments: [String]) throws {
        try lab.exec(router, ["ip"] + arguments)
    }

    /// Runs `ecmpd verify --vip VIP ARGS` in the router namespace. FRR is
    /// not running here; --no-frr keeps vtysh off the host's own instance.
    func verify(_ arguments: [String], frr: Bool = false) throws -> (status: Int32, output: String) {
        try lab.exec(
            router, [Command.ecmpd, "verify", "--vip", vip] + arguments + (frr ? [] : ["--no-frr"]), allowFailure: true)
    }

    func json(_ output: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], output)
    }

    func setCompatMode(_ mode: Int) throws {
        try lab.exec(router, ["sysctl", "-qw", "net.ipv4.nexthop_compat_mode=\(mode)"])
    }

    /// The kernel's nexthops as `verify --json` reports them, and that
    /// `--expect N` and `--expect-nexthops` both match.
    func assertVerifies(
        _ expected: [String], source: String, nexthopObject: Int?, _ context: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let result = try verify(["--expect", "\(expected.count)", "--json"])
        XCTAssertEqual(result.status, 0, "\(context): \(result.output)", file: file, line: line)
        let kernel = try XCTUnwrap(try json(result.output)["kernel"] as? [String: Any], file: file, line: line)
        let nexthops = kernel["nexthops"] as? [[String: Any]] ?? []
        XCTAssertEqual(nexthops.compactMap { $0["gateway"] as? String }, expected, context, file: file, line: line)
        XCTAssertEqual(
            Set(nexthops.compactMap { $0["interface"] as? String }), ["lan"], context, file: file, line: line)
        XCTAssertEqual(kernel["nexthopSource"] as? String, source, context, file: file, line: line)
        XCTAssertEqual(kernel["nexthopObjectID"] as? Int, nexthopObject, context, file: file, line: line)
        let exact = try verify(["--expect-nexthops", expected.reversed().joined(separator: ",")])
        XCTAssertEqual(exact.status, 0, "\(context): \(exact.output)", file: file, line: line)
    }

    /// Nexthop objects 1...n (one per gateway) and group 10 over them.
    func addNexthopGroup(_ count: Int) throws {
        for (index, gateway) in gateways.prefix(count).enumerated() {
            try ip(["nexthop", "add", "id", "\(index + 1)", "via", gateway, "dev", "lan"])
        }
        try ip(["nexthop", "add", "id", "10", "group", (1...count).map(String.init).joined(separator: "/")])
    }

    /// Starts `verify --watch ARGS --json` in the router namespace, output
    /// to a file, and waits for its first line (the state it starts from).
    func startWatch(_ arguments: [String], frr: Bool = false) throws -> (process: Process, output: String) {
        let output = lab.path("watch-\(watchers.count).jsonl")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Command.resolve("ip"))
        process.arguments =
            ["netns", "exec", router, Command.ecmpd, "verify", "--vip", vip, "--watch", "--json"]
            + arguments + (frr ? [] : ["--no-frr"])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        watchers.append(process)
        try NetnsLab.waitFor("the watch's first line", timeout: .seconds(10)) {
            try String(contentsOfFile: output, encoding: .utf8).contains("\"event\":\"initial\"")
        }
        return (process, output)
    }

    func waitForExit(_ process: Process, timeout: Duration = .seconds(30)) throws -> Int32 {
        try NetnsLab.waitFor("ecmpd verify --watch to exit", timeout: timeout) { !process.isRunning }
        return process.terminationStatus
    }

    func lines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
    }

    // MARK: Both encodings, both compat modes

    /// An IPv6 VIP's /128 over link-local gateways, as OSPFv3 installs it:
    /// the same fe80:: address on two links is two nexthops, told apart by
    /// the interface. Through a nexthop group (read from the route's copy,
    /// then from the objects) and as a classic multipath route.
    func testAnIPv6RouteOverLinkLocalGatewaysIsReadInBothEncodings() throws {
        try lab.link(router, "lan2", peer, "eth1")
        let vip6 = "2001:db8:ffff::10"
        func verify6(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try lab.exec(router, [Command.ecmpd, "verify", "--vip", vip6, "--no-frr"] + arguments, allowFailure: true)
        }
        try ip(["-6", "nexthop", "add", "id", "61", "via", "fe80::2", "dev", "lan"])
        try ip(["-6", "nexthop", "add", "id", "62", "via", "fe80::2", "dev", "lan2"])
        try ip(["nexthop", "add", "id", "60", "group", "61/62"])
        try ip(["-6", "route", "add", "\(vip6)/128", "nhid", "60"])
        for (mode, source) in [(1, "route-message"), (0, "nexthop-objects")] {
            try setCompatMode(mode)
            let result = try verify6(["--expect", "2", "--json"])
            XCTAssertEqual(result.status, 0, "compat mode \(mode): \(result.output)")
            let kernel = try XCTUnwrap(try json(result.output)["kernel"] as? [String: Any])
            XCTAssertEqual(kernel["nexthopSource"] as? String, source, "compat mode \(mode)")
            XCTAssertEqual(kernel["nexthopObjectID"] as? Int, 60)
            XCTAssertEqual(kernel["matchedPrefix"] as? String, "\(vip6)/128")
            let nexthops = try XCTUnwrap(kernel["nexthops"] as? [[String: Any]])
            XCTAssertEqual(
                nexthops.map { "\($0["gateway"] as? String ?? "-") \($0["interface"] as? String ?? "-")" },
                ["fe80::2 lan", "fe80::2 lan2"], "compat mode \(mode)")
        }
        let twice = try verify6(["--expect-nexthops", "fe80::2"])
        XCTAssertEqual(twice.status, 1, twice.output)
        XCTAssertTrue(twice.output.contains("a gateway is reached over more than one interface"), twice.output)
        let wrongFamily = try verify6(["--expect-nexthops", "198.18.0.2"])
        XCTAssertNotEqual(wrongFamily.status, 0)
        XCTAssertTrue(wrongFamily.output.contains("'198.18.0.2' is not an IPv6 address"), wrongFamily.output)

        try ip([
            "-6", "route", "replace", "\(vip6)/128", "nexthop", "via", "fe80::3", "dev", "lan", "nexthop", "via",
            "fe80::4", "dev", "lan2",
        ])
        let classic = try verify6(["--expect-nexthops", "fe80::4,fe80::3", "--json"])
        XCTAssertEqual(classic.status, 0, classic.output)
        let kernel = try XCTUnwrap(try json(classic.output)["kernel"] as? [String: Any])
        XCTAssertEqual(kernel["nexthopSource"] as? String, "route-message")
        XCTAssertNil(kernel["nexthopObjectID"] as? Int)
        try ip(["-6", "route", "del", "\(vip6)/128"])
        XCTAssertEqual(try verify6(["--expect", "0"]).status, 0)
    }

    func testCompatModeIsPerNamespace() throws {
        let host = try String(contentsOfFile: "/proc/sys/net/ipv4/nexthop_compat_mode", encoding: .utf8)
        try setCompatMode(host.hasPrefix("1") ? 0 : 1)
        XCTAssertEqual(try String(contentsOfFile: "/proc/sys/net/ipv4/nexthop_compat_mode", encoding: .utf8), host)
        XCTAssertNotEqual(try lab.exec(router, ["sysctl", "-n", "net.ipv4.nexthop_compat_mode"]).output, host)
    }

    func testMultipathRoutesWithOneTwoAndThreeNexthops() throws {
        for mode in [1, 0] {
            try setCompatMode(mode)
            for count in 1...3 {
                let expected = Array(gateways.prefix(count))
                try ip(["route", "add", "\(vip)/32"] + expected.flatMap { ["nexthop", "via", $0, "dev", "lan"] })
                try assertVerifies(
                    expected, source: "route-message", nexthopObject: nil,
                    "multipath, \(count) nexthops, compat \(mode)")
                try ip(["route", "del", "\(vip)/32"])
            }
        }
    }

    func testNexthopObjectGroupsWithOneTwoAndThreeMembers() throws {
        for mode in [1, 0] {
            try setCompatMode(mode)
            for count in 1...3 {
                try addNexthopGroup(count)
                try ip(["route", "add", "\(vip)/32", "nhid", "10"])
                // compat mode 1 adds RTA_MULTIPATH (libnl reads it); 0 leaves only RTA_NH_ID.
                try assertVerifies(
                    Array(gateways.prefix(count)), source: mode == 1 ? "route-message" : "nexthop-objects",
                    nexthopObject: 10, "nhid group of \(count), compat \(mode)")
                try ip(["route", "del", "\(vip)/32"])
                try ip(["nexthop", "flush"])
            }
        }
    }

    /// FRR installs a single-path route through a plain nexthop object, not a group.
    func testRouteThroughASingleNexthopObject() throws {
        try ip(["nexthop", "add", "id", "7", "via", gateways[1], "dev", "lan"])
        try ip(["route", "add", "\(vip)/32", "nhid", "7"])
        for mode in [1, 0] {
            try setCompatMode(mode)
            try assertVerifies(
                [gateways[1]], source: mode == 1 ? "route-message" : "nexthop-objects", nexthopObject: 7,
                "nhid 7, compat \(mode)")
        }
    }

    // MARK: Mismatches

    func testCountMismatchExitsOneAndSaysWhatWasFound() throws {
        try setCompatMode(0)
        try addNexthopGroup(2)
        try ip(["route", "add", "\(vip)/32", "nhid", "10"])
        let result = try verify(["--expect", "3"])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(
            result.output.contains(
                "problem: expected 3 nexthops, found 2: via 198.18.0.2 dev lan, via 198.18.0.3 dev lan"), result.output)
    }

    func testGatewayMismatchNamesMissingAndUnexpected() throws {
        try ip(["route", "add", "\(vip)/32", "nexthop", "via", gateways[0], "nexthop", "via", gateways[1]])
        let result = try verify(["--expect-nexthops", "198.18.0.2,198.18.0.4", "--json"])
        XCTAssertEqual(result.status, 1, result.output)
        let report = try json(result.output)
        XCTAssertEqual(report["ok"] as? Bool, false)
        XCTAssertEqual(report["matchesExpectation"] as? Bool, false)
        let problems = report["problems"] as? [String] ?? []
        XCTAssertEqual(problems.count, 1, "\(problems)")
        XCTAssertTrue(problems.first?.hasSuffix("missing 198.18.0.4; unexpected 198.18.0.3") == true, "\(problems)")
    }

    func testMissingRouteExitsOneUnlessNoneIsExpected() throws {
        let missing = try verify([])
        XCTAssertEqual(missing.status, 1, missing.output)
        XCTAssertTrue(missing.output.contains("problem: the kernel has no route to 198.18.0.100/32"), missing.output)
        XCTAssertTrue(
            missing.output.contains("follows 198.18.0.0/24"), "the covering route is named: \(missing.output)")
        let withdrawn = try verify(["--expect", "0", "--json"])
        XCTAssertEqual(withdrawn.status, 0, withdrawn.output)
        XCTAssertEqual((try json(withdrawn.output)["kernel"] as? [String: Any])?["present"] as? Bool, false)
    }

    /// A lookup that matches a blackhole gets the kernel's EINVAL instead of
    /// the route; verify still reports the route, with no nexthops.
    func testBlackholeRoutesHaveNoNexthops() throws {
        try ip(["nexthop", "add", "id", "5", "blackhole"])
        for (form, route) in [
            ("blackhole route", ["blackhole", "\(vip)/32"]), ("blackhole nexthop object", ["\(vip)/32", "nhid", "5"]),
        ] {
            try ip(["route", "add"] + route)
            for mode in [1, 0] {
                try setCompatMode(mode)
                let result = try verify(["--expect", "0", "--json"])
                XCTAssertEqual(result.status, 0, "\(form), compat \(mode): \(result.output)")
                let kernel = try json(result.output)["kernel"] as? [String: Any]
                XCTAssertEqual(kernel?["type"] as? String, "blackhole", "\(form), compat \(mode)")
                XCTAssertEqual(kernel?["present"] as? Bool, true)
                XCTAssertEqual((kernel?["nexthops"] as? [Any])?.count, 0)
                XCTAssertEqual(try verify([]).status, 1, "a blackhole carries no traffic to the directors")
            }
            try ip(["route", "del", "\(vip)/32"])
        }
    }

    func testConflictingOrMisplacedOptionsAreUsageErrors() throws {
        XCTAssertEqual(try verify(["--expect", "2", "--expect-nexthops", "198.18.0.2"]).status, 2)
        XCTAssertEqual(try verify(["--count", "1"]).status, 2)
        XCTAssertEqual(try verify(["--expect-nexthops", "198.18.0"]).status, 2)
    }

    func testFRRNotRunningIsReportedNotFailed() throws {
        try ip(["route", "add", "\(vip)/32", "via", gateways[0]])
        let result = try verify(["--pathspace", "\(lab.prefix)none", "--json"], frr: true)
        XCTAssertEqual(result.status, 0, result.output)
        let report = try json(result.output)
        XCTAssertEqual(report["agreement"] as? String, "not-checked")
        let frr = report["frr"] as? [String: Any]
        XCTAssertEqual(frr?["available"] as? Bool, false)
        XCTAssertTrue(
            (frr?["reason"] as? String)?.contains("failed to connect to any daemons") == true, "\(frr ?? [:])")
    }

    // MARK: Watch

    func testWatchSeesAGroupMemberRemovedWithOnlyNexthopEvents() throws {
        try setCompatMode(0)
        try addNexthopGroup(3)
        try ip(["route", "add", "\(vip)/32", "nhid", "10"])
        let watch = try startWatch(["--expect", "2", "--count", "1", "--timeout", "20"])
        // Deleting a member changes group 10 in place: the kernel sends
        // nexthop events, no route event.
        try ip(["nexthop", "del", "id", "3"])
        let status = try waitForExit(watch.process)
        XCTAssertEqual(status, 0, (try? String(contentsOfFile: watch.output, encoding: .utf8)) ?? "")
        let events = try lines(watch.output)
        XCTAssertEqual(events.map { $0["event"] as? String }, ["initial", "change"])
        XCTAssertEqual(
            (events[1]["removed"] as? [[String: Any]])?.compactMap { $0["gateway"] as? String }, ["198.18.0.4"])
        XCTAssertEqual((events[1]["nexthops"] as? [[String: Any]])?.count, 2)
        XCTAssertEqual(events[1]["matchesExpectation"] as? Bool, true)
        for event in events {
            let time = event["time"] as? String ?? ""
            XCTAssertNotNil(
                time.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression), time)
        }
    }

    func testWatchSeesAMultipathRouteReplaced() throws {
        try ip(["route", "add", "\(vip)/32", "nexthop", "via", gateways[0], "nexthop", "via", gateways[1]])
        let watch = try startWatch(["--count", "1", "--timeout", "20"])
        try ip([
            "route", "replace", "\(vip)/32", "nexthop", "via", gateways[0], "nexthop", "via", gateways[1], "nexthop",
            "via", gateways[2],
        ])
        XCTAssertEqual(try waitForExit(watch.process), 0)
        let change = try XCTUnwrap(try lines(watch.output).last)
        XCTAssertEqual((change["added"] as? [[String: Any]])?.compactMap { $0["gateway"] as? String }, ["198.18.0.4"])
    }

    func testWatchEndsOnSIGTERMWithTheLastStatesVerdict() throws {
        try ip(["route", "add", "\(vip)/32", "via", gateways[0]])
        let watch = try startWatch(["--expect", "1"])
        watch.process.terminate()
        XCTAssertEqual(try waitForExit(watch.process, timeout: .seconds(5)), 0)
    }

    func testWatchTimeoutBeforeTheCountExitsOne() throws {
        try ip(["route", "add", "\(vip)/32", "via", gateways[0]])
        let watch = try startWatch(["--count", "1", "--timeout", "0.5"])
        XCTAssertEqual(try waitForExit(watch.process, timeout: .seconds(10)), 1)
        XCTAssertTrue(try String(contentsOfFile: watch.output, encoding: .utf8).contains("saw 0 of 1 change"))
    }

    // MARK: Real FRR

    /// Router and two directors on one LAN (a bridge in the router), all
    /// running zebra and ospfd with configs `ecmpd render` wrote; both
    /// directors announce the VIP, so FRR installs a two-path nexthop group.
    func testKernelAndFRRAgreeOnTwoDirectorsAndWatchSeesAWithdrawal() throws {
        try lab.exec(router, ["ip", "link", "add", "br0", "type", "bridge"])
        try lab.exec(router, ["ip", "addr", "flush", "dev", "lan"])
        try lab.exec(router, ["ip", "link", "set", "lan", "master", "br0"])
        try lab.exec(router, ["ip", "link", "set", "br0", "up"])
        try lab.exec(router, ["ip", "addr", "add", "198.18.0.1/24", "dev", "br0"])
        let directors = [peer, try lab.namespace("dir2")]
        try lab.link(router, "lan2", directors[1], "eth0")
        try lab.exec(router, ["ip", "link", "set", "lan2", "master", "br0"])
        let routerSpace = "\(lab.prefix)r"
        try render(
            router, role: "router", name: "rtr", pathspace: routerSpace,
            yaml: """
                node: { hostname: router }
                ospf: { interfaces: [br0] }
                vips: [{ address: \(vip) }]
                """)
        for (index, director) in directors.enumerated() {
            let address = gateways[index]
            try lab.exec(director, ["ip", "addr", "add", "\(address)/24", "dev", "eth0"])
            try lab.exec(director, ["ip", "route", "add", "default", "via", "198.18.0.1"])
            try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
            try render(
                director, role: "director", name: "dir\(index)", pathspace: "\(lab.prefix)d\(index)",
                yaml: """
                    node: { hostname: director-\(index + 1) }
                    routing: { pathspace: \(lab.prefix)d\(index) }
                    vips:
                      - address: \(vip)
                        services:
                          - { port: 80, real_servers: [{ address: 198.18.0.20 }] }
                    """)
        }
        try NetnsLab.waitFor("the router's kernel route to the VIP via both directors", timeout: .seconds(60)) {
            try verify(["--expect", "2"]).status == 0
        }

        for mode in [1, 0] {
            try setCompatMode(mode)
            let result = try verify(
                ["--expect-nexthops", "198.18.0.2,198.18.0.3", "--pathspace", routerSpace, "--json"], frr: true)
            XCTAssertEqual(result.status, 0, "compat \(mode): \(result.output)")
            let report = try json(result.output)
            XCTAssertEqual(report["agreement"] as? String, "agree", result.output)
            let kernel = report["kernel"] as? [String: Any]
            XCTAssertEqual(kernel?["protocol"] as? String, "ospf")
            XCTAssertNotNil(kernel?["nexthopObjectID"] as? Int, "FRR 8 installs routes through nexthop objects")
            XCTAssertEqual(kernel?["nexthopSource"] as? String, mode == 1 ? "route-message" : "nexthop-objects")
            let routes = (report["frr"] as? [String: Any])?["routes"] as? [[String: Any]] ?? []
            let installed = try XCTUnwrap(routes.first { $0["installed"] as? Bool == true }, result.output)
            XCTAssertEqual(installed["protocol"] as? String, "ospf")
            XCTAssertEqual((installed["fibNexthops"] as? [Any])?.count, 2)
        }

        let watch = try startWatch(["--expect", "1", "--count", "1", "--timeout", "30"])
        let clock = ContinuousClock()
        let start = clock.now
        try lab.exec(directors[1], ["ip", "addr", "del", "\(vip)/32", "dev", "lo"])
        let status = try waitForExit(watch.process)
        XCTAssertEqual(status, 0, (try? String(contentsOfFile: watch.output, encoding: .utf8)) ?? "")
        print("router's kernel dropped the withdrawn director within \(clock.now - start)")
        let change = try XCTUnwrap(try lines(watch.output).last)
        XCTAssertEqual((change["removed"] as? [[String: Any]])?.compactMap { $0["gateway"] as? String }, ["198.18.0.3"])
        try NetnsLab.waitFor("FRR to agree with the kernel after the withdrawal", timeout: .seconds(10)) {
            try verify(["--expect", "1", "--pathspace", routerSpace], frr: true).status == 0
        }
    }

    /// Renders zebra.conf and ospfd.conf with `ecmpd render --write` in
    /// `namespace` and starts both daemons under `pathspace`.
    func render(_ namespace: String, role: String, name: String, pathspace: String, yaml: String) throws {
        let etc = lab.path("etc-\(name)")
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        let config = try lab.write("\(name).yaml", yaml)
        try lab.exec(namespace, [Command.ecmpd, "render", "--role", role, "--config", config, "--write", etc])
        try lab.startFRR("zebra", in: namespace, pathspace: pathspace, config: "\(etc)/zebra.conf")
        try lab.startFRR("ospfd", in: namespace, pathspace: pathspace, config: "\(etc)/ospfd.conf")
    }
}
