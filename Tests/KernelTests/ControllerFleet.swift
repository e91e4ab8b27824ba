import ECMPCore
import ECMPNetlink
import ECMPTestSupport
import Foundation
import XCTest

/// The reference topology inside the VM: a router namespace and two
/// director namespaces, each running real zebra and ospfd with configs
/// ecmpd rendered, each director with an IPVS service (ipvsadm standing in
/// for keepalived) and `ecmpd run` in observe mode.
///
///     d1 (198.18.1.2) --- d1|rtr|d2 --- (198.18.2.2) d2
///                     VIP 198.18.100.1/32 on each director's lo
///
/// The router's kernel route to the VIP is read over rtnetlink from a
/// thread inside the router's namespace (`NamespaceWorker`), and each
/// director's IPVS weights are edited over genetlink from a thread in that
/// director's namespace, so timings contain no process start-ups.
///
/// `dualStack: true` (off by default: the scenario tests' fleet stays
/// IPv4-only) adds IPv6 beside it: each link also gets 2001:db8:N::1/64 and
/// ::2/64 (nodad), each director an IPVS service on [2001:db8:ffff::10]:80
/// with two IPv6 real servers and that VIP in its config, and the router and
/// directors run ospf6d beside ospfd with the ospf6d.conf ecmpd rendered.
/// The router's IPv6 route goes over the directors' link-local addresses,
/// so a director is told by the router interface a nexthop leaves by (the
/// router's end of director dN's link is named dN).
final class ControllerFleet {
    static let vip = IPv4Address("198.18.100.1")!
    static let realServers = ["198.18.3.10", "198.18.3.11"]
    static let vip6 = IPv6Address("2001:db8:ffff::10")!
    static let realServers6 = ["2001:db8:3::10", "2001:db8:3::11"]

    enum Family: String, CaseIterable {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"

        var vip: IPAddress { self == .ipv4 ? .v4(ControllerFleet.vip) : .v6(ControllerFleet.vip6) }
    }

    struct Director {
        var name: String
        var namespace: String
        var address: IPv4Address
        var config: String
        var state: String
        var log: String
        var pid: pid_t = 0
        var ipvs: NamespaceWorker
    }

    let lab: NetnsLab
    let router: String
    let routerWorker: NamespaceWorker
    private(set) var directors: [Director] = []
    let poll: String
    let fall: Int
    let rise: Int
    let holdDown: String
    let fastConvergence: Bool
    let guardLastAnnouncer: Bool
    let dualStack: Bool

