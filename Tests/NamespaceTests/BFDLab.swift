import ECMPTestSupport
import Foundation
import XCTest

/// A router and two directors on one LAN (a bridge in the router, which
/// plays the switch: a director's link going down leaves the router's
/// OSPF interface up), each running zebra, ospfd and (with BFD) bfdd from
/// configs `ecmpd render --write` made and validated. Both directors
/// announce the VIP; the router's kernel route is read with `ip route`.
/// Used by BFDTests and BFDBenchmarkTests.
final class BFDLab {
    let lab: NetnsLab
    var router = ""
    var directors: [String] = []
    let vip = "198.18.1.100"
    let addresses = ["198.18.0.2", "198.18.0.3"]
    let routerBFD: Bool
    let directorBFD: Bool
    let deadInterval: Int
    var frozen: [pid_t] = []

    var routerSpace: String { "\(lab.prefix)r" }
    func space(_ index: Int) -> String { "\(lab.prefix)d\(index)" }
    func etc(_ name: String) -> String { lab.path("etc-\(name)") }

    static func prerequisites() -> String? {
        if let missing = NetnsLab.prerequisites() { return missing }
        if !FileManager.default.isExecutableFile(atPath: "/usr/lib/frr/bfdd") {
            return "/usr/lib/frr/bfdd is missing: run scripts/install-deps.sh (Debian package frr)"
        }
        return nil
    }

    /// `bfd`: the `ospf.bfd` mapping written for each side that has BFD on.
    init(routerBFD: Bool, directorBFD: Bool, deadInterval: Int, bfd: String = "{ enabled: true }") throws {
        lab = try NetnsLab()
        self.routerBFD = routerBFD
        self.directorBFD = directorBFD
        self.deadInterval = deadInterval
        do { try build(bfd: bfd) } catch {
            tearDown()
            throw error
        }
    }

    private func build(bfd: String) throws {
        router = try lab.namespace("rtr")
        try lab.exec(router, ["ip", "link", "add", "br0", "type", "bridge"])
        try lab.exec(router, ["ip", "link", "set", "br0", "up"])
        try lab.exec(router, ["ip", "addr", "add", "198.18.0.1/24", "dev", "br0"])
        let ospf = { (interface: String, on: Bool) in
            "ospf: { interfaces: [\(interface)], dead_interval: \(self.deadInterval)\(on ? ", bfd: \(bfd)" : "") }"
        }
        try start(
            router, role: "router", name: "rtr", pathspace: routerSpace, bfd: routerBFD,
            yaml: """
                node: { hostname: router }
                \(ospf("br0", routerBFD))
                vips: [{ address: \(vip) }]
                """)
        for (index, address) in addresses.enumerated() {
            let director = try lab.namespace("d\(index)")
            directors.append(director)
            try lab.link(router, "lan\(index)", director, "eth0")
            try lab.exec(router, ["ip", "link", "set", "lan\(index)", "master", "br0"])
            try lab.exec(director, ["ip", "addr", "add", "\(address)/24", "dev", "eth0"])
            try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
            try start(
                director, role: "director", name: "d\(index)", pathspace: space(index), bfd: directorBFD,
                yaml: directorYAML(index, ospf: ospf("eth0", directorBFD)))
        }
    }

    /// A director's config, also good for `ecmpd run` (state, status,
    /// routing folder and pathspace are the lab's; `fall` keeps the VIP on
    /// lo although this kernel has no IPVS to count backends in).
    func directorYAML(_ index: Int, ospf: String) -> String {
        """
        node: { hostname: director-\(index + 1), state_dir: \(lab.path("state-d\(index)")) }
        \(ospf)
        routing: { config_dir: \(etc("d\(index)")), pathspace: \(space(index)), reload: none }
        status: { listen: "127.0.0.1:9477" }
        controller: { keepalived_config: \(lab.path("keepalived.conf")) }
        vips:
          - address: \(vip)
            health: { fall: 1000, rise: 1, hold_down: 0s }
            services:
              - { port: 80, real_servers: [{ address: 198.18.0.20 }] }
        """
    }

