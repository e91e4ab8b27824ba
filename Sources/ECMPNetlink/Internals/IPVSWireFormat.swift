import CNetlink
import ECMPCore
import Glibc

/// How IPVS values travel over generic netlink (include/uapi/linux/ip_vs.h,
/// net/netfilter/ipvs/ip_vs_ctl.c). Byte order is the trap: addresses,
/// ports and an IPv4 netmask are network order; the family, protocol,
/// fwmark, flags, weights, thresholds and an IPv6 netmask (a prefix length)
/// are host order.
enum IPVSWireFormat {
    static let familyName = "IPVS"
    static let familyVersion = UInt8(IPVS_GENL_VERSION)

    // MARK: Writing

    /// A service nest that only identifies the service: enough for lookups,
    /// deletions, dumps and every destination command.
    static func putServiceNest(identifying identity: IPVSServiceIdentity, into message: GenericNetlinkMessage)
        throws(KernelErrno)
    {
        try message.nest(IPVS_CMD_ATTR_SERVICE) { nest throws(KernelErrno) in try putIdentity(identity, into: nest) }
    }

    /// A service nest with everything NEW_SERVICE and SET_SERVICE require:
    /// the kernel refuses either without scheduler, flags, timeout and netmask.
    static func putServiceNest(_ service: IPVSService, into message: GenericNetlinkMessage) throws(KernelErrno) {
        try message.nest(IPVS_CMD_ATTR_SERVICE) { nest throws(KernelErrno) in try putService(service, into: nest) }
    }

    /// A destination nest that only identifies the destination, for DEL_DEST.
    static func putDestinationNest(identifying key: IPVSDestinationKey, into message: GenericNetlinkMessage)
        throws(KernelErrno)
    {
        try message.nest(IPVS_CMD_ATTR_DEST) { nest throws(KernelErrno) in try putKey(key, into: nest) }
    }

    /// A destination nest with everything NEW_DEST and SET_DEST require.
    static func putDestinationNest(_ destination: IPVSDestination, into message: GenericNetlinkMessage)
        throws(KernelErrno)
    {
        try message.nest(IPVS_CMD_ATTR_DEST) { nest throws(KernelErrno) in try putDestination(destination, into: nest) }
    }

    private static func putIdentity(_ identity: IPVSServiceIdentity, into message: GenericNetlinkMessage)
        throws(KernelErrno)
    {
        try message.put(IPVS_SVC_ATTR_AF, u16: addressFamily(identity.family))
        switch identity {
        case .fwmark(let mark, _):
            // The kernel reads a FWMARK attribute as "fwmark service" even when
            // it is 0, then keys the service as TCP 0.0.0.0:0: refuse instead.
            guard mark != 0 else { throw KernelErrno(EINVAL) }
            try message.put(IPVS_SVC_ATTR_FWMARK, u32: mark)
        case .tcp(let address, let port), .udp(let address, let port), .sctp(let address, let port):
            try message.put(IPVS_SVC_ATTR_PROTOCOL, u16: protocolNumber(identity))
            try message.put(IPVS_SVC_ATTR_ADDR, bytes: addressBytes(address))
            try message.put(IPVS_SVC_ATTR_PORT, u16: port.bigEndian)
        }
    }

    private static func putService(_ service: IPVSService, into message: GenericNetlinkMessage) throws(KernelErrno) {
        try putIdentity(service.identity, into: message)
        // An IPv4 mask sent for an IPv6 service would be read as a prefix length.
        guard service.netmask.family == service.identity.family else { throw KernelErrno(EINVAL) }
        try message.put(IPVS_SVC_ATTR_SCHED_NAME, string: service.scheduler)
        // struct ip_vs_flags { flags, mask }: with an all-ones mask the kernel
        // takes the flags as given instead of merging them into the old ones.
        try message.put(
            IPVS_SVC_ATTR_FLAGS, bytes: hostOrderBytes(service.flags.configured.rawValue) + hostOrderBytes(UInt32.max))
        try message.put(IPVS_SVC_ATTR_TIMEOUT, u32: service.persistenceTimeout)
        try message.put(IPVS_SVC_ATTR_NETMASK, u32: netmaskValue(service.netmask))
    }

    private static func putKey(_ key: IPVSDestinationKey, into message: GenericNetlinkMessage) throws(KernelErrno) {
        try message.put(IPVS_DEST_ATTR_ADDR, bytes: addressBytes(key.address))
        try message.put(IPVS_DEST_ATTR_PORT, u16: key.port.bigEndian)
        // Without it the kernel assumes the service's family; sending it lets
        // an IPv6 real server sit behind an IPv4 tunnel service.
        try message.put(IPVS_DEST_ATTR_ADDR_FAMILY, u16: addressFamily(IPVSAddressFamily(of: key.address)))
    }

