import ECMPTestSupport
import Foundation
import XCTest

/// docs/benchmarks.md, "Director failure and BFD": `make bench-bfd` runs it
/// (`make test` leaves it out with --skip). For each of BFD at ecmpd's
/// defaults (300 ms × 3), BFD at 100 ms × 3 and no BFD (hello 1, dead 4):
/// `ECMPD_BFD_TRIALS` (20) times d1's eth0 goes down inside its namespace,
/// timed from the `ip link set` to the router's kernel route without d1,
/// then up again, timed until d1 is back. Then bfdd's CPU on the router
/// and a director over 60 s of two or three sessions up (utime + stime
/// from /proc/PID/stat). Prints BENCH lines; asserts nothing about time.
final class BFDBenchmarkTests: XCTestCase {
    func testDirectorFailureUntilTheRouterDropsIt() throws {
        if let missing = BFDLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        let trials = Int(ProcessInfo.processInfo.environment["ECMPD_BFD_TRIALS"] ?? "") ?? 20
        let cases: [(name: String, bfd: Bool, timers: String, dead: Int)] = [
            ("bfd-300x3", true, "{ enabled: true }", 40),
            ("bfd-100x3", true, "{ receive_interval: 100ms, transmit_interval: 100ms, detect_multiplier: 3 }", 40),
            ("no-bfd", false, "", 4),
        ]
        for item in cases {
            // With BFD a dead interval of 40 s keeps OSPF out of the figures.
            let fleet = try BFDLab(
                routerBFD: item.bfd, directorBFD: item.bfd, deadInterval: item.dead, bfd: item.bfd ? item.timers : "{}")
            defer { fleet.tearDown() }
            _ = try fleet.waitForBoth()
            if item.bfd { try fleet.waitForSessionsUp() }
            let d2: Set = [fleet.addresses[1]]
            var drops: [Double] = [], backs: [Double] = []
            for _ in 0..<trials {
                // A new BFD session starts slow (1 s): wait until it is up,
                // then a little for the fast timers; OSPF gets one hello.
                if item.bfd { try fleet.waitForSessionsUp() }
                Thread.sleep(forTimeInterval: item.bfd ? 2 : 1.5)
                try fleet.linkDown()
                drops.append(seconds(try fleet.waitForRoute(d2, timeout: .seconds(60), "d1 dropped")))
                try fleet.linkUp()
                backs.append(seconds(try fleet.waitForRoute(fleet.both, timeout: .seconds(90), "d1 back")))
            }
            print("BENCH \(item.name) drop \(summary(drops)) recovery \(summary(backs)) trials \(trials)")
            if item.bfd {
                Thread.sleep(forTimeInterval: 5)
                let router = try fleet.lab.vtysh(fleet.routerSpace, "show bfd peers json")
                let sessions = router.components(separatedBy: "\"status\":\"up\"").count - 1
                let routerPid = try pid("/var/run/frr/\(fleet.routerSpace)/bfdd.pid")
                let directorPid = try fleet.daemonPid("bfdd", director: 1)
                let before = (try cpuTicks(routerPid), try cpuTicks(directorPid))
                Thread.sleep(forTimeInterval: 60)
                let after = (try cpuTicks(routerPid), try cpuTicks(directorPid))
                let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
                let routerShare = Double(after.0 - before.0) / hz / 60 * 100
                let directorShare = Double(after.1 - before.1) / hz / 60 * 100
                print(
                    String(
                        format: "BENCH %@ bfdd-cpu router %.2f%% of a core (%d sessions) director %.2f%% (2 sessions)",
                        item.name, routerShare, sessions, directorShare))
            }
        }
    }

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// median, p99 (nearest rank), min and max in milliseconds.
    func summary(_ values: [Double]) -> String {
        let sorted = values.sorted()
        let rank = { (p: Double) in sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)] }
        return String(
            format: "median %.0fms p99 %.0fms min %.0fms max %.0fms", rank(0.5) * 1000, rank(0.99) * 1000,
            sorted[0] * 1000, sorted[sorted.count - 1] * 1000)
    }

    func pid(_ file: String) throws -> pid_t {
        try XCTUnwrap(
            pid_t(try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// utime + stime of a process, in clock ticks.
    func cpuTicks(_ pid: pid_t) throws -> Int {
        let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = text[text.index(after: text.lastIndex(of: ")")!)...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])!
    }
}
