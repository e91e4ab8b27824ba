import ECMPCore
import Foundation

/// Tells whether each routing daemon ecmpd reloads is running, from the
/// pid file the daemon writes at start-up (FRR: /var/run/frr/DAEMON.pid,
/// /var/run/frr/PATHSPACE/DAEMON.pid under `-N`; Quagga: /var/run/quagga)
/// and /proc/PID/comm. The pid alone proves nothing: a daemon killed with
/// SIGKILL leaves its pid file behind, and the kernel may hand the pid to
/// another program. A few small reads on tmpfs and procfs, no process and
/// no vty session, so it can run every few seconds.
public struct RoutingDaemonProbe: Sendable {
    public struct Observation: Sendable, Equatable {
        public var daemon: String
        public var running: Bool
        public var pid: Int32?
        /// What was found, as an operator reads it.
        public var detail: String

        public init(daemon: String, running: Bool, pid: Int32?, detail: String) {
            self.daemon = daemon
            self.running = running
            self.pid = pid
            self.detail = detail
        }
    }

    /// The daemons whose files ecmpd installs and reloads, in reload
    /// order; bfdd only with `ospf.bfd` on, ospf6d only with IPv6 VIPs.
    public static func daemons(bfd: Bool, ospf6: Bool = false) -> [String] {
        ["zebra"] + (bfd ? ["bfdd"] : []) + ["ospfd"] + (ospf6 ? ["ospf6d"] : [])
    }

    public var runDirectory: String
    public var procDirectory: String

    public init(runDirectory: String, procDirectory: String = "/proc") {
        self.runDirectory = runDirectory
        self.procDirectory = procDirectory
    }

    public init(settings: RoutingDaemonSettings) {
        self.init(runDirectory: Self.runDirectory(for: settings))
    }

    /// Where the daemons put their pid files and vty sockets.
    public static func runDirectory(for settings: RoutingDaemonSettings) -> String {
        switch settings.flavour {
        case .quagga: return "/var/run/quagga"
        case .frr: return "/var/run/frr" + (settings.pathspace.map { "/\($0)" } ?? "")
        }
    }

    public func look(bfd: Bool = false, ospf6: Bool = false) -> [Observation] {
        Self.daemons(bfd: bfd, ospf6: ospf6).map(look(at:))
    }

    public func look(at daemon: String) -> Observation {
        var observation = lookOnce(at: daemon)
        if daemon == "bfdd", !observation.running { observation.detail += "; \(Self.bfddHint)" }
        if daemon == "ospf6d", !observation.running { observation.detail += "; \(Self.ospf6dHint)" }
        return observation
    }

    /// What an operator does when ospf.bfd is on and bfdd is not running.
    /// What an operator does when the config has IPv6 VIPs and ospf6d is not running.
    public static let ospf6dHint =
        "IPv6 VIPs need FRR's ospf6d: set ospf6d=yes in /etc/frr/daemons and restart frr (systemctl restart frr)"

    public static let bfddHint =
        "ospf.bfd needs FRR's bfdd: set bfdd=yes in /etc/frr/daemons and restart frr (systemctl restart frr)"

    func lookOnce(at daemon: String) -> Observation {
        let pidFile = "\(runDirectory)/\(daemon).pid"
        guard let text = Self.read(pidFile) else {
            return Observation(daemon: daemon, running: false, pid: nil, detail: "not running: no \(pidFile)")
        }
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else {
            return Observation(daemon: daemon, running: false, pid: nil, detail: "not running: \(pidFile) holds no pid")
        }
        // The kernel truncates comm to 15 bytes; FRR's daemon names are shorter.
        let command = Self.read("\(procDirectory)/\(pid)/comm")?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let command else {
            return Observation(
                daemon: daemon, running: false, pid: pid, detail: "not running: pid \(pid) from \(pidFile) has exited")
        }
        guard command == daemon else {
            return Observation(
                daemon: daemon, running: false, pid: pid,
                detail: "not running: pid \(pid) from \(pidFile) is now \(command)")
        }
        return Observation(daemon: daemon, running: true, pid: pid, detail: "running, pid \(pid)")
    }

    private static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
    }
}