    init(
        poll: String = "100ms", fall: Int = 2, rise: Int = 3, holdDown: String = "2s", fastConvergence: Bool = true,
        guardLastAnnouncer: Bool = false, dualStack: Bool = false
    ) throws {
        self.dualStack = dualStack
        self.fastConvergence = fastConvergence
        self.guardLastAnnouncer = guardLastAnnouncer
        self.poll = poll
        self.fall = fall
        self.rise = rise
        self.holdDown = holdDown
        lab = try NetnsLab()
        do {
            router = try lab.namespace("rtr")
            try FileManager.default.createDirectory(atPath: lab.path("etc-rtr"), withIntermediateDirectories: true)
            for (index, name) in ["d1", "d2"].enumerated() {
                let namespace = try lab.namespace(name)
                let net = index + 1
                try lab.link(router, name, namespace, "eth0")
                try lab.exec(router, ["ip", "addr", "add", "198.18.\(net).1/24", "dev", name])
                try lab.exec(namespace, ["ip", "addr", "add", "198.18.\(net).2/24", "dev", "eth0"])
                try lab.exec(namespace, ["ip", "route", "add", "default", "via", "198.18.\(net).1"])
                if dualStack {
                    // nodad: usable at once (the router's end is the link's
                    // only other address, so DAD has nothing to find).
                    try lab.exec(router, ["ip", "-6", "addr", "add", "2001:db8:\(net)::1/64", "dev", name, "nodad"])
                    try lab.exec(
                        namespace, ["ip", "-6", "addr", "add", "2001:db8:\(net)::2/64", "dev", "eth0", "nodad"])
                }
                // The director sysctls the deploy/ file recommends (every key
                // must exist on this kernel, or sysctl -p fails the test).
                try lab.exec(
                    namespace,
                    ["sysctl", "-q", "-p", FixtureRepository.url("deploy/sysctl/90-ecmpd-director.conf").path])
                try lab.exec(namespace, ["ipvsadm", "-A", "-t", "\(Self.vip):80", "-s", "wlc"])
                for server in Self.realServers {
                    try lab.exec(
                        namespace, ["ipvsadm", "-a", "-t", "\(Self.vip):80", "-r", "\(server):80", "-g", "-w", "1"])
                }
                if dualStack {
                    try lab.exec(namespace, ["ipvsadm", "-A", "-t", "[\(Self.vip6)]:80", "-s", "wlc"])
                    for server in Self.realServers6 {
                        try lab.exec(
                            namespace,
                            ["ipvsadm", "-a", "-t", "[\(Self.vip6)]:80", "-r", "[\(server)]:80", "-g", "-w", "1"])
                    }
                }
                try FileManager.default.createDirectory(
                    atPath: lab.path("etc-\(name)"), withIntermediateDirectories: true)
                let keepalived = try lab.write("keepalived-\(name).conf", "! no ha_suspend here\n")
                let config = try lab.write(
                    "\(name).yaml",
                    Self.directorConfig(
                        name: name, lab: lab, keepalived: keepalived, poll: poll, fall: fall, rise: rise,
                        holdDown: holdDown,
                        fastConvergence: fastConvergence, guardLastAnnouncer: guardLastAnnouncer, dualStack: dualStack))
                directors.append(
                    Director(
                        name: name, namespace: namespace, address: IPv4Address("198.18.\(net).2")!, config: config,
                        state: lab.path("state-\(name)"), log: lab.path("ecmpd-\(name).log"),
                        ipvs: try NamespaceWorker(namespace: namespace)))
            }
            routerWorker = try NamespaceWorker(namespace: router)
        } catch {
            lab.tearDown()
            throw error
        }
    }

    static func directorConfig(
        name: String, lab: NetnsLab, keepalived: String, poll: String, fall: Int, rise: Int, holdDown: String,
        fastConvergence: Bool, guardLastAnnouncer: Bool, dualStack: Bool = false
    ) -> String {
        let ospf6 = dualStack ? "ospf6: { interfaces: [eth0], fast_convergence: \(fastConvergence) }\n" : ""
        let ipv6VIP =
            dualStack
            ? """

              - address: "\(vip6)"
                health: { fall: \(fall), rise: \(rise), hold_down: \(holdDown) }
                services:
                  - port: 80
                    real_servers: [\(realServers6.map { "{ address: \"\($0)\" }" }.joined(separator: ", "))]
            """ : ""
        return """
            node: { hostname: \(name), state_dir: \(lab.path("state-\(name)")) }
            ospf: { interfaces: [eth0], fast_convergence: \(fastConvergence) }
            \(ospf6)routing: { config_dir: \(lab.path("etc-\(name)")), pathspace: \(lab.prefix)\(name), reload: frr-reload }
            controller: { poll_interval: \(poll), on_stop: leave, keepalived_config: \(keepalived), guard_last_announcer: \(guardLastAnnouncer) }
            vips:
              - address: \(vip)
                health: { fall: \(fall), rise: \(rise), hold_down: \(holdDown) }
                services:
                  - port: 80
                    real_servers: [\(realServers.map { "{ address: \($0) }" }.joined(separator: ", "))]
            """ + ipv6VIP
    }