    func configPath(_ name: String) -> String { lab.path("\(name).yaml") }

    /// `ecmpd render --write` (as root: vtysh -C and each daemon's -C check
    /// every file), then zebra, bfdd and ospfd in that order.
    private func start(_ namespace: String, role: String, name: String, pathspace: String, bfd: Bool, yaml: String)
        throws
    {
        try FileManager.default.createDirectory(atPath: etc(name), withIntermediateDirectories: true)
        _ = try lab.write("keepalived.conf", "global_defs {\n}\n")
        let config = try lab.write("\(name).yaml", yaml)
        let rendered = try lab.exec(
            namespace, [Command.ecmpd, "render", "--role", role, "--config", config, "--write", etc(name)])
        XCTAssertEqual(
            rendered.output.contains("bfdd.conf: installed"), bfd, "bfdd.conf only with BFD on: \(rendered.output)")
        try lab.startFRR("zebra", in: namespace, pathspace: pathspace, config: "\(etc(name))/zebra.conf")
        if bfd { try lab.startFRR("bfdd", in: namespace, pathspace: pathspace, config: "\(etc(name))/bfdd.conf") }
        try lab.startFRR("ospfd", in: namespace, pathspace: pathspace, config: "\(etc(name))/ospfd.conf")
    }

    /// The gateways of the router's kernel route to the VIP (FRR installs
    /// it through a nexthop object; compat mode lists them in the route).
    func nexthops() throws -> Set<String> {
        let output = try lab.exec(router, ["ip", "route", "show", "\(vip)/32"]).output
        let words = output.split(whereSeparator: \.isWhitespace).map(String.init)
        return Set(zip(words, words.dropFirst()).filter { $0.0 == "via" }.map(\.1))
    }

    var both: Set<String> { Set(addresses) }

    /// How long until the router's route has exactly `expected`; fails
    /// after `timeout`. Polled every 20 ms (an `ip` process each).
    @discardableResult
    func waitForRoute(_ expected: Set<String>, timeout: Duration, _ what: String) throws -> Duration {
        try NetnsLab.waitFor(what, timeout: timeout, interval: .milliseconds(20)) { try nexthops() == expected }
    }

    func waitForBoth() throws -> Duration {
        try waitForRoute(both, timeout: .seconds(90), "the router's kernel route to the VIP via both directors")
    }

    /// Until the router's bfdd has a session up with each director.
    func waitForSessionsUp() throws {
        try NetnsLab.waitFor("the router's BFD sessions with both directors up", timeout: .seconds(30)) {
            let output = try lab.vtysh(routerSpace, "show bfd peers json")
            return output.components(separatedBy: "\"status\":\"up\"").count - 1 == addresses.count
        }
    }

    // MARK: Faults on d1 (directors[0])

    func linkDown() throws { try lab.exec(directors[0], ["ip", "link", "set", "eth0", "down"]) }
    func linkUp() throws { try lab.exec(directors[0], ["ip", "link", "set", "eth0", "up"]) }

    /// Every process in d1's namespace (`ip netns pids`), frozen.
    func freeze() throws {
        let output = try Command.run(["ip", "netns", "pids", directors[0]]).output
        frozen = output.split(separator: "\n").compactMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
        XCTAssertGreaterThanOrEqual(frozen.count, 2, "d1 runs zebra and ospfd at least")
        for pid in frozen { kill(pid, SIGSTOP) }
    }

    func thaw() {
        for pid in frozen { kill(pid, SIGCONT) }
        frozen = []
    }

    func daemonPid(_ daemon: String, director index: Int = 0) throws -> pid_t {
        let text = try String(contentsOfFile: "/var/run/frr/\(space(index))/\(daemon).pid", encoding: .utf8)
        return try XCTUnwrap(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    func killOSPFD() throws { kill(try daemonPid("ospfd"), SIGKILL) }

    func restartOSPFD() throws {
        try lab.startFRR("ospfd", in: directors[0], pathspace: space(0), config: "\(etc("d0"))/ospfd.conf")
    }

    func tearDown() {
        thaw()
        lab.tearDown()
    }
}
