import ECMPTestSupport
import Foundation
import XCTest

/// The namespace tier's harness for the built `ecmpd run`: a namespace
/// shaped like a director (a veth with a /24 and a default route), the
/// daemon's config, state and routing folders in the lab directory, and
/// readers for what an operator sees (`ecmpd status`, `ecmpd history`,
/// lo, the installed ospfd.conf). Subclasses hold the tests.
class DaemonTestCase: XCTestCase {
    var lab: NetnsLab!
    var director = ""
    let vip = "198.18.0.100"
    let second = "198.18.0.101"
    let foreign = "198.18.0.200"
    let listen = "127.0.0.1:9477"

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        lab = try NetnsLab()
        director = try lab.directorNamespace("d")
        // Not the host's /etc/keepalived: preflight reads this one.
        _ = try lab.write("keepalived.conf", "global_defs {\n}\n")
        // As /etc/frr exists on a director; ecmpd installs into it.
        try FileManager.default.createDirectory(atPath: routingDirectory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        // Ends the daemon by its pid (also after a failed assertion), then
        // deletes the namespace.
        lab?.tearDown()
    }

    // MARK: Setup helpers

    var stateDirectory: String { lab.path("state") }
    var routingDirectory: String { lab.path("etc-frr") }
    var historyDatabase: String { "\(stateDirectory)/history.sqlite" }
    var ospfdConf: String { "\(routingDirectory)/ospfd.conf" }
    var logFile: String { lab.path("ecmpd.log") }

    var configPath: String { lab.path("ecmpd.yaml") }

    /// Writes (atomically, so a SIGHUP never reads half of it) the daemon's
    /// config. `controller` adds `key: value` lines to that section;
    /// `routing` adds `key: value` pairs to the routing map (the default
    /// installs only, `reload: none`, and needs no FRR daemon). `ospf6`
    /// is the `ospf6` section's flow mapping, for IPv6 VIPs.
    func writeConfig(
        vips: [String]? = nil, fall: Int = 1000, pollInterval: String = "50ms", onStop: String = "withdraw",
        controller: [String] = [], mode: String = "observe", routing: [String] = ["reload: none"], loCost: Int = 10,
        ospf6: String? = nil
    ) throws {
        let controllerLines =
            [
                "poll_interval: \(pollInterval)", "on_stop: \(onStop)", "network_debounce: 200ms",
                "keepalived_config: \(lab.path("keepalived.conf"))",
            ] + controller
        let vipEntries = (vips ?? [vip]).map {
            "  - address: \($0)\n    health: { fall: \(fall), rise: 1, hold_down: 0s }\n"
        }
        _ = try lab.write(
            "ecmpd.yaml",
            """
            mode: \(mode)
            node: { hostname: director-1, state_dir: \(stateDirectory) }
            ospf: { lo_cost: \(loCost) }
            \(ospf6.map { "ospf6: \($0)\n" } ?? "")routing: { \((["config_dir: \(routingDirectory)"] + routing).joined(separator: ", ")) }
            status: { listen: "\(listen)" }
            controller:
            \(controllerLines.map { "  \($0)\n" }.joined())vips:
            \(vipEntries.joined())
            """)
    }

    /// Starts `ecmpd run` in the director namespace and waits until it
    /// answers on its status endpoint and traps SIGHUP and SIGTERM (a
    /// signal before that would kill it instead of reaching it).
    @discardableResult
    func startDaemon() throws -> pid_t {
        let pid = try lab.spawn(
            director, [Command.ecmpd, "run", "--config", configPath, "--log-level", "debug"], log: logFile)
        try waitFor("ecmpd run to answer /status and trap its signals", timeout: .seconds(60)) {
            guard lab.isRunning(pid) else { throw DaemonExited(log: log()) }
            return (try? status()) != nil && Self.traps(pid, [SIGHUP, SIGTERM])
        }
        return pid
    }

    struct DaemonExited: Error, CustomStringConvertible {
        var log: String
        var description: String { "ecmpd run exited early:\n\(log)" }
    }

