import ECMPCore
import ECMPNetlink
import ECMPTestSupport
import Foundation
import XCTest

/// Issue "Reliability and security", load: one director with 500 VIPs of 20
/// real servers each (10,000 IPVS destinations), in observe mode. Start,
/// a SIGHUP reload and a change of one VIP are timed against the bounds in
/// docs/reliability.md, then a soak of `ECMPD_SOAK_SECONDS` (600 in
/// `make test`) that moves one VIP and reloads every 30 s, with ecmpd's RSS
/// read at its start and end.
final class ScaleSoakTests: XCTestCase {
    var lab: NetnsLab!
    var worker: NamespaceWorker?
    var pid: pid_t = 0

    static let vipCount = 500, serversPerVIP = 20

    override func setUpWithError() throws {
        try KernelTier.requireVM()
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        lab = try NetnsLab()
    }

    override func tearDown() {
        if let lab, (testRun?.totalFailureCount ?? 0) > 0 {
            print(
                "--- ecmpd log:\n" + ((try? String(contentsOfFile: lab.path("ecmpd.log"), encoding: .utf8)) ?? "(none)")
            )
        }
        worker?.stop()
        lab?.tearDown()
    }

    /// VIP i: 198.18.128.0 + i; its real servers in 198.19.(i / 12).x.
    static func vip(_ index: Int) -> IPv4Address { IPv4Address(198, 18, UInt8(128 + index / 256), UInt8(index % 256)) }
    static func server(_ vip: Int, _ index: Int) -> IPv4Address {
        let flat = vip * serversPerVIP + index
        return IPv4Address(198, 19, UInt8(flat / 250), UInt8(1 + flat % 250))
    }

    static var table: IPVSTable {
        IPVSTable(
            (0..<vipCount).map { index in
                IPVSTable.Entry(
                    IPVSService(.tcp(.v4(vip(index)), port: 80), scheduler: "wrr"),
                    destinations: (0..<serversPerVIP).map {
                        IPVSDestination(.v4(server(index, $0)), port: 80, forwarding: .directRoute, weight: 1)
                    })
            })
    }

    func config(weight: Int) -> String {
        var text = """
            node: { hostname: director-1, state_dir: \(lab.path("state")) }
            ospf: { interfaces: [eth0] }
            routing: { config_dir: \(lab.path("etc-frr")), reload: none }
            controller: { poll_interval: 1s, on_stop: leave, keepalived_config: \(lab.path("keepalived.conf")) }
            vips:

            """
        for index in 0..<Self.vipCount {
            text +=
                "  - address: \(Self.vip(index))\n    health: { fall: 2, rise: 2, hold_down: 0s }\n    services:\n      - port: 80\n        real_servers: ["
            text += (0..<Self.serversPerVIP).map { "{ address: \(Self.server(index, $0)), weight: \(weight) }" }.joined(
                separator: ", ")
            text += "]\n"
        }
        return text
    }

    func announced(_ namespace: String) throws -> Int {
        try lab.exec(namespace, ["ip", "-4", "-o", "addr", "show", "dev", "lo"]).output.split(separator: "\n")
            .filter { $0.contains(" 198.18.128.") || $0.contains(" 198.18.129.") }.count
    }

    func rss() -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    func setWeights(vip index: Int, to weight: Int32) throws {
        try worker!.sync {
            let client = try IPVSClient()
            let identity = IPVSServiceIdentity.tcp(.v4(Self.vip(index)), port: 80)
            for var destination in try client.destinations(of: identity) {
                destination.weight = weight
                try client.editDestination(destination, of: identity)
            }
        }
    }

