import CNetlink
import ECMPCore

/// An rtnetlink socket and the libnl caches read through it. Every libnl
/// pointer of the rtnetlink side stays in this file.
final class RouteSocket {
    private let socket: OpaquePointer
    private let purpose: String

    struct Link {
        var index: Int
        var name: String
        var isUp: Bool
        var isLoopback: Bool
    }

    struct Address {
        var interfaceIndex: Int
        var address: InterfaceAddress
    }

    init(purpose: String) throws(NetlinkError) {
        socket = try Self.connect(purpose: purpose)
        self.purpose = purpose
    }

    /// A connected NETLINK_ROUTE libnl socket; the caller frees it.
    static func connect(purpose: String) throws(NetlinkError) -> OpaquePointer {
        guard let socket = nl_socket_alloc() else {
            throw NetlinkError(operation: "open rtnetlink socket to", object: purpose, errno: ENOMEM)
        }
        let status = nl_connect(socket, NETLINK_ROUTE)
        guard status == 0 else {
            nl_socket_free(socket)
            throw NetlinkError(operation: "connect rtnetlink socket to", object: purpose, libnlCode: status)
        }
        return socket
    }

    deinit { nl_socket_free(socket) }

    func links() throws(NetlinkError) -> [Link] {
        var cache: OpaquePointer?
        let status = rtnl_link_alloc_cache(socket, AF_UNSPEC, &cache)
        guard status == 0, let cache else { throw NetlinkError(operation: "dump", object: "links", libnlCode: status) }
        defer { nl_cache_free(cache) }
        var result: [Link] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            let link = current
            let flags = rtnl_link_get_flags(link)
            result.append(
                Link(
                    index: Int(rtnl_link_get_ifindex(link)),
                    name: rtnl_link_get_name(link).map { String(cString: $0) } ?? "",
                    isUp: flags & UInt32(IFF_UP.rawValue) != 0,
                    isLoopback: flags & UInt32(IFF_LOOPBACK.rawValue) != 0
                ))
            object = nl_cache_get_next(current)
        }
        return result.sorted { $0.index < $1.index }
    }

    func ipv4Addresses() throws(NetlinkError) -> [Address] {
        try dumpAddresses().compactMap { entry in
            guard case .v4(let address) = entry.address else { return nil }
            return Address(
                interfaceIndex: entry.interfaceIndex,
                address: InterfaceAddress(
                    network: IPv4Network(address: address, prefixLength: entry.prefixLength),
                    label: entry.label, isSecondary: entry.flags & UInt32(IFA_F_SECONDARY) != 0))
        }
    }

    /// Every IPv6 address with its prefix length and the flags that say
    /// whether it is usable yet (tentative, deprecated, DAD failed).
    func ipv6Addresses() throws(NetlinkError) -> [(interfaceIndex: Int, address: IPv6InterfaceAddress)] {
        try dumpAddresses().compactMap { entry in
            guard case .v6(let address) = entry.address else { return nil }
            let flags = entry.flags
            return (
                entry.interfaceIndex,
                IPv6InterfaceAddress(
                    network: IPv6Network(address: address, prefixLength: entry.prefixLength),
                    isTentative: flags & UInt32(IFA_F_TENTATIVE) != 0,
                    isDeprecated: flags & UInt32(IFA_F_DEPRECATED) != 0,
                    isDuplicate: flags & UInt32(IFA_F_DADFAILED) != 0)
            )
        }
    }

    /// One dump of both families' addresses (libnl reads IFA_FLAGS, the
    /// 32-bit flags, when the kernel sends them).
    private func dumpAddresses() throws(NetlinkError) -> [(
        interfaceIndex: Int, address: IPAddress, prefixLength: Int, label: String?, flags: UInt32
    )] {
        var cache: OpaquePointer?
        let status = rtnl_addr_alloc_cache(socket, &cache)
        guard status == 0, let cache else {
            throw NetlinkError(operation: "dump", object: "addresses", libnlCode: status)
        }
        defer { nl_cache_free(cache) }
        var result: [(interfaceIndex: Int, address: IPAddress, prefixLength: Int, label: String?, flags: UInt32)] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            let entry = current
            if let local = rtnl_addr_get_local(entry), let address = Self.ipAddress(local) {
                result.append(
                    (
                        Int(rtnl_addr_get_ifindex(entry)), address, Int(rtnl_addr_get_prefixlen(entry)),
                        rtnl_addr_get_label(entry).map { String(cString: $0) }, rtnl_addr_get_flags(entry)
                    ))
            }
            object = nl_cache_get_next(current)
        }
        return result
    }

    /// The main table's IPv4 default route with the lowest metric; for a
    /// multipath default, its first nexthop.
    func ipv4DefaultRoute() throws(NetlinkError) -> DefaultRoute? {
        var cache: OpaquePointer?
        let status = rtnl_route_alloc_cache(socket, AF_INET, 0, &cache)
        guard status == 0, let cache else {
            throw NetlinkError(operation: "dump", object: "IPv4 routes", libnlCode: status)
        }
        defer { nl_cache_free(cache) }
        var best: (metric: UInt32, route: DefaultRoute)?
        var object = nl_cache_get_first(cache)
        while let current = object {
            defer { object = nl_cache_get_next(current) }
            let route = current
            guard rtnl_route_get_table(route) == UInt32(RT_TABLE_MAIN.rawValue),
                let destination = rtnl_route_get_dst(route), nl_addr_get_prefixlen(destination) == 0,
                rtnl_route_get_nnexthops(route) > 0, let nexthop = rtnl_route_nexthop_n(route, 0)
            else { continue }
            let metric = rtnl_route_get_priority(route)
            let gateway = rtnl_route_nh_get_gateway(nexthop).flatMap(Self.ipv4)
            let candidate = DefaultRoute(interfaceIndex: Int(rtnl_route_nh_get_ifindex(nexthop)), gateway: gateway)
            if best == nil || metric < best!.metric { best = (metric, candidate) }
        }
        return best?.route
    }

    static func ipAddress(_ address: OpaquePointer) -> IPAddress? {
        if let v4 = ipv4(address) { return .v4(v4) }
        guard nl_addr_get_family(address) == AF_INET6, nl_addr_get_len(address) == 16,
            let bytes = nl_addr_get_binary_addr(address)
        else { return nil }
        let p = bytes.assumingMemoryBound(to: UInt8.self)
        return .v6(IPv6Address(bytes: (0..<16).map { p[$0] }))
    }

    static func ipv4(_ address: OpaquePointer) -> IPv4Address? {
        guard nl_addr_get_family(address) == AF_INET, nl_addr_get_len(address) == 4,
            let bytes = nl_addr_get_binary_addr(address)
        else { return nil }
        let p = bytes.assumingMemoryBound(to: UInt8.self)
        return IPv4Address(p[0], p[1], p[2], p[3])
    }
}
