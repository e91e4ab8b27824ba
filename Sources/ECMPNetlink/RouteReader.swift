import ECMPCore
import Glibc

/// Reads the router kernel's route to a VIP over rtnetlink: which nexthops
/// (directors) the kernel spreads the VIP's flows over. Either family: an
/// IPv6 VIP's route (OSPFv3) goes over the directors' link-local addresses,
/// each with its interface.
///
/// A route's nexthops reach userspace in one of two encodings, and both are
/// read: RTA_GATEWAY/RTA_OIF or RTA_MULTIPATH in the route message (parsed
/// by libnl), or, for a route through a nexthop object (`nhid`, as FRR 8
/// installs them) with net.ipv4.nexthop_compat_mode=0 (which governs IPv6
/// routes too), only RTA_NH_ID, resolved with RTM_GETNEXTHOP.
public final class RouteReader {
    /// The kernel's route for a destination, as it forwards with it.
    public struct KernelRoute: Sendable, Equatable {
        /// Where the paths were read from.
        public enum NexthopSource: String, Sendable {
            /// RTA_GATEWAY/RTA_OIF or RTA_MULTIPATH in the route itself
            /// (for a route through a nexthop object: the compatibility
            /// copy the kernel adds with nexthop_compat_mode=1).
            case routeMessage = "route-message"
            /// The nexthop objects the route names (RTM_GETNEXTHOP).
            case nexthopObjects = "nexthop-objects"
        }

        /// The matched route's prefix: the VIP's /32 (/128), or a shorter
        /// prefix that covers it when the kernel has no host route.
        public var prefix: PrefixedAddress
        public var nexthops: RouteNexthops
        public var source: NexthopSource
        /// The nexthop object (`nhid`) the route points at, if any.
        public var nexthopObjectID: UInt32?
        /// `ospf`, `static`, `kernel`, `boot`, or the number.
        public var protocolName: String
        /// `unicast`, `blackhole`, `unreachable`, ...
        public var typeName: String
        public var table: UInt32
        public var metric: UInt32
    }

    private let socket: RouteQuerySocket

    public init() throws(NetlinkError) {
        do {
            socket = try RouteQuerySocket()
        } catch {
            throw NetlinkError(operation: "open rtnetlink socket to", object: "read routes", error)
        }
    }

    /// The route the kernel uses for packets to `address`: the FIB entry a
    /// lookup matches (RTM_F_FIB_MATCH), with every nexthop; nil when no
    /// route matches. Policy routing rules apply as for forwarded packets.
    ///
    /// A lookup rather than a dump of the routing table: one message on a
    /// router with a full table, cheap enough to repeat on every event.
    public func route(to address: IPv4Address) throws(NetlinkError) -> KernelRoute? {
        try route(to: .v4(address))
    }

    /// The route for an address of either family (see `route(to:)` above).
    public func route(to address: IPAddress) throws(NetlinkError) -> KernelRoute? {
        // A nexthop object can vanish between reading the route and reading
        // the object (zebra replaces groups as directors come and go):
        // read the route again then.
        var attempts = 0
        while true {
            attempts += 1
            do {
                return try read(address)
            } catch let error where error.errno == ENOENT && error.failedCall == nil && attempts < 3 {
                continue
            } catch {
                throw NetlinkError(operation: "read", object: "the kernel's route to \(address)", error)
            }
        }
    }

    private func read(_ address: IPAddress) throws(KernelErrno) -> KernelRoute? {
        guard let message = try socket.lookup(address) else { return nil }
        var paths = message.nexthops
        var source = KernelRoute.NexthopSource.routeMessage
        if paths.isEmpty, let id = message.nexthopObjectID {
            paths = try socket.paths(ofNexthopObject: id)
            source = .nexthopObjects
        }
        let nexthops = RouteNexthops(
            paths.map {
                RouteNexthops.Nexthop(gateway: $0.gateway, interface: socket.interfaceName($0.interfaceIndex))
            })
        return KernelRoute(
            prefix: message.prefix, nexthops: nexthops, source: source, nexthopObjectID: message.nexthopObjectID,
            protocolName: message.protocolName, typeName: message.typeName, table: message.table, metric: message.metric
        )
    }
}
