import ECMPCore

/// Tables the kernel-tier tests program: together they cover every kind of
/// service and destination ecmpd can express.
enum SampleTables {
    static func ip(_ text: String) -> IPAddress { IPAddress(text)! }

    /// TCP/UDP/SCTP/fwmark, IPv4 and IPv6, rr/wrr/sh/mh with scheduler flags,
    /// persistence with netmasks, one-packet scheduling, DR/NAT/tunnel,
    /// thresholds, weight 0, and an IPv6 real server behind an IPv4 tunnel.
    static let everyKind = IPVSTable([
        .init(
            IPVSService(.tcp(ip("198.18.0.1"), port: 80), scheduler: "mh", flags: [.mhFallback, .mhPort]),
            destinations: [
                IPVSDestination(ip("198.18.1.1"), port: 80, forwarding: .directRoute, weight: 1),
                IPVSDestination(
                    ip("198.18.1.2"), port: 80, forwarding: .directRoute, weight: 2, upperThreshold: 100,
                    lowerThreshold: 10),
                IPVSDestination(ip("198.18.1.3"), port: 80, forwarding: .directRoute, weight: 0),
            ]),
        .init(
            IPVSService(
                .udp(ip("198.18.0.1"), port: 53), scheduler: "wrr", flags: [.persistent, .onePacket],
                persistenceTimeout: 60, netmask: .ipv4(IPv4Address(255, 255, 255, 0))),
            destinations: [
                IPVSDestination(ip("198.18.1.4"), port: 5353, forwarding: .masquerade, weight: 3),
                IPVSDestination(ip("198.18.1.5"), port: 53, forwarding: .tunnel, weight: 1),
            ]),
        .init(
            IPVSService(.sctp(ip("198.18.0.2"), port: 9), scheduler: "rr"),
            destinations: [
                IPVSDestination(ip("198.18.1.6"), port: 9, forwarding: .directRoute, weight: 1)
            ]),
        .init(
            IPVSService(.fwmark(7, family: .ipv4), scheduler: "rr", flags: .persistent, persistenceTimeout: 300),
            destinations: [
                IPVSDestination(ip("198.18.1.7"), port: 0, forwarding: .directRoute, weight: 4)
            ]),
        .init(
            IPVSService(.fwmark(8, family: .ipv6), scheduler: "sh", flags: [.shPort]),
            destinations: [
                IPVSDestination(ip("2001:db8::10"), port: 0, forwarding: .directRoute, weight: 1)
            ]),
        .init(
            IPVSService(
                .tcp(ip("2001:db8::1"), port: 443), scheduler: "rr", flags: .persistent,
                persistenceTimeout: 120, netmask: .ipv6(prefixLength: 64)),
            destinations: [
                IPVSDestination(ip("2001:db8::11"), port: 443, forwarding: .directRoute, weight: 1),
                IPVSDestination(ip("2001:db8::12"), port: 8443, forwarding: .masquerade, weight: 5, upperThreshold: 50),
            ]),
        .init(IPVSService(.udp(ip("2001:db8::1"), port: 53), scheduler: "wlc")),
        .init(
            IPVSService(.tcp(ip("198.18.0.3"), port: 80), scheduler: "rr"),
            destinations: [
                IPVSDestination(ip("2001:db8::20"), port: 80, forwarding: .tunnel, weight: 1)
            ]),
    ])

    /// The same table without thresholds, which `ipvsadm -Sn` does not print.
    static func withoutThresholds(_ table: IPVSTable) -> IPVSTable {
        IPVSTable(
            table.entries.map { entry in
                IPVSTable.Entry(
                    entry.service,
                    destinations: entry.destinations.map {
                        var copy = $0
                        copy.upperThreshold = 0
                        copy.lowerThreshold = 0
                        return copy
                    })
            })
    }
}
