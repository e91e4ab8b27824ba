import CNetlink
import ECMPCore

/// The addresses on the loopback interface, where each announced VIP lives
/// as a /32 or, for IPv6, a /128 (ospfd and ospf6d advertise it; IPVS
/// handles packets only for local addresses). Read and changed over
/// rtnetlink, never with `ip`.
///
/// Which addresses ecmpd may change is decided elsewhere
/// (`AddressOwnership`); this type only does what it is told, exactly:
/// `remove` deletes the host address and never the same address under
/// another prefix.
///
/// A /32 on lo is always a primary address, which ospfd needs (it skips
/// addresses the kernel marks secondary): the kernel (devinet.c,
/// `__inet_insert_ifa`) marks a new address secondary only when an existing
/// one has the same mask and the same subnet, and no other /32 shares a
/// /32's subnet — 127.0.0.1/8 has a different mask.
public final class LoopbackAddresses {
    private let reader: RouteSocket
    private let writer: AddressSocket
    public let interfaceIndex: Int
    public let interfaceName: String

    public init() throws(NetlinkError) {
        reader = try RouteSocket(purpose: "read the loopback addresses")
        writer = try AddressSocket(purpose: "change the loopback addresses")
        guard let loopback = try reader.links().first(where: \.isLoopback) else {
            throw NetlinkError(operation: "find", object: "the loopback interface", errno: ENODEV)
        }
        interfaceIndex = loopback.index
        interfaceName = loopback.name
    }

    /// Every IPv4 address on lo, with prefix length, label and secondary flag.
    public func ipv4Addresses() throws(NetlinkError) -> [InterfaceAddress] {
        try reader.ipv4Addresses().filter { $0.interfaceIndex == interfaceIndex }.map(\.address)
    }

    /// Every address of both families on lo, with its prefix length: what
    /// `AddressOwnership` decides from.
    public func addresses() throws(NetlinkError) -> [PrefixedAddress] {
        let ipv6 = try reader.ipv6Addresses().filter { $0.interfaceIndex == interfaceIndex }.map {
            PrefixedAddress(address: .v6($0.address.address), prefixLength: $0.address.network.prefixLength)
        }
        return try ipv4Addresses().map(PrefixedAddress.init) + ipv6
    }

    /// Adds the VIP as a host address (/32, or /128 with IFA_F_NODAD so it
    /// is usable at once) with scope global, and for IPv4 ecmpd's label (IPv6
    /// addresses have no labels). Adding one that is there already succeeds
    /// and leaves it in place.
    public func add(_ vip: IPAddress) throws(NetlinkError) {
        let host = PrefixedAddress.host(vip)
        try writer.add(
            vip, prefixLength: host.prefixLength, interfaceIndex: interfaceIndex,
            label: vip.ipv4 == nil ? nil : Self.label(for: interfaceName), describedAs: "\(host) to \(interfaceName)")
    }

    /// Removes the VIP's host address from lo. Returns false when it was not there.
    @discardableResult
    public func remove(_ vip: IPAddress) throws(NetlinkError) -> Bool {
        let host = PrefixedAddress.host(vip)
        return try writer.delete(
            vip, prefixLength: host.prefixLength, interfaceIndex: interfaceIndex,
            describedAs: "\(host) from \(interfaceName)")
    }

    /// The label ecmpd's addresses carry (`lo:ecmpd`), so
    /// `ip -4 addr show label lo:ecmpd` lists them. Ownership never rests on
    /// it: an adopted VIP keeps the label it came with, and other programs
    /// could use the same one. Labels start with the interface's name
    /// (iproute2 insists) and fit IFNAMSIZ.
    public static func label(for interface: String) -> String? {
        let text = "\(interface):ecmpd"
        return text.utf8.count < 16 ? text : nil
    }
}