    private static func putDestination(_ destination: IPVSDestination, into message: GenericNetlinkMessage)
        throws(KernelErrno)
    {
        try putKey(destination.key, into: message)
        try message.put(IPVS_DEST_ATTR_FWD_METHOD, u32: destination.forwarding.rawValue)
        try message.put(IPVS_DEST_ATTR_WEIGHT, u32: UInt32(bitPattern: destination.weight))
        try message.put(IPVS_DEST_ATTR_U_THRESH, u32: destination.upperThreshold)
        try message.put(IPVS_DEST_ATTR_L_THRESH, u32: destination.lowerThreshold)
    }

    static func putTimeouts(_ timeouts: IPVSTimeouts, into message: GenericNetlinkMessage) throws(KernelErrno) {
        try message.put(IPVS_CMD_ATTR_TIMEOUT_TCP, u32: timeouts.tcp)
        try message.put(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, u32: timeouts.tcpFin)
        try message.put(IPVS_CMD_ATTR_TIMEOUT_UDP, u32: timeouts.udp)
    }

    // MARK: Reading

    /// The largest top-level attribute type in any IPVS reply (GET_INFO
    /// replies reuse small numbers from their own enum).
    static let maxReplyAttribute = max(__IPVS_CMD_ATTR_MAX, __IPVS_INFO_ATTR_MAX) - 1

    // The uapi IPVS_*_MAX macros are expressions, which Swift does not import.
    private static let maxServiceAttribute = __IPVS_SVC_ATTR_MAX - 1
    private static let maxDestinationAttribute = __IPVS_DEST_ATTR_MAX - 1
    private static let maxStatsAttribute = __IPVS_STATS_ATTR_MAX - 1

    /// The service in a GET_SERVICE reply or dump message; nil if the kernel
    /// sent something this code cannot read.
    static func service(in reply: GenericNetlinkAttributes) -> IPVSService? {
        guard let attributes = reply.nested(IPVS_CMD_ATTR_SERVICE, maxType: maxServiceAttribute),
            let family = attributes.u16(IPVS_SVC_ATTR_AF).flatMap(family(of:)),
            let scheduler = attributes.string(IPVS_SVC_ATTR_SCHED_NAME),
            let flagBytes = attributes.bytes(IPVS_SVC_ATTR_FLAGS), flagBytes.count >= 4,
            let timeout = attributes.u32(IPVS_SVC_ATTR_TIMEOUT),
            let netmask = attributes.u32(IPVS_SVC_ATTR_NETMASK)
        else { return nil }
        let identity: IPVSServiceIdentity
        if let mark = attributes.u32(IPVS_SVC_ATTR_FWMARK), mark != 0 {
            identity = .fwmark(mark, family: family)
        } else {
            guard let number = attributes.u16(IPVS_SVC_ATTR_PROTOCOL),
                let address = attributes.bytes(IPVS_SVC_ATTR_ADDR).flatMap({ address($0, family: family) }),
                let port = attributes.u16(IPVS_SVC_ATTR_PORT).map(UInt16.init(bigEndian:))
            else { return nil }
            switch Int32(number) {
            case Int32(IPPROTO_TCP): identity = .tcp(address, port: port)
            case Int32(IPPROTO_UDP): identity = .udp(address, port: port)
            case Int32(IPPROTO_SCTP): identity = .sctp(address, port: port)
            default: return nil
            }
        }
        let flags = flagBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        return IPVSService(
            identity, scheduler: scheduler, flags: IPVSServiceFlags(rawValue: flags),
            persistenceTimeout: timeout, netmask: persistenceNetmask(netmask, family: family),
            stats: stats(in: attributes, stats64: IPVS_SVC_ATTR_STATS64, stats32: IPVS_SVC_ATTR_STATS)
        )
    }

    /// The destination in a GET_DEST dump message. Kernels before 3.18 sent
    /// no address family; then the destination has the service's.
    static func destination(in reply: GenericNetlinkAttributes, serviceFamily: IPVSAddressFamily) -> IPVSDestination? {
        guard let attributes = reply.nested(IPVS_CMD_ATTR_DEST, maxType: maxDestinationAttribute) else { return nil }
        let family = attributes.u16(IPVS_DEST_ATTR_ADDR_FAMILY).flatMap(family(of:)) ?? serviceFamily
        guard let address = attributes.bytes(IPVS_DEST_ATTR_ADDR).flatMap({ address($0, family: family) }),
            let port = attributes.u16(IPVS_DEST_ATTR_PORT).map(UInt16.init(bigEndian:)),
            let method = attributes.u32(IPVS_DEST_ATTR_FWD_METHOD),
            let forwarding = IPVSForwardingMethod(rawValue: method & UInt32(IP_VS_CONN_F_FWD_MASK)),
            let weight = attributes.u32(IPVS_DEST_ATTR_WEIGHT),
            let upper = attributes.u32(IPVS_DEST_ATTR_U_THRESH),
            let lower = attributes.u32(IPVS_DEST_ATTR_L_THRESH)
        else { return nil }
        let connections = IPVSConnectionCounts(
            active: attributes.u32(IPVS_DEST_ATTR_ACTIVE_CONNS) ?? 0,
            inactive: attributes.u32(IPVS_DEST_ATTR_INACT_CONNS) ?? 0,
            persistent: attributes.u32(IPVS_DEST_ATTR_PERSIST_CONNS) ?? 0
        )
        return IPVSDestination(
            address, port: port, forwarding: forwarding, weight: Int32(bitPattern: weight),
            upperThreshold: upper, lowerThreshold: lower, connections: connections,
            stats: stats(in: attributes, stats64: IPVS_DEST_ATTR_STATS64, stats32: IPVS_DEST_ATTR_STATS)
        )
    }

