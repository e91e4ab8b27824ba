import Foundation

/// Network namespaces, veth links and FRR daemons for one test, all torn
/// down by `tearDown()` — also after a failure — and nothing else touched:
/// names carry this process's pid, and only daemons this lab started (by
/// pid) are stopped. Lab addresses come from 198.18.0.0/15 and no namespace
/// gets a link to the host's interfaces.
public final class NetnsLab {
    public let prefix: String
    public let directory: URL
    private(set) var namespaces: [String] = []
    private var daemons: [(name: String, pidFile: String)] = []
    private var runDirectories: [String] = []
    private var children: [pid_t] = []

    private static let counter = Counter()

    public init() throws {
        prefix = "e\(getpid() % 100_000)\(NetnsLab.counter.next())"
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "ecmpd-\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, 0o755)
    }

    /// Fails (never skips) when a prerequisite is missing.
    public static func prerequisites() -> String? {
        if geteuid() != 0 { return "the namespace tier needs root (ip netns, FRR)" }
        for program in ["/usr/lib/frr/zebra", "/usr/lib/frr/ospfd", "/usr/bin/vtysh", "/usr/lib/frr/frr-reload.py"]
        where !FileManager.default.fileExists(atPath: program) {
            return "\(program) is missing: run scripts/install-deps.sh (Debian packages frr, frr-pythontools)"
        }
        if (try? Command.resolve("ip")) == nil { return "iproute2's ip is missing" }
        return nil
    }

    public func namespace(_ name: String) throws -> String {
        let full = "\(prefix)-\(name)"
        try Command.run(["ip", "netns", "add", full])
        namespaces.append(full)
        try Command.run(["ip", "-n", full, "link", "set", "lo", "up"])
        return full
    }

    /// A namespace shaped like a director: a veth `eth0`/`eth1` with both
    /// ends inside it (carrier, never a link to the host), 198.18.0.2/24 on
    /// eth0 and a default route via 198.18.0.1.
    public func directorNamespace(_ name: String) throws -> String {
        let director = try namespace(name)
        try exec(director, ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"])
        try exec(director, ["ip", "link", "set", "eth0", "up"])
        try exec(director, ["ip", "link", "set", "eth1", "up"])
        try exec(director, ["ip", "addr", "add", "198.18.0.2/24", "dev", "eth0"])
        try exec(director, ["ip", "route", "add", "default", "via", "198.18.0.1"])
        return director
    }

    /// A veth pair with one end in each namespace, renamed and brought up.
    public func link(_ a: String, _ aName: String, _ b: String, _ bName: String) throws {
        let tmpA = "v\(UUID().uuidString.prefix(8))", tmpB = "v\(UUID().uuidString.prefix(8))"
        try Command.run(["ip", "link", "add", tmpA, "type", "veth", "peer", "name", tmpB])
        try Command.run(["ip", "link", "set", tmpA, "netns", a])
        try Command.run(["ip", "link", "set", tmpB, "netns", b])
        try Command.run(["ip", "-n", a, "link", "set", tmpA, "name", aName])
        try Command.run(["ip", "-n", b, "link", "set", tmpB, "name", bName])
        try Command.run(["ip", "-n", a, "link", "set", aName, "up"])
        try Command.run(["ip", "-n", b, "link", "set", bName, "up"])
    }

    @discardableResult
    public func exec(_ namespace: String, _ argv: [String], allowFailure: Bool = false) throws -> (
        status: Int32, output: String
    ) {
        try Command.run(["ip", "netns", "exec", namespace] + argv, allowFailure: allowFailure)
    }

    public func write(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Starts one FRR daemon in `namespace` under pathspace `pathspace`
    /// (its vty sockets and pid file live in /var/run/frr/PATHSPACE).
    public func startFRR(_ daemon: String, in namespace: String, pathspace: String, config: String) throws {
        let run = "/var/run/frr/\(pathspace)"
        if !runDirectories.contains(run) {
            try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
            chown("/var/run/frr", frrUser.uid, frrUser.gid)
            chown(run, frrUser.uid, frrUser.gid)
            runDirectories.append(run)
        }
        // FRR 8.4's bfdd puts its control socket at /var/run/frr/bfdd.sock
        // whatever the pathspace: keep it in this lab's run directory, so
        // it never replaces the host's and goes with the lab.
        let extra = daemon == "bfdd" ? ["--bfdctl", "\(run)/bfdd.sock"] : []
        try exec(
            namespace,
            ["/usr/lib/frr/\(daemon)", "-N", pathspace, "-f", config, "-d", "-u", "frr", "-g", "frr"] + extra)
        daemons.append((daemon, "\(run)/\(daemon).pid"))
    }

    /// Starts `argv` in `namespace` in the background (`ip netns exec`
    /// execs it, so the pid is the program's), output appended to `log`.
    /// `tearDown` ends it if it is still running.
    public func spawn(_ namespace: String, _ argv: [String], log: String) throws -> pid_t {
        let full = ["/usr/bin/env", "ip", "netns", "exec", namespace] + argv
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let cArgs = full.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let status = posix_spawn(&pid, "/usr/bin/env", &actions, nil, cArgs, environ)
        guard status == 0 else {
            throw Command.Failure(argv: full, status: status, output: String(cString: strerror(status)))
        }
        children.append(pid)
        return pid
    }

    /// Whether a process `spawn` started is still running (reaps it if not).
    public func isRunning(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Waits up to `timeout` for a spawned process to exit; its exit status,
    /// or nil if it is still running.
    public func waitExit(_ pid: pid_t, timeout: Duration) -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                children.removeAll { $0 == pid }
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
            usleep(20_000)
        }
        return nil
    }

    public func vtysh(_ pathspace: String, _ command: String) throws -> String {
        try Command.run(["vtysh", "-N", pathspace, "-c", command]).output
    }

    private var frrUser: (uid: uid_t, gid: gid_t) {
        guard let account = getpwnam("frr") else { return (0, 0) }
        return (account.pointee.pw_uid, account.pointee.pw_gid)
    }

    /// Polls `condition` until it holds or `timeout` passes; returns how long it took.
    @discardableResult
    public static func waitFor(
        _ what: String, timeout: Duration, interval: Duration = .milliseconds(50), _ condition: () throws -> Bool
    ) throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            if try condition() { return clock.now - start }
            Thread.sleep(
                forTimeInterval: Double(interval.components.attoseconds) / 1e18 + Double(interval.components.seconds))
        }
        throw Command.Failure(argv: ["wait for", what], status: -1, output: "still not true after \(timeout)")
    }

    public func tearDown() {
        for pid in children.reversed() {
            kill(pid, SIGTERM)
            if waitExit(pid, timeout: .seconds(5)) == nil {
                kill(pid, SIGKILL)
                _ = waitExit(pid, timeout: .seconds(5))
            }
        }
        children.removeAll()
        for daemon in daemons.reversed() {
            guard let text = try? String(contentsOfFile: daemon.pidFile, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { continue }
            kill(pid, SIGTERM)
            for _ in 0..<50 where kill(pid, 0) == 0 { usleep(20_000) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
        daemons.removeAll()
        for namespace in namespaces.reversed() {
            _ = try? Command.run(["ip", "netns", "del", namespace], allowFailure: true)
        }
        namespaces.removeAll()
        for run in runDirectories { try? FileManager.default.removeItem(atPath: run) }
        runDirectories.removeAll()
        try? FileManager.default.removeItem(at: directory)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.withLock {
            value += 1; return value
        }
    }
}
