import ArgumentParser
import ECMPCore
import ECMPDaemon
import Foundation

/// `ecmpd drain` / `ecmpd undrain`: take VIPs off lo on purpose, and keep
/// them off (across restarts) until undrained. They write
/// `<state_dir>/drain.json`; the running daemon notices on its next cycle.
struct DrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract:
            "Withdraw VIPs on purpose until `ecmpd undrain` (the whole director: lo's cost first, then the VIPs).",
        discussion: """
            Without --vip the whole director drains in two phases: lo's OSPF cost is raised to \
            controller.drain_cost, so the router moves flows to the other directors, and after \
            controller.drain_wait the VIPs leave lo. A single VIP (--vip) leaves lo at once: the cost is \
            lo's, shared by every VIP.
            """
    )

    @Option(name: .shortAndLong, help: "The config file.")
    var config: String = ConfigFile.defaultPath

    @Option(help: "A configured VIP to drain (repeat); without it, the whole director.")
    var vip: [String] = []

    @Flag(help: "Wait until the running daemon reports the VIPs drained.")
    var wait = false

    func run() throws {
        let loaded = ConfigFile.loadOrExit(config)
        let vips = try DrainFiles.configuredVIPs(vip, in: loaded)
        let record = try DrainFiles.update(loaded) { record in
            if vips.isEmpty { record.director = true }
            record.vips = Array(Set(record.vips).union(vips.map(\.description))).sorted {
                IPAddress($0)! < IPAddress($1)!
            }
        }
        print(
            vips.isEmpty
                ? "director drained: lo cost goes to \(loaded.config.controller.drainCost), VIPs leave lo after \(DurationParser.format(loaded.config.controller.drainWait))"
                : "drained \(vips.map(\.description).joined(separator: ", "))")
        if wait {
            let targets = vips.isEmpty ? loaded.config.vips.map(\.address) : vips
            let limit = loaded.config.controller.drainWait + .seconds(30)
            try DrainFiles.waitFor(loaded, targets, drained: true, within: limit)
        }
        _ = record
    }
}

struct UndrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undrain",
        abstract: "End a drain: VIPs return to lo once their backends are healthy."
    )

    @Option(name: .shortAndLong, help: "The config file.")
    var config: String = ConfigFile.defaultPath

    @Option(help: "A VIP to undrain (repeat); without it, the director and every VIP.")
    var vip: [String] = []

    @Flag(help: "Wait until the running daemon reports the VIPs announced again.")
    var wait = false

    func run() throws {
        let loaded = ConfigFile.loadOrExit(config)
        let vips = try DrainFiles.configuredVIPs(vip, in: loaded)
        let record = try DrainFiles.update(loaded) { record in
            if vips.isEmpty {
                record = DrainRecord()
            } else {
                record.vips.removeAll { vips.map(\.description).contains($0) }
            }
        }
        if !vips.isEmpty && record.director {
            print("note: the whole director is still drained; `ecmpd undrain` without --vip ends that")
        }
        print(
            vips.isEmpty
                ? "director and every VIP undrained" : "undrained \(vips.map(\.description).joined(separator: ", "))")
        if wait {
            let targets = vips.isEmpty ? loaded.config.vips.map(\.address) : vips
            try DrainFiles.waitFor(loaded, targets, drained: false, within: .seconds(120))
        }
    }
}

enum DrainFiles {
    static func configuredVIPs(_ texts: [String], in loaded: LoadedConfig) throws -> [IPAddress] {
        let configured = Set(loaded.config.vips.map(\.address))
        return try texts.map { text in
            guard let address = IPAddress(text) else {
                throw ValidationError("--vip '\(text)' is not an IPv4 or IPv6 address")
            }
            guard configured.contains(address) else {
                throw ValidationError("--vip \(text) is not a VIP in \(loaded.file)")
            }
            return address
        }
    }

    /// Read, change and write drain.json under an exclusive lock, so two
    /// operators draining at once both count. The state directory and the
    /// lock file are vetted as `ecmpd run` vets them (root also trusting
    /// the directory's owner, the daemon's user): a symbolic link planted
    /// as drain.json.lock is refused, never followed.
    static func update(_ loaded: LoadedConfig, _ change: (inout DrainRecord) -> Void) throws -> DrainRecord {
        let directory = loaded.config.node.stateDirectory
        let path = DrainRecord.path(stateDirectory: directory)
        do {
            let stateDirectory = StateDirectory.forOperator(directory)
            try stateDirectory.prepare()
            let lock = try LockFile(path: "\(path).lock", trust: stateDirectory.trust)
            try lock.lock()
            let file = StateFile<DrainRecord>(path: path, trust: stateDirectory.trust)
            var record = try file.read() ?? DrainRecord()
            change(&record)
            if record.isEmpty { try file.remove() } else { try file.write(record) }
            try lock.close()
            return record
        } catch {
            Output.error("ecmpd: \(error)")
            throw ExitCode(1)
        }
    }

    /// Polls the daemon's /status until every target is (or is no longer)
    /// drained.
    static func waitFor(_ loaded: LoadedConfig, _ targets: [IPAddress], drained: Bool, within limit: Duration) throws {
        guard let (host, port) = StatusListenAddress.split(loaded.config.status.listen) else { return }
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        let wanted = Set(targets.map(\.description))
        var last = "no answer from the daemon at \(loaded.config.status.listen)"
        while clock.now < deadline {
            if let response = try? StatusClient(host: host, port: port, timeout: .seconds(2)).get("/status"),
                response.status == 200,
                let snapshot = try? StatusSnapshot.makeDecoder().decode(StatusSnapshot.self, from: Data(response.body))
            {
                let relevant = snapshot.vips.filter { wanted.contains($0.vip) }
                let done = relevant.allSatisfy { drained ? $0.state == .draining : $0.state != .draining }
                if done && relevant.count == wanted.count { return }
                last = relevant.map { "\($0.vip) \($0.state.rawValue)" }.joined(separator: ", ")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        Output.error("ecmpd: gave up waiting after \(DurationParser.format(limit)): \(last)")
        throw ExitCode(1)
    }
}