    /// Renders and starts FRR everywhere, then `ecmpd run` on both directors.
    func start() throws {
        let ospf6 = dualStack ? "ospf6: { interfaces: [d1, d2], fast_convergence: \(fastConvergence) }\n" : ""
        let vip6 = dualStack ? ", { address: \"\(Self.vip6)\" }" : ""
        let routerConfig = try lab.write(
            "router.yaml",
            """
            node: { hostname: router }
            ospf: { interfaces: [d1, d2], fast_convergence: \(fastConvergence) }
            \(ospf6)routing: { pathspace: \(lab.prefix)rtr }
            vips: [{ address: \(Self.vip) }\(vip6)]
            """)
        try lab.exec(
            router,
            [Command.ecmpd, "render", "--role", "router", "--config", routerConfig, "--write", lab.path("etc-rtr")])
        try lab.startFRR("zebra", in: router, pathspace: "\(lab.prefix)rtr", config: lab.path("etc-rtr/zebra.conf"))
        try lab.startFRR("ospfd", in: router, pathspace: "\(lab.prefix)rtr", config: lab.path("etc-rtr/ospfd.conf"))
        if dualStack {
            try lab.startFRR(
                "ospf6d", in: router, pathspace: "\(lab.prefix)rtr", config: lab.path("etc-rtr/ospf6d.conf"))
        }
        for director in directors {
            try lab.exec(
                director.namespace,
                [Command.ecmpd, "render", "--config", director.config, "--write", lab.path("etc-\(director.name)")])
            try lab.startFRR(
                "zebra", in: director.namespace, pathspace: "\(lab.prefix)\(director.name)",
                config: lab.path("etc-\(director.name)/zebra.conf"))
            try lab.startFRR(
                "ospfd", in: director.namespace, pathspace: "\(lab.prefix)\(director.name)",
                config: lab.path("etc-\(director.name)/ospfd.conf"))
            if dualStack {
                try lab.startFRR(
                    "ospf6d", in: director.namespace, pathspace: "\(lab.prefix)\(director.name)",
                    config: lab.path("etc-\(director.name)/ospf6d.conf"))
            }
        }
        for index in directors.indices { try startEcmpd(index) }
    }

    func startEcmpd(_ index: Int) throws {
        let director = directors[index]
        directors[index].pid = try lab.spawn(
            director.namespace, [Command.ecmpd, "run", "--config", director.config], log: director.log)
    }

    /// What a failed wait shows: d1's log, addresses on lo and IPVS table,
    /// and the router's routes of both families.
    func diagnostics() -> String {
        let commands: [(String, [String])] = [
            (directors[0].namespace, ["ip", "addr", "show", "dev", "lo"]),
            (directors[0].namespace, ["ipvsadm", "-Ln"]),
            (router, ["ip", "route"]),
            (router, ["ip", "-6", "route"]),
        ]
        let outputs = commands.map { namespace, argv in
            "$ \(argv.joined(separator: " "))\n" + ((try? lab.exec(namespace, argv, allowFailure: true).output) ?? "")
        }
        let frr =
            dualStack
            ? [
                "show ipv6 ospf6 route", "show ipv6 ospf6 database intra-prefix",
                "show ipv6 route \(Self.vip6)",
            ].map { "rtr# \($0)\n" + ((try? lab.vtysh("\(lab.prefix)rtr", $0)) ?? "") }
                + [
                    "d1# show ipv6 ospf6 database intra-prefix detail\n"
                        + ((try? lab.vtysh("\(lab.prefix)d1", "show ipv6 ospf6 database intra-prefix detail")) ?? "")
                ]
            : []
        return (outputs + frr + ["d1's log:", log(0)]).joined(separator: "\n")
    }

    func log(_ index: Int) -> String {
        (try? String(contentsOfFile: directors[index].log, encoding: .utf8)) ?? "(no log)"
    }

    /// The directors the router's kernel forwards the VIP to now.
    func routerNexthops() throws -> Set<IPv4Address> {
        try routerWorker.sync {
            let reader = try RouteReader()
            guard let route = try reader.route(to: Self.vip), route.prefix.prefixLength == 32 else { return [] }
            return Set(route.nexthops.nexthops.compactMap(\.gateway?.ipv4))
        }
    }

    var bothDirectors: Set<IPv4Address> { Set(directors.map(\.address)) }

    private let watcherBox = WatcherBox()

    /// Waits, woken by the router kernel's rtnetlink events rather than by
    /// polling, until the VIP's nexthops are `expected`; returns when it
    /// saw them (nil after `timeout`).
    func waitForNexthops(_ expected: Set<IPv4Address>, timeout: Duration) throws -> ContinuousClock.Instant? {
        try waitForRoute(to: .ipv4, timeout: timeout) { Set($0.compactMap(\.gateway?.ipv4)) == expected }
    }

    /// The same wait for either family's VIP, with the directors named by
    /// the router interface each nexthop leaves by (`d1`, `d2`): an IPv6
    /// route's gateways are link-local addresses, which say nothing alone.
    func waitForDirectors(_ expected: Set<String>, family: Family, timeout: Duration) throws
        -> ContinuousClock.Instant?
    {
        try waitForRoute(to: family, timeout: timeout) { Set($0.map(\.interface)) == expected }
    }

