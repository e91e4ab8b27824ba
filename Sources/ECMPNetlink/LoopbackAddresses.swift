import CNetlink
import ECMPCore

/// The IPv4 addresses on the loopback interface, where each announced VIP
/// lives as a /32 (ospfd advertises it as a stub; IPVS handles packets only
/// for local addresses). Read and changed over rtnetlink, never with `ip`.
///
/// Which addresses ecmpd may change is decided elsewhere
/// (`AddressOwnership`); this type only does what it is told, exactly:
/// `remove` deletes the /32 and never the same address under another prefix.
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
    public func addresses() throws(NetlinkError) -> [InterfaceAddress] {
        try reader.ipv4Addresses().filter { $0.interfaceIndex == interfaceIndex }.map(\.address)
    }

    /// The /32s on lo.
    public func hostAddresses() throws(NetlinkError) -> Set<IPv4Address> {
        Set(try addresses().filter { $0.network.prefixLength == 32 }.map(\.address))
    }

    /// Adds `vip/32` (scope global, ecmpd's label) to lo. Adding one that is
    /// there already succeeds and leaves it in place.
    public func add(_ vip: IPv4Address) throws(NetlinkError) {
        try writer.add(
            vip, prefixLength: 32, interfaceIndex: interfaceIndex, label: Self.label(for: interfaceName),
            describedAs: "\(vip)/32 to \(interfaceName)")
    }

    /// Removes `vip/32` from lo. Returns false when it was not there.
    @discardableResult
    public func remove(_ vip: IPv4Address) throws(NetlinkError) -> Bool {
        try writer.delete(
            vip, prefixLength: 32, interfaceIndex: interfaceIndex, describedAs: "\(vip)/32 from \(interfaceName)")
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
