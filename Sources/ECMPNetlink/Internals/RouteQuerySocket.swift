import CNetlink
import ECMPCore
import Glibc

/// An rtnetlink socket for the requests libnl-route has no call for: a
/// route lookup (RTM_GETROUTE with RTM_F_FIB_MATCH) and nexthop objects
/// (RTM_GETNEXTHOP, `NexthopObjects.swift`). Messages are built and read
/// with libnl's raw message functions; every pointer stays in Internals.
///
/// The exchange itself (replies kept in step with requests, the kernel's
/// own errno) is `NetlinkRequestSocket`'s, shared with IPVS.
final class RouteQuerySocket {
    private let requests: NetlinkRequestSocket

    init() throws(KernelErrno) {
        requests = try NetlinkRequestSocket(protocol: NETLINK_ROUTE)
    }

    /// A route as the kernel's RTM_NEWROUTE reply describes it, before the
    /// nexthop objects it names are resolved.
    struct RouteMessage {
        var prefix: PrefixedAddress
        var protocolName: String
        var typeName: String
        var table: UInt32
        var metric: UInt32
        /// From RTA_GATEWAY/RTA_OIF or RTA_MULTIPATH, as libnl parsed them.
        var nexthops: [(gateway: IPAddress?, interfaceIndex: Int)]
        /// RTA_NH_ID, which libnl 3.7 does not parse.
        var nexthopObjectID: UInt32?
    }

    /// The FIB entry the kernel matches for packets to `address`, as
    /// configured (all its nexthops, not the one a flow hash would pick:
    /// that is what RTM_F_FIB_MATCH asks for). Nil when nothing matches.
    /// Either family: an IPv6 lookup asks the IPv6 FIB (AF_INET6, /128).
    func lookup(_ address: IPAddress) throws(KernelErrno) -> RouteMessage? {
        var header = rtmsg()
        header.rtm_family = UInt8(Self.family(of: address))
        header.rtm_dst_len = UInt8(address.hostPrefixLength)
        header.rtm_flags = UInt32(RTM_F_FIB_MATCH)
        let destination = Self.networkOrder(address)
        var result: RouteMessage?
        var unreadable = false
        do {
            try exchange(
                type: Int32(RTM_GETROUTE), header: header,
                attributes: { message in
                    destination.withUnsafeBytes {
                        nla_put(message, Int32(RTA_DST.rawValue), Int32($0.count), $0.baseAddress)
                    }
                },
                onReply: { reply in
                    guard reply.pointee.nlmsg_type == UInt16(RTM_NEWROUTE) else { return }
                    if let parsed = Self.routeMessage(reply, family: Self.family(of: address)) {
                        result = parsed
                    } else {
                        unreadable = true
                    }
                })
        } catch let error where error.errno == ENETUNREACH {
            return nil
        } catch let error where [EINVAL, EHOSTUNREACH, EACCES].contains(error.errno) {
            // The match drops packets (blackhole: EINVAL, unreachable:
            // EHOSTUNREACH, prohibit: EACCES), and the kernel answers a
            // lookup with that route's error instead of the route.
            return try longestMatchInMainTable(address)
        }
        if unreadable { throw KernelErrno(EPROTO) }
        return result
    }

    /// The main table's most specific route containing `address` (lowest
    /// metric among equals), from a dump: the fallback for routes a lookup
    /// cannot return. Policy rules are not consulted here.
    private func longestMatchInMainTable(_ address: IPAddress) throws(KernelErrno) -> RouteMessage? {
        var header = rtmsg()
        header.rtm_family = UInt8(Self.family(of: address))
        var best: RouteMessage?
        try exchange(
            type: Int32(RTM_GETROUTE), flags: NLM_F_DUMP, header: header,
            onReply: { reply in
                guard reply.pointee.nlmsg_type == UInt16(RTM_NEWROUTE),
                    let route = Self.routeMessage(reply, family: Self.family(of: address)),
                    route.table == UInt32(RT_TABLE_MAIN.rawValue), Self.prefix(route.prefix, contains: address)
                else { return }
                if let current = best,
                    (current.prefix.prefixLength, -Int64(current.metric)) >= (
                        route.prefix.prefixLength, -Int64(route.metric)
                    )
                {
                    return
                }
                best = route
            })
        return best
    }

    /// Sends one request of `type` with the fixed header `header` and the
    /// attributes `attributes` puts, hands each reply to `onReply` while the
    /// reply is being read, and returns once the kernel ended the exchange.
    /// The kernel's own errno is thrown, not libnl's folded NLE_* code.
    func exchange<Header>(
        type: Int32, flags: Int32 = 0, header: Header,
        attributes: (OpaquePointer) -> Int32 = { _ in 0 },
        onReply: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) throws(KernelErrno) {
        guard let message = nlmsg_alloc_simple(type, flags) else { throw KernelErrno(ENOMEM) }
        defer { nlmsg_free(message) }
        var fixed = header
        let appended = withUnsafeMutableBytes(of: &fixed) {
            nlmsg_append(message, $0.baseAddress, $0.count, Int32(NLMSG_ALIGNTO))
        }
        guard appended >= 0, attributes(message) >= 0 else { throw KernelErrno(EMSGSIZE) }
        try requests.exchange(message, onReply: onReply)
    }