    /// Successful config reloads in history (the start counts as one).
    func reloads() throws -> Int {
        let output = try ControllerFleet.sqlite(
            lab.path("state/history.sqlite"),
            "SELECT count(*) FROM event WHERE kind = 'config-reload' AND outcome = 'ok'"
        ).output
        return Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    func testFiveHundredVIPsOfTwentyRealServersStartReloadChangeAndStayFlat() throws {
        let director = try lab.directorNamespace("d")
        _ = try lab.write("keepalived.conf", "! none\n")
        try FileManager.default.createDirectory(atPath: lab.path("etc-frr"), withIntermediateDirectories: true)
        worker = try NamespaceWorker(namespace: director)
        let table = Self.table
        try worker!.sync {
            try IPVSClient().apply(IPVSReconcilePlan(desired: table, actual: IPVSTable(), ownership: .wholeTable))
        }
        let configPath = try lab.write("ecmpd.yaml", config(weight: 1))
        let clock = ContinuousClock()

        // Start: every VIP on lo after rise (2) cycles.
        pid = try lab.spawn(director, [Command.ecmpd, "run", "--config", configPath], log: lab.path("ecmpd.log"))
        let startTime = try NetnsLab.waitFor("500 VIPs on lo", timeout: .seconds(300), interval: .milliseconds(100)) {
            try announced(director) == Self.vipCount
        }
        let rssAfterStart = rss()

        // Reload: the same 500 VIPs with every weight 2, applied on SIGHUP.
        try config(weight: 2).write(toFile: configPath, atomically: true, encoding: .utf8)
        let reloadsBefore = try reloads()
        let hup = clock.now
        kill(pid, SIGHUP)
        try NetnsLab.waitFor("the reload in history", timeout: .seconds(300), interval: .milliseconds(100)) {
            try reloads() > reloadsBefore
        }
        let reloadTime = clock.now - hup

        // One VIP's backends fail: it alone leaves lo after fall (2) cycles.
        let changed = clock.now
        try setWeights(vip: 7, to: 0)
        try NetnsLab.waitFor("one VIP withdrawn", timeout: .seconds(60), interval: .milliseconds(50)) {
            try announced(director) == Self.vipCount - 1
        }
        let changeTime = clock.now - changed
        try setWeights(vip: 7, to: 1)
        try NetnsLab.waitFor("the VIP back", timeout: .seconds(60), interval: .milliseconds(100)) {
            try announced(director) == Self.vipCount
        }
        print(
            "BENCH scale 500x20: start to 500 VIPs on lo \(startTime), SIGHUP reload \(reloadTime), one VIP withdrawn \(changeTime) "
                + "(poll 1 s, fall 2); RSS after start \(rssAfterStart) kB")

        // Soak: every 30 s one VIP moves off lo and back, and the config is reloaded.
        let soak = Int(ProcessInfo.processInfo.environment["ECMPD_SOAK_SECONDS"] ?? "") ?? 600
        let soakStart = clock.now
        // The soak's start is after its first round: by then a reload and a
        // VIP move have each allocated what they keep (caches, arenas).
        var rssAtSoakStart = 0
        var samples: [Int] = [rss()]
        var judged: [Int] = []
        var round = 0
        while clock.now - soakStart < .seconds(soak) {
            round += 1
            let vip = round % Self.vipCount
            try setWeights(vip: vip, to: 0)
            try NetnsLab.waitFor(
                "VIP \(vip) withdrawn in round \(round)", timeout: .seconds(30), interval: .milliseconds(100)
            ) {
                try announced(director) == Self.vipCount - 1
            }
            try setWeights(vip: vip, to: 1)
            kill(pid, SIGHUP)
            try NetnsLab.waitFor(
                "VIP \(vip) back in round \(round)", timeout: .seconds(30), interval: .milliseconds(100)
            ) {
                try announced(director) == Self.vipCount
            }
            // RSS once a second until the next round: a leak shows in the
            // level of many samples, not in two points of the sawtooth.
            let next = soakStart + .seconds(30 * round)
            repeat {
                samples.append(rss())
                if round >= 2 { judged.append(samples.last ?? 0) }
                Thread.sleep(forTimeInterval: 1)
            } while clock.now < next
            if round == 1 { rssAtSoakStart = samples.last ?? 0 }
            XCTAssertTrue(lab.isRunning(pid), "ecmpd died during the soak")
        }
        let rssAtSoakEnd = rss()
        let cycle = try lab.exec(director, ["curl", "-sS", "--max-time", "10", "http://127.0.0.1:9477/metrics"]).output
            .split(separator: "\n").filter {
                $0.hasPrefix("ecmpd_reconcile_duration_seconds_sum")
                    || $0.hasPrefix("ecmpd_reconcile_duration_seconds_count")
            }
        print(
            "BENCH soak \(soak) s, \(round) rounds (one VIP withdrawn and back + SIGHUP each): RSS \(rssAtSoakStart) kB after round 1, "
                + "\(rssAtSoakEnd) kB at end, max \(samples.max() ?? 0) kB; \(samples.count) samples, judged from round 2: "
                + "\(judged.count); \(cycle.joined(separator: ", "))"
        )
        // docs/reliability.md's bounds, for this debug build under TCG: about
        // twice what two runs measured (38-57 s, 32-41 s, 6.5-9.6 s).
        XCTAssertLessThan(startTime, .seconds(120), "start over the documented bound")
        XCTAssertLessThan(reloadTime, .seconds(90), "reload over the documented bound")
        XCTAssertLessThan(changeTime, .seconds(20), "one-VIP change over the documented bound")
        // RSS rises and falls with each reload (62-85 MB in one run), so two
        // single samples compare two points of a sawtooth: one CI run had
        // 65.7 MB after round 1 and 75.3 MB at the end with no trend in
        // between, and a 2-minute soak in `make test` judged by one sample a
        // round failed the same way. A leak raises the whole series: the
        // median of the last third of the once-a-second samples against the
        // median of the first third. Judged from round 2 on: round 1 is the
        // first to see a reload's and a move's allocations (caches, arenas).
        XCTAssertGreaterThan(judged.count, 20, "too few RSS samples to judge a leak: \(judged.count)")
        let third = max(1, judged.count / 3)
        func median(_ values: ArraySlice<Int>) -> Double { Double(values.sorted()[values.count / 2]) }
        let early = median(judged.prefix(third)), late = median(judged.suffix(third))
        XCTAssertLessThanOrEqual(
            late, early * 1.10 + 2048,
            "RSS grew during the soak: median \(early) kB in the first third of the samples, \(late) kB in the last")
    }
}
