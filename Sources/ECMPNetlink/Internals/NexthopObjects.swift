import CNetlink
import ECMPCore

/// A kernel nexthop object (`ip nexthop`, Linux 5.3+), as RTM_GETNEXTHOP
/// returns it. FRR 8 installs every route through these (`nhid N`); with
/// net.ipv4.nexthop_compat_mode=0 the route message then carries only
/// RTA_NH_ID, and the paths must be read from the objects. libnl 3.7 has
/// no API for them, so the request and the reply are handled here with
/// its raw message functions and <linux/nexthop.h>.
struct NexthopObject {
    enum Kind {
        /// One path: a gateway (nil for a device-only nexthop) on an interface.
        case path(gateway: IPAddress?, interfaceIndex: Int)
        /// A multipath group of other objects' ids (the kernel allows no
        /// nested groups, so members are always paths or blackholes).
        case group([UInt32])
        /// Drops packets; contributes no path.
        case blackhole
    }

    var id: UInt32
    var kind: Kind
}

extension RouteQuerySocket {
    /// The nexthop object `id`.
    func nexthopObject(id: UInt32) throws(KernelErrno) -> NexthopObject {
        var header = nhmsg()
        header.nh_family = UInt8(AF_UNSPEC)
        var result: NexthopObject?
        var unreadable = false
        try exchange(
            type: Int32(RTM_GETNEXTHOP), header: header,
            attributes: { message in
                nla_put_u32(message, Int32(NHA_ID), id)
            },
            onReply: { reply in
                guard reply.pointee.nlmsg_type == UInt16(RTM_NEWNEXTHOP) else { return }
                if let object = Self.nexthopObject(reply) { result = object } else { unreadable = true }
            })
        guard !unreadable, let result else { throw KernelErrno(EPROTO) }
        return result
    }

    /// The paths behind the nexthop object a route names: the object itself,
    /// or each member of its group. Blackhole members contribute nothing.
    func paths(ofNexthopObject id: UInt32) throws(KernelErrno) -> [(gateway: IPAddress?, interfaceIndex: Int)] {
        let object = try nexthopObject(id: id)
        switch object.kind {
        case .path(let gateway, let interfaceIndex):
            return [(gateway, interfaceIndex)]
        case .blackhole:
            return []
        case .group(let members):
            var paths: [(gateway: IPAddress?, interfaceIndex: Int)] = []
            for member in members {
                if case .path(let gateway, let interfaceIndex) = try nexthopObject(id: member).kind {
                    paths.append((gateway, interfaceIndex))
                }
            }
            return paths
        }
    }

    /// Reads an RTM_NEWNEXTHOP: struct nhmsg, then NHA_ID and either
    /// NHA_GROUP (an array of struct nexthop_grp), NHA_BLACKHOLE, or
    /// NHA_OIF with an optional NHA_GATEWAY (4 bytes for IPv4, 16 for IPv6:
    /// an OSPFv3 path's link-local gateway, which NHA_OIF qualifies).
    static func nexthopObject(_ header: UnsafeMutablePointer<nlmsghdr>) -> NexthopObject? {
        // NHA_MAX is a macro over the enum's end; Swift sees only the enum.
        let maxType = __NHA_MAX - 1
        var attributes = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: maxType + 1)
        let status = attributes.withUnsafeMutableBufferPointer {
            nlmsg_parse(header, Int32(MemoryLayout<nhmsg>.size), $0.baseAddress, Int32(maxType), nil)
        }
        guard status >= 0, let idAttribute = attributes[NHA_ID] else { return nil }
        let id = nla_get_u32(idAttribute)
        if let group = attributes[NHA_GROUP] {
            let count = Int(nla_len(group)) / MemoryLayout<nexthop_grp>.size
            guard let data = nla_data(group) else { return nil }
            let entries = UnsafeBufferPointer(start: data.assumingMemoryBound(to: nexthop_grp.self), count: count)
            return NexthopObject(id: id, kind: .group(entries.map(\.id)))
        }
        if attributes[NHA_BLACKHOLE] != nil {
            return NexthopObject(id: id, kind: .blackhole)
        }
        let interfaceIndex = attributes[NHA_OIF].map { Int(nla_get_u32($0)) } ?? 0
        var gateway: IPAddress?
        if let attribute = attributes[NHA_GATEWAY] {
            guard let data = nla_data(attribute), let address = ipAddress(bytes: data, count: Int(nla_len(attribute)))
            else {
                return nil
            }
            gateway = address
        }
        return NexthopObject(id: id, kind: .path(gateway: gateway, interfaceIndex: interfaceIndex))
    }
}