    var directorNames: Set<String> { Set(directors.map(\.name)) }

    private func waitForRoute(
        to family: Family, timeout: Duration, until done: @escaping ([RouteNexthops.Nexthop]) -> Bool
    ) throws -> ContinuousClock.Instant? {
        let box = watcherBox, dualStack = dualStack
        return try routerWorker.sync {
            if box.watcher == nil {
                box.watcher = try RouteWatcher(includingIPv6Routes: dualStack)
                box.reader = try RouteReader()
            }
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            let vip = family.vip
            while true {
                let route = try box.reader!.route(to: vip)
                let now = clock.now
                let current =
                    route.flatMap { $0.prefix.prefixLength == vip.hostPrefixLength ? $0.nexthops.nexthops : nil } ?? []
                if done(current) { return now }
                if now >= deadline { return nil }
                _ = try box.watcher!.wait(timeout: deadline - now)
            }
        }
    }

    /// Sets every destination's weight on one director over genetlink.
    func setWeights(_ index: Int, to weight: Int32, family: Family = .ipv4) throws {
        try directors[index].ipvs.sync {
            let client = try IPVSClient()
            let identity = IPVSServiceIdentity.tcp(family == .ipv4 ? .v4(Self.vip) : .v6(Self.vip6), port: 80)
            for var destination in try client.destinations(of: identity) {
                destination.weight = weight
                try client.editDestination(destination, of: identity)
            }
        }
    }

    func onLoopback(_ index: Int) throws -> Bool {
        try lab.exec(directors[index].namespace, ["ip", "-4", "-o", "addr", "show", "dev", "lo"]).output.contains(
            " \(Self.vip)/32 ")
    }

    func history(_ index: Int) throws -> [[String: Any]] {
        let output = try lab.exec(
            directors[index].namespace,
            [Command.ecmpd, "history", "--db", "\(directors[index].state)/history.sqlite", "--json"]
        ).output
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
    }

    /// The director's `/status` entry for the VIP.
    func status(_ index: Int) throws -> [String: Any] {
        let output = try lab.exec(directors[index].namespace, [Command.ecmpd, "status", "--json"]).output
        let document = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        return ((document?["vips"] as? [[String: Any]]) ?? []).first { $0["vip"] as? String == Self.vip.description }
            ?? [:]
    }

    func metrics(_ index: Int) throws -> String {
        try lab.exec(directors[index].namespace, ["curl", "-sS", "--max-time", "5", "http://127.0.0.1:9477/metrics"])
            .output
    }

    /// The sum of a metric family's samples whose labels include every
    /// `label="value"` in `matching` (nil when the family has no such sample).
    func metric(_ index: Int, _ family: String, matching: [String] = []) throws -> Double? {
        let samples = try metrics(index).split(separator: "\n").filter { line in
            (line.hasPrefix("\(family){") || line.hasPrefix("\(family) ")) && matching.allSatisfy { line.contains($0) }
        }
        guard !samples.isEmpty else { return nil }
        return samples.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    /// Every row of the director's event table, `id|kind|vip|reason`, read
    /// with the sqlite3 shell (not through ecmpd), oldest first.
    func eventRows(_ index: Int) throws -> [String] {
        let database = "\(directors[index].state)/history.sqlite"
        return try Self.sqlite(database, "SELECT id, kind, ifnull(vip, ''), reason FROM event ORDER BY id")
            .output.split(separator: "\n").map(String.init)
    }

    /// The sqlite3 shell on a live database, waiting up to 5 s for a lock
    /// (the shell's default is not to wait): a restarted ecmpd's first open
    /// rebuilds the WAL index after a kill -9 and holds it meanwhile, and
    /// under a loaded TCG guest a read that came then failed with "database
    /// is locked" in one CI run.
    static func sqlite(_ database: String, _ sql: String) throws -> (status: Int32, output: String) {
        try Command.run(["sqlite3", "-cmd", ".timeout 5000", database, sql])
    }

    func tearDown() {
        for director in directors { director.ipvs.stop() }
        routerWorker.stop()
        lab.tearDown()
    }
}

private final class WatcherBox: @unchecked Sendable {
    var watcher: RouteWatcher?
    var reader: RouteReader?
}
