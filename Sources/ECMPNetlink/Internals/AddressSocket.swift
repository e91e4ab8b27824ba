import CNetlink
import ECMPCore

/// An rtnetlink socket that adds and deletes IPv4 and IPv6 addresses through
/// libnl-route. Every libnl pointer of address changes stays in this file.
/// `rtnl_addr_add`/`rtnl_addr_delete` wait for the kernel's ACK
/// (`nl_send_sync`), so no ACK is left queued for a later request.
final class AddressSocket {
    private let socket: OpaquePointer

    init(purpose: String) throws(NetlinkError) {
        socket = try RouteSocket.connect(purpose: purpose)
    }

    deinit { nl_socket_free(socket) }

    /// Adds `address/prefixLength` with scope global; NLM_F_REPLACE makes
    /// adding an address that is already there a success that changes
    /// nothing but its lifetimes (no RTM_DELADDR, no flap). An IPv6
    /// address is added with IFA_F_NODAD: without it the kernel holds it
    /// tentative (unusable as a source, and ospf6d does not announce it)
    /// until duplicate address detection ends, and on lo there is no link
    /// to detect a duplicate on.
    func add(_ address: IPAddress, prefixLength: Int, interfaceIndex: Int, label: String?, describedAs object: String)
        throws(NetlinkError)
    {
        let request = try template(
            address, prefixLength: prefixLength, interfaceIndex: interfaceIndex, object: object, operation: "add")
        defer { rtnl_addr_put(request) }
        if let label {
            let status = rtnl_addr_set_label(request, label)
            guard status == 0 else { throw NetlinkError(operation: "add", object: object, libnlCode: status) }
        }
        rtnl_addr_set_scope(request, Int32(RT_SCOPE_UNIVERSE.rawValue))
        if address.ipv6 != nil { rtnl_addr_set_flags(request, UInt32(IFA_F_NODAD)) }
        let status = rtnl_addr_add(socket, request, NLM_F_REPLACE)
        guard status == 0 else { throw NetlinkError(operation: "add", object: object, libnlCode: status) }
    }

    /// Deletes exactly `address/prefixLength` on the interface: the kernel
    /// matches the local address and prefix length, so the same address
    /// under another prefix is never hit. No label is sent, so an adopted
    /// address without ecmpd's label is deleted too. Returns false when
    /// the address was not there.
    func delete(_ address: IPAddress, prefixLength: Int, interfaceIndex: Int, describedAs object: String)
        throws(NetlinkError) -> Bool
    {
        let request = try template(
            address, prefixLength: prefixLength, interfaceIndex: interfaceIndex, object: object, operation: "remove")
        defer { rtnl_addr_put(request) }
        let status = rtnl_addr_delete(socket, request, 0)
        if status == 0 { return true }
        // The kernel answers EADDRNOTAVAIL for an address that is not there.
        if abs(status) == NLE_NOADDR || abs(status) == NLE_OBJ_NOTFOUND { return false }
        throw NetlinkError(operation: "remove", object: object, libnlCode: status)
    }

    private func template(
        _ address: IPAddress, prefixLength: Int, interfaceIndex: Int, object: String, operation: String
    ) throws(NetlinkError) -> OpaquePointer {
        guard let request = rtnl_addr_alloc() else {
            throw NetlinkError(operation: operation, object: object, errno: ENOMEM)
        }
        let family: Int32
        let bytes: [UInt8]
        switch address {
        case .v4(let v4):
            family = AF_INET
            bytes = withUnsafeBytes(of: v4.value.bigEndian) { Array($0) }
        case .v6(let v6):
            family = AF_INET6
            bytes = v6.bytes
        }
        guard let local = bytes.withUnsafeBytes({ nl_addr_build(family, $0.baseAddress, $0.count) }) else {
            rtnl_addr_put(request)
            throw NetlinkError(operation: operation, object: object, errno: ENOMEM)
        }
        defer { nl_addr_put(local) }
        nl_addr_set_prefixlen(local, Int32(prefixLength))
        rtnl_addr_set_family(request, family)
        rtnl_addr_set_ifindex(request, Int32(interfaceIndex))
        let status = rtnl_addr_set_local(request, local)
        guard status == 0 else {
            rtnl_addr_put(request)
            throw NetlinkError(operation: operation, object: object, libnlCode: status)
        }
        rtnl_addr_set_prefixlen(request, Int32(prefixLength))
        return request
    }
}
