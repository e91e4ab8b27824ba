import ECMPCore
import ECMPHealth
import Foundation

/// Managed mode's real servers: the configured servers with their labels
/// (made once per configuration), the checker (read when asked) and the
/// table ecmpd programmed in the last cycle. `/status` rows and the
/// real-server metric lines are built from it when someone asks, not every
/// cycle: at 10,000 servers, building them every second (rows, strings, a
/// registry gauge each) cost a sixth of ecmpd's CPU (docs/benchmarks.md).
public struct RealServerView: Sendable {
    /// One configured real server, in display order.
    struct Entry: Sendable {
        var key: RealServerKey
        /// `TCP 198.18.0.100:80`.
        var service: String
        /// `198.18.1.2:80`.
        var server: String
        /// False for a server configured without a check (always up).
        var checked: Bool
    }

    var entries: [Entry]
    /// The checker's snapshot; called only for rows and metrics.
    var health: @Sendable () -> [RealServerKey: RealServerHealth]
    var programmed: IPVSTable

    /// Every real server `config` manages, each once, in key order.
    static func entries(for config: Config) -> [Entry] {
        var entries: [RealServerKey: Entry] = [:]
        for vip in config.vips {
            for service in vip.services {
                let identity = IPVSDesiredTable.identity(of: service, on: vip.address)
                let serviceText = identity.description
                for server in service.realServers {
                    let port = server.port ?? service.listener.defaultRealServerPort
                    let key = RealServerKey(
                        service: identity, destination: IPVSDestinationKey(server.address, port: UInt16(port)))
                    guard entries[key] == nil else { continue }
                    entries[key] = Entry(
                        key: key, service: serviceText, server: key.destination.description,
                        checked: server.check != nil)
                }
            }
        }
        return entries.values.sorted { $0.key < $1.key }
    }

    /// The rows of `/status` and `ecmpd status`.
    func rows() -> [ManagedServerStatus] {
        let weights = programmedWeights()
        let health = health()
        return entries.map { entry in
            let checked = health[entry.key]
            return ManagedServerStatus(
                service: entry.service, server: entry.server,
                check: checked?.target.kindLabel ?? "none", state: state(entry, checked),
                lastError: checked?.tracker.lastFailure?.description,
                latencyMilliseconds: checked?.tracker.lastLatency.map(Self.milliseconds),
                flaps: checked?.tracker.flaps ?? 0, checks: checked?.tracker.checks ?? 0,
                weight: weights[entry.key].map(Int.init))
        }
    }

    /// The real-server gauge families in the Prometheus text format:
    /// `ecmpd_realserver_up` (1 up, 0 down, -1 before a first result),
    /// `ecmpd_realserver_check_latency_seconds`, `ecmpd_realserver_flaps`.
    /// Label values are configured addresses only.
    func metricsText() -> String {
        guard !entries.isEmpty else { return "" }
        var up =
            "# HELP ecmpd_realserver_up Managed mode: 1 when the real server's check passes, 0 when it fails, -1 before its first result.\n# TYPE ecmpd_realserver_up gauge\n"
        var latency =
            "# HELP ecmpd_realserver_check_latency_seconds Managed mode: duration of the real server's last check.\n# TYPE ecmpd_realserver_check_latency_seconds gauge\n"
        var flaps =
            "# HELP ecmpd_realserver_flaps Managed mode: times the real server went between up and down since ecmpd started.\n# TYPE ecmpd_realserver_flaps gauge\n"
        up.reserveCapacity(entries.count * 80)
        let health = health()
        for entry in entries {
            let labels = "{service=\"\(Self.escaped(entry.service))\",server=\"\(Self.escaped(entry.server))\"}"
            let checked = health[entry.key]
            let value: Int
            switch state(entry, checked) {
            case "up": value = 1
            case "down": value = 0
            default: value = -1
            }
            up += "ecmpd_realserver_up\(labels) \(value)\n"
            if let last = checked?.tracker.lastLatency {
                latency += "ecmpd_realserver_check_latency_seconds\(labels) \(Self.milliseconds(last) / 1000)\n"
            }
            flaps += "ecmpd_realserver_flaps\(labels) \(checked?.tracker.flaps ?? 0)\n"
        }
        return up + latency + flaps
    }

    private func state(_ entry: Entry, _ checked: RealServerHealth?) -> String {
        entry.checked ? checked?.verdict.rawValue ?? "unknown" : "up"
    }

    private func programmedWeights() -> [RealServerKey: Int32] {
        var weights: [RealServerKey: Int32] = [:]
        for entry in programmed.entries {
            for destination in entry.destinations {
                weights[RealServerKey(service: entry.service.identity, destination: destination.key)] =
                    destination.weight
            }
        }
        return weights
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// The text format's label-value escapes: backslash, quote, newline.
    private static func escaped(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