    /// Whether the process has a handler for (or ignores) each signal:
    /// dispositions are process-wide, so /proc/PID/status's SigCgt and
    /// SigIgn tell. (Thread masks do not: libdispatch's threads block
    /// every signal from birth, handler or not.)
    static func traps(_ pid: pid_t, _ signals: [Int32]) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        let handled = text.split(separator: "\n").compactMap { line -> UInt64? in
            guard line.hasPrefix("SigCgt:") || line.hasPrefix("SigIgn:") else { return nil }
            return UInt64(line.split(separator: "\t").last ?? "", radix: 16)
        }.reduce(0, |)
        return signals.allSatisfy { handled & (UInt64(1) << UInt64($0 - 1)) != 0 }
    }

    func log() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "(no log)" }

    /// Polls `condition` until it holds; on timeout fails with the daemon's log.
    @discardableResult
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: () throws -> Bool) throws -> Duration {
        do {
            return try NetnsLab.waitFor(what, timeout: timeout, interval: .milliseconds(100), condition)
        } catch let failure as Command.Failure {
            throw TimedOut(failure: failure.description, log: log())
        }
    }

    struct TimedOut: Error, CustomStringConvertible {
        var failure: String
        var log: String
        var description: String { "\(failure)\n--- ecmpd log ---\n\(log)" }
    }

    // MARK: Reading the daemon's state

    /// `ecmpd status --json` against the daemon in the namespace.
    func status() throws -> [String: [String: Any]] {
        var byVIP: [String: [String: Any]] = [:]
        for entry in try statusDocument()["vips"] as? [[String: Any]] ?? [] {
            byVIP[entry["vip"] as? String ?? ""] = entry
        }
        return byVIP
    }

    /// The whole `ecmpd status --json` document.
    func statusDocument() throws -> [String: Any] {
        let output = try lab.exec(director, [Command.ecmpd, "status", "--json", "--address", listen, "--timeout", "2"])
            .output
        return try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
    }

    /// The daemon's `/metrics` text, fetched inside the namespace.
    func metricsText() throws -> String {
        try lab.exec(director, ["curl", "-s", "--max-time", "2", "http://\(listen)/metrics"]).output
    }

    /// The value of one series, such as `ecmpd_routing_daemon_up{daemon="ospfd"}`;
    /// nil when the daemon does not export it (or is not answering).
    func metric(_ series: String) -> Double? {
        guard let text = try? metricsText() else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    func state(of address: String) -> String? { (try? status())?[address]?["state"] as? String }

    /// `ecmpd history --json`, oldest first; empty while the database does
    /// not exist yet.
    func history() throws -> [[String: Any]] {
        let result = try Command.run(
            [Command.ecmpd, "history", "--db", historyDatabase, "--json", "--limit", "10000"], allowFailure: true)
        guard result.status == 0 else { return [] }
        let start = result.output.firstIndex(of: "[") ?? result.output.startIndex
        return try JSONSerialization.jsonObject(with: Data(result.output[start...].utf8)) as? [[String: Any]] ?? []
    }

    func events(_ kind: String, vip address: String? = nil) throws -> [[String: Any]] {
        try history().filter { $0["kind"] as? String == kind && (address == nil || $0["vip"] as? String == address) }
    }

    /// lo's IPv4 addresses as "address/prefix".
    func loopback() throws -> Set<String> {
        let output = try lab.exec(director, ["ip", "-4", "-j", "addr", "show", "dev", "lo"]).output
        let links = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        return Set(
            links.flatMap { $0["addr_info"] as? [[String: Any]] ?? [] }.map {
                "\($0["local"] ?? "")/\($0["prefixlen"] ?? "")"
            })
    }

    func installedOSPFConfig() -> String { (try? String(contentsOfFile: ospfdConf, encoding: .utf8)) ?? "" }

    static func date(_ event: [String: Any]) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return (event["timestamp"] as? String).flatMap(formatter.date(from:))
    }

}
