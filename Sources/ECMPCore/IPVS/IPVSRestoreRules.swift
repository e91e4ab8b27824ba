/// Renders a table as `ipvsadm-restore` input, in the line format
/// `ipvsadm -Sn` writes, so an operator can diff, save or replay what ecmpd
/// programs with the standard tool, and a benchmark can program the same
/// table both ways.
///
/// Two deliberate differences from `ipvsadm -Sn` (ipvsadm 1.31): thresholds
/// are written (`-x`/`-y`; ipvsadm-restore accepts them, `-Sn` drops them),
/// and services come in canonical order rather than ipvsadm's.
///
/// What ipvsadm cannot express is approximated: a non-default netmask on a
/// service that is not persistent is left out (ipvsadm only sends `-M` with
/// `-p`), and `.local`/`.bypass` destinations are written as `-g`: the
/// kernel itself turns any destination with a local address into `.local`.
public enum IPVSRestoreRules {
    public static func render(_ table: IPVSTable) -> String {
        var lines: [String] = []
        for entry in table.entries.sorted(by: { $0.service.identity < $1.service.identity }) {
            let service = entry.service
            let target = serviceOption(service.identity)
            var line = "-A \(target) -s \(service.scheduler)"
            if service.flags.contains(.persistent) {
                line += " -p \(service.persistenceTimeout)"
                if service.netmask != .host(for: service.identity.family) { line += " -M \(service.netmask)" }
            }
            let schedulerFlags = flagNames(service.flags, scheduler: service.scheduler)
            if !schedulerFlags.isEmpty { line += " -b " + schedulerFlags.joined(separator: ",") }
            if service.flags.contains(.onePacket) { line += " -o" }
            lines.append(line)
            for destination in entry.destinations.sorted(by: { $0.key < $1.key }) {
                var line =
                    "-a \(target) -r \(destination.key) \(forwardingOption(destination.forwarding)) -w \(destination.weight)"
                if destination.forwarding == .tunnel { line += " --tun-type ipip" }
                if destination.upperThreshold != 0 { line += " -x \(destination.upperThreshold)" }
                if destination.lowerThreshold != 0 { line += " -y \(destination.lowerThreshold)" }
                lines.append(line)
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// The option naming a service, as `ipvsadm` takes it.
    private static func serviceOption(_ identity: IPVSServiceIdentity) -> String {
        switch identity {
        case .tcp(let address, let port): return "-t \(IPVSDestinationKey(address, port: port))"
        case .udp(let address, let port): return "-u \(IPVSDestinationKey(address, port: port))"
        case .sctp(let address, let port): return "--sctp-service \(IPVSDestinationKey(address, port: port))"
        case .fwmark(let mark, let family): return family == .ipv4 ? "-f \(mark)" : "-f \(mark) -6"
        }
    }

    /// ipvsadm names the scheduler flags after the scheduler that reads them.
    private static func flagNames(_ flags: IPVSServiceFlags, scheduler: String) -> [String] {
        let names: [String]
        switch scheduler {
        case "sh": names = ["sh-fallback", "sh-port", "flag-3"]
        case "mh": names = ["mh-fallback", "mh-port", "flag-3"]
        default: names = ["flag-1", "flag-2", "flag-3"]
        }
        return zip([IPVSServiceFlags.sched1, .sched2, .sched3], names).filter { flags.contains($0.0) }.map(\.1)
    }

    private static func forwardingOption(_ method: IPVSForwardingMethod) -> String {
        switch method {
        case .masquerade: return "-m"
        case .tunnel: return "-i"
        case .directRoute, .local, .bypass: return "-g"
        }
    }
}
