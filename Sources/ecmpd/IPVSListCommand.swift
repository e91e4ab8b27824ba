import ArgumentParser
import ECMPCore
import ECMPNetlink

/// `ecmpd ipvs list`: what `ipvsadm -Ln` and `ipvsadm -Ln --stats --exact`
/// print together, in one table or as JSON. Services and destinations come
/// in canonical order (ipvsadm sorts too), not the kernel's list order.
struct IPVSListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print the kernel's IPVS table with connections and traffic counters (ipvsadm -Ln --stats)."
    )

    @Flag(help: "Print the table as JSON.")
    var json = false

    func run() throws {
        let (info, table) = try IPVSCommand.kernel { () throws(NetlinkError) in
            let client = try IPVSClient()
            return (try client.info(), try client.table())
        }
        if json {
            try Output.json(Listing(info: info, table: table))
        } else {
            print(Self.text(info: info, table: table), terminator: "")
        }
    }

    /// The JSON document.
    struct Listing: Encodable {
        var version: String
        var connectionTableSize: UInt32
        var services: [Service]

        struct Service: Encodable {
            /// TCP, UDP, SCTP or FWM, as ipvsadm prints it.
            var `protocol`: String
            var family: String
            var address: String?
            var port: UInt16?
            var fwmark: UInt32?
            var scheduler: String
            /// Scheduler flags by ipvsadm's (and the config's) names, and
            /// `one-packet`; persistence has its own field.
            var flags: [String]
            var persistence: Persistence?
            var stats: Stats
            var destinations: [Destination]
        }

        struct Persistence: Encodable {
            var timeout: UInt32
            var netmask: String
        }

        struct Destination: Encodable {
            var address: String
            var port: UInt16
            /// Route, Masq, Tunnel, Local, as ipvsadm prints it.
            var forwarding: String
            var weight: Int32
            var upperThreshold: UInt32
            var lowerThreshold: UInt32
            var activeConnections: UInt32
            var inactiveConnections: UInt32
            var persistentConnections: UInt32
            var stats: Stats
        }

        /// Counters since the object was created, and the kernel's rate estimates.
        struct Stats: Encodable {
            var connections: UInt64
            var incomingPackets: UInt64
            var outgoingPackets: UInt64
            var incomingBytes: UInt64
            var outgoingBytes: UInt64
            var connectionsPerSecond: UInt64
            var incomingPacketsPerSecond: UInt64
            var outgoingPacketsPerSecond: UInt64
            var incomingBytesPerSecond: UInt64
            var outgoingBytesPerSecond: UInt64

            init(_ stats: IPVSStats?) {
                let stats = stats ?? IPVSStats()
                connections = stats.connections
                incomingPackets = stats.incomingPackets
                outgoingPackets = stats.outgoingPackets
                incomingBytes = stats.incomingBytes
                outgoingBytes = stats.outgoingBytes
                connectionsPerSecond = stats.connectionsPerSecond
                incomingPacketsPerSecond = stats.incomingPacketsPerSecond
                outgoingPacketsPerSecond = stats.outgoingPacketsPerSecond
                incomingBytesPerSecond = stats.incomingBytesPerSecond
                outgoingBytesPerSecond = stats.outgoingBytesPerSecond
            }
        }

        init(info: IPVSInfo, table: IPVSTable) {
            version = info.version
            connectionTableSize = info.connectionTableSize
            services = table.entries.sorted { $0.service.identity < $1.service.identity }.map { entry in
                let service = entry.service
                let endpoint = service.identity.endpoint
                var mark: UInt32?
                if case .fwmark(let value, _) = service.identity { mark = value }
                return Service(
                    protocol: service.identity.protocolName, family: service.identity.family.description,
                    address: endpoint.map { $0.address.description }, port: endpoint?.port, fwmark: mark,
                    scheduler: service.scheduler, flags: Self.flagNames(service),
                    persistence: service.flags.contains(.persistent)
                        ? Persistence(timeout: service.persistenceTimeout, netmask: service.netmask.description) : nil,
                    stats: Stats(service.stats),
                    destinations: entry.destinations.sorted { $0.key < $1.key }.map { destination in
                        let connections = destination.connections ?? IPVSConnectionCounts()
                        return Destination(
                            address: destination.address.description, port: destination.port,
                            forwarding: destination.forwarding.description, weight: destination.weight,
                            upperThreshold: destination.upperThreshold, lowerThreshold: destination.lowerThreshold,
                            activeConnections: connections.active, inactiveConnections: connections.inactive,
                            persistentConnections: connections.persistent, stats: Stats(destination.stats))
                    })
            }
        }

        /// ipvsadm names the scheduler bits after the scheduler reading them.
        static func flagNames(_ service: IPVSService) -> [String] {
            let prefix = ["mh", "sh"].contains(service.scheduler) ? service.scheduler : nil
            var names: [String] = []
            if service.flags.contains(.sched1) { names.append(prefix.map { "\($0)-fallback" } ?? "flag-1") }
            if service.flags.contains(.sched2) { names.append(prefix.map { "\($0)-port" } ?? "flag-2") }
            if service.flags.contains(.sched3) { names.append("flag-3") }
            if service.flags.contains(.onePacket) { names.append("one-packet") }
            return names
        }
    }

    /// One row per service and destination, counters exact (ipvsadm's
    /// `--exact`), numbers right-aligned.
    static func text(info: IPVSInfo, table: IPVSTable) -> String {
        var rows: [[String]] = [
            [
                "Prot LocalAddress:Port Scheduler Flags", "", "", "", "", "Conns", "InPkts", "OutPkts", "InBytes",
                "OutBytes",
            ],
            ["  -> RemoteAddress:Port", "Forward", "Weight", "ActiveConn", "InActConn", "", "", "", "", ""],
        ]
        for entry in table.entries.sorted(by: { $0.service.identity < $1.service.identity }) {
            rows.append([label(entry.service), "", "", "", ""] + counters(entry.service.stats))
            for destination in entry.destinations.sorted(by: { $0.key < $1.key }) {
                let connections = destination.connections ?? IPVSConnectionCounts()
                rows.append(
                    [
                        "  -> \(destination.key)", destination.forwarding.description, "\(destination.weight)",
                        "\(connections.active)", "\(connections.inactive)",
                    ] + counters(destination.stats))
            }
        }
        // ASCII only, so UTF-8 length is the column width (and cheap to count).
        let widths = rows[0].indices.map { column in rows.map { $0[column].utf8.count }.max() ?? 0 }
        var text = info.description + "\n"
        for row in rows {
            var line = ""
            for (column, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.utf8.count)
                if column > 0 { line += "  " }
                line += column < 2 ? cell + padding : padding + cell
            }
            while line.utf8.last == UInt8(ascii: " ") { line.removeLast() }
            text += line + "\n"
        }
        return text
    }

    private static func counters(_ stats: IPVSStats?) -> [String] {
        let stats = stats ?? IPVSStats()
        return [
            stats.connections, stats.incomingPackets, stats.outgoingPackets, stats.incomingBytes, stats.outgoingBytes,
        ]
        .map(String.init)
    }

    /// `TCP  198.18.0.1:80 mh (mh-fallback,mh-port) persistent 60 mask 255.255.255.0 ops`, in ipvsadm's words.
    private static func label(_ service: IPVSService) -> String {
        var text = service.identity.protocolName.padding(toLength: 4) + " "
        switch service.identity {
        case .fwmark(let mark, let family): text += family == .ipv4 ? "\(mark)" : "\(mark) IPv6"
        default:
            text += service.identity.endpoint.map { IPVSDestinationKey($0.address, port: $0.port).description } ?? ""
        }
        text += " \(service.scheduler)"
        let schedulerFlags = Listing.flagNames(service).filter { $0 != "one-packet" }
        if !schedulerFlags.isEmpty { text += " (\(schedulerFlags.joined(separator: ",")))" }
        if service.flags.contains(.persistent) {
            text += " persistent \(service.persistenceTimeout)"
            if service.netmask != .host(for: service.identity.family) { text += " mask \(service.netmask)" }
        }
        if service.flags.contains(.onePacket) { text += " ops" }
        return text
    }
}

private extension String {
    func padding(toLength length: Int) -> String { self + String(repeating: " ", count: max(0, length - utf8.count)) }
}