    static func info(in reply: GenericNetlinkAttributes) -> IPVSInfo? {
        guard let code = reply.u32(IPVS_INFO_ATTR_VERSION),
            let size = reply.u32(IPVS_INFO_ATTR_CONN_TAB_SIZE)
        else { return nil }
        return IPVSInfo(version: "\(code >> 16 & 0xff).\(code >> 8 & 0xff).\(code & 0xff)", connectionTableSize: size)
    }

    static func timeouts(in reply: GenericNetlinkAttributes) -> IPVSTimeouts? {
        guard let tcp = reply.u32(IPVS_CMD_ATTR_TIMEOUT_TCP), let tcpFin = reply.u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN),
            let udp = reply.u32(IPVS_CMD_ATTR_TIMEOUT_UDP)
        else { return nil }
        return IPVSTimeouts(tcp: tcp, tcpFin: tcpFin, udp: udp)
    }

    // MARK: Pieces

    /// Prefers the 64-bit set (kernel 4.7+); the older one has 32-bit
    /// packet counters that wrap.
    private static func stats(in attributes: GenericNetlinkAttributes, stats64: Int, stats32: Int) -> IPVSStats? {
        guard
            let set = attributes.nested(stats64, maxType: maxStatsAttribute)
                ?? attributes.nested(stats32, maxType: maxStatsAttribute)
        else { return nil }
        func value(_ type: Int) -> UInt64 { set.counter(type) ?? 0 }
        return IPVSStats(
            connections: value(IPVS_STATS_ATTR_CONNS), incomingPackets: value(IPVS_STATS_ATTR_INPKTS),
            outgoingPackets: value(IPVS_STATS_ATTR_OUTPKTS), incomingBytes: value(IPVS_STATS_ATTR_INBYTES),
            outgoingBytes: value(IPVS_STATS_ATTR_OUTBYTES), connectionsPerSecond: value(IPVS_STATS_ATTR_CPS),
            incomingPacketsPerSecond: value(IPVS_STATS_ATTR_INPPS),
            outgoingPacketsPerSecond: value(IPVS_STATS_ATTR_OUTPPS),
            incomingBytesPerSecond: value(IPVS_STATS_ATTR_INBPS), outgoingBytesPerSecond: value(IPVS_STATS_ATTR_OUTBPS)
        )
    }

    private static func addressFamily(_ family: IPVSAddressFamily) -> UInt16 {
        UInt16(family == .ipv4 ? AF_INET : AF_INET6)
    }

    private static func family(of number: UInt16) -> IPVSAddressFamily? {
        switch Int32(number) {
        case AF_INET: return .ipv4
        case AF_INET6: return .ipv6
        default: return nil
        }
    }

    private static func protocolNumber(_ identity: IPVSServiceIdentity) -> UInt16 {
        switch identity {
        case .tcp: return UInt16(IPPROTO_TCP)
        case .udp: return UInt16(IPPROTO_UDP)
        case .sctp: return UInt16(IPPROTO_SCTP)
        case .fwmark: return 0
        }
    }

    /// A `union nf_inet_addr`: 16 bytes, an IPv4 address in the first four.
    private static func addressBytes(_ address: IPAddress) -> [UInt8] {
        switch address {
        case .v4(let v4):
            let o = v4.octets
            return [o.0, o.1, o.2, o.3] + [UInt8](repeating: 0, count: 12)
        case .v6(let v6):
            return v6.bytes
        }
    }

    private static func address(_ bytes: [UInt8], family: IPVSAddressFamily) -> IPAddress? {
        switch family {
        case .ipv4:
            guard bytes.count >= 4 else { return nil }
            return .v4(IPv4Address(bytes[0], bytes[1], bytes[2], bytes[3]))
        case .ipv6:
            guard bytes.count >= 16 else { return nil }
            return .v6(IPv6Address(bytes: Array(bytes[0..<16])))
        }
    }

    private static func netmaskValue(_ netmask: IPVSPersistenceNetmask) -> UInt32 {
        switch netmask {
        case .ipv4(let mask): return mask.value.bigEndian
        case .ipv6(let length): return UInt32(length)
        }
    }

    private static func persistenceNetmask(_ value: UInt32, family: IPVSAddressFamily) -> IPVSPersistenceNetmask {
        switch family {
        case .ipv4: return .ipv4(IPv4Address(UInt32(bigEndian: value)))
        case .ipv6: return .ipv6(prefixLength: UInt8(clamping: value))
        }
    }

    private static func hostOrderBytes(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }
}