    /// The interface's name for a nexthop, or "" when it is gone.
    func interfaceName(_ index: Int) -> String {
        guard index > 0 else { return "" }
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        return buffer.withUnsafeMutableBufferPointer { pointer -> String in
            guard if_indextoname(UInt32(index), pointer.baseAddress!) != nil else { return "" }
            return String(cString: pointer.baseAddress!)
        }
    }

    static func family(of address: IPAddress) -> Int32 { address.ipv4 == nil ? AF_INET6 : AF_INET }

    static func networkOrder(_ address: IPAddress) -> [UInt8] {
        switch address {
        case .v4(let v4):
            let o = v4.octets
            return [o.0, o.1, o.2, o.3]
        case .v6(let v6): return v6.bytes
        }
    }

    /// An address attribute's payload: 4 bytes are IPv4, 16 are IPv6.
    static func ipAddress(bytes pointer: UnsafeRawPointer, count: Int) -> IPAddress? {
        let p = pointer.assumingMemoryBound(to: UInt8.self)
        switch count {
        case 4: return .v4(IPv4Address(p[0], p[1], p[2], p[3]))
        case 16: return .v6(IPv6Address(bytes: (0..<16).map { p[$0] }))
        default: return nil
        }
    }

    /// Whether `prefix` covers `address` (same family).
    static func prefix(_ prefix: PrefixedAddress, contains address: IPAddress) -> Bool {
        switch (prefix.address, address) {
        case (.v4(let network), .v4(let host)):
            return IPv4Network(address: network, prefixLength: prefix.prefixLength).contains(host)
        case (.v6(let network), .v6(let host)):
            return IPv6Network(address: network, prefixLength: prefix.prefixLength).contains(host)
        default: return false
        }
    }

    /// Reads an RTM_NEWROUTE of `family` with libnl's parser, plus
    /// RTA_NH_ID by hand.
    static func routeMessage(_ header: UnsafeMutablePointer<nlmsghdr>, family: Int32) -> RouteMessage? {
        var parsed: OpaquePointer?
        guard rtnl_route_parse(header, &parsed) >= 0, let route = parsed else { return nil }
        defer { rtnl_route_put(route) }
        guard rtnl_route_get_family(route) == UInt8(family), let destination = rtnl_route_get_dst(route) else {
            return nil
        }
        let length = Int(nl_addr_get_prefixlen(destination))
        // A default route's destination has no bytes at all.
        let address =
            RouteSocket.ipAddress(destination)
            ?? (family == AF_INET6 ? .v6(IPv6Address(bytes: [UInt8](repeating: 0, count: 16))) : .v4(IPv4Address(0)))
        var nexthops: [(gateway: IPAddress?, interfaceIndex: Int)] = []
        // Only a unicast route forwards: the compatibility copy of a route
        // through a blackhole nexthop object names `lo` as its device.
        let forwards = rtnl_route_get_type(route) == UInt8(RTN_UNICAST)
        for index in 0..<(forwards ? rtnl_route_get_nnexthops(route) : 0) {
            guard let nexthop = rtnl_route_nexthop_n(route, index) else { continue }
            nexthops.append(
                (
                    rtnl_route_nh_get_gateway(nexthop).flatMap(RouteSocket.ipAddress),
                    Int(rtnl_route_nh_get_ifindex(nexthop))
                ))
        }
        var nexthopObjectID: UInt32?
        if let attribute = nlmsg_find_attr(header, Int32(MemoryLayout<rtmsg>.size), Int32(RTA_NH_ID.rawValue)),
            nla_len(attribute) == 4
        {
            nexthopObjectID = nla_get_u32(attribute)
        }
        var text = [CChar](repeating: 0, count: 64)
        let protocolName =
            protocolNames[Int32(rtnl_route_get_protocol(route))]
            ?? String(cString: rtnl_route_proto2str(Int32(rtnl_route_get_protocol(route)), &text, text.count))
        let typeName = String(cString: nl_rtntype2str(Int32(rtnl_route_get_type(route)), &text, text.count))
        return RouteMessage(
            prefix: PrefixedAddress(address: address, prefixLength: length), protocolName: protocolName,
            typeName: typeName,
            table: rtnl_route_get_table(route), metric: rtnl_route_get_priority(route),
            nexthops: nexthops, nexthopObjectID: nexthopObjectID
        )
    }

    /// The kernel's own protocol numbers (<linux/rtnetlink.h>) under the
    /// names `ip route` prints. Debian's libnl 3.7 names only a few
    /// (measured: FRR's OSPF routes, 188, come out as `0xbc`); its answer is
    /// kept for numbers not listed here.
    private static let protocolNames: [Int32: String] = [
        RTPROT_REDIRECT: "redirect", RTPROT_KERNEL: "kernel", RTPROT_BOOT: "boot", RTPROT_STATIC: "static",
        RTPROT_RA: "ra", RTPROT_ZEBRA: "zebra", RTPROT_BIRD: "bird", RTPROT_DHCP: "dhcp",
        RTPROT_KEEPALIVED: "keepalived", RTPROT_BABEL: "babel", RTPROT_OPENR: "openr", RTPROT_BGP: "bgp",
        RTPROT_ISIS: "isis", RTPROT_OSPF: "ospf", RTPROT_RIP: "rip", RTPROT_EIGRP: "eigrp",
    ]
}
