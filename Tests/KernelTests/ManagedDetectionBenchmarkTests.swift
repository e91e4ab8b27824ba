import ECMPCore
import ECMPNetlink
import ECMPTestSupport
import Foundation
import XCTest

/// docs/benchmarks.md, "Managed mode: detection": `make bench-managed` runs
/// it in the VM (ECMPD_BENCH=1); plain kernel-tier runs leave it out.
///
/// From a real server's listener being killed (SIGKILL: the next connect
/// is refused) to its IPVS destination reaching weight 0 on the director,
/// read over genetlink every 5 ms from a thread in the director's
/// namespace. The kill comes at a random point of the check interval, so
/// the figures include the wait for the next check, as in production.
final class ManagedDetectionBenchmarkTests: XCTestCase {
    struct Profile {
        var name: String
        var check: String
        var poll: String
        var trials: Int
    }

    func testDetectionLatencyForTheDefaultAndAnAggressiveProfile() throws {
        try KernelTier.requireVM()
        guard ProcessInfo.processInfo.environment["ECMPD_BENCH"] == "1" else {
            throw XCTSkip("benchmark: run with ECMPD_BENCH=1 (make bench-managed)")
        }
        let trials = Int(ProcessInfo.processInfo.environment["ECMPD_BENCH_TRIALS"] ?? "") ?? 30
        let profiles = [
            // ecmpd's defaults: interval 5s, timeout 3s, fall 1; poll 250ms.
            Profile(name: "default", check: "{ type: tcp }", poll: "250ms", trials: trials),
            Profile(
                name: "aggressive", check: "{ type: tcp, interval: 200ms, timeout: 100ms, fall: 1, rise: 1 }",
                poll: "50ms", trials: trials * 2),
        ]
        for profile in profiles { try measure(profile) }
    }

    func measure(_ profile: Profile) throws {
        let lab = try NetnsLab()
        defer { lab.tearDown() }
        let director = try lab.namespace("d"), server = try lab.namespace("r")
        try lab.link(director, "eth0", server, "eth0")
        try lab.exec(director, ["ip", "addr", "add", "198.18.1.1/24", "dev", "eth0"])
        try lab.exec(director, ["ip", "route", "add", "default", "via", "198.18.1.254"])
        try lab.exec(server, ["ip", "addr", "add", "198.18.1.2/24", "dev", "eth0"])
        try FileManager.default.createDirectory(atPath: lab.path("frr"), withIntermediateDirectories: true)
        let config = try lab.write(
            "ecmpd.yaml",
            """
            mode: managed
            node: { hostname: bench, state_dir: \(lab.path("state")) }
            routing: { config_dir: \(lab.path("frr")), reload: none }
            controller: { poll_interval: \(profile.poll) }
            vips:
              - address: 198.18.0.100
                services:
                  - port: 8080
                    inhibit_on_failure: true
                    real_servers: [{ address: 198.18.1.2, check: \(profile.check) }]
            """)
        let daemon = try lab.spawn(director, [Command.ecmpd, "run", "--config", config], log: lab.path("ecmpd.log"))
        let worker = try NamespaceWorker(namespace: director)
        defer { worker.stop() }
        let identity = IPVSServiceIdentity.tcp(.v4(IPv4Address(198, 18, 0, 100)), port: 8080)
        func weight() throws -> Int32? {
            try worker.sync { try? IPVSClient().destinations(of: identity).first?.weight }
        }
        let interval = profile.name == "default" ? 5.0 : 0.2
        let clock = ContinuousClock()
        var samples: [Duration] = []
        for trial in 1...profile.trials {
            let listener = try lab.spawn(
                server,
                [
                    "/usr/bin/python3", FixtureRepository.url("Tests/tools/health-target.py").path, "--port", "8080",
                    "--tcp",
                ],
                log: lab.path("listener.log"))
            try NetnsLab.waitFor(
                "trial \(trial): the real server up in IPVS", timeout: .seconds(60), interval: .milliseconds(20)
            ) {
                guard lab.isRunning(daemon) else {
                    throw XCTSkip(
                        "ecmpd exited:\n\((try? String(contentsOfFile: lab.path("ecmpd.log"), encoding: .utf8)) ?? "")")
                }
                return try weight() == 1
            }
            Thread.sleep(forTimeInterval: Double.random(in: 0..<interval))
            let killed = clock.now
            kill(listener, SIGKILL)
            _ = lab.waitExit(listener, timeout: .seconds(5))
            while try weight() != 0 {
                guard clock.now - killed < .seconds(60) else { return XCTFail("trial \(trial): never detected") }
                usleep(5_000)
            }
            samples.append(clock.now - killed)
        }
        func ms(_ d: Duration) -> Double {
            Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        let sorted = samples.map(ms).sorted()
        let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        print(
            String(
                format:
                    "BENCH detection %@ (check %@, poll %@, %d trials): median %.0f ms, p99 %.0f ms, min %.0f ms, max %.0f ms",
                profile.name, profile.check, profile.poll, sorted.count, sorted[sorted.count / 2], p99, sorted.first!,
                sorted.last!))
        print(
            "BENCH raw detection \(profile.name) ms: \(sorted.map { String(format: "%.0f", $0) }.joined(separator: " "))"
        )
    }
}
