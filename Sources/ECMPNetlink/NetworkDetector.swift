import CNetlink
import ECMPCore

/// Reads links, IPv4 and IPv6 addresses and the IPv4 default route from the kernel
/// over rtnetlink (libnl-route), never by parsing `ip` or `ifconfig` text.
/// One dump per call: a consistent snapshot for the planner.
public enum NetworkDetector {
    public static func snapshot() throws(NetlinkError) -> NetworkSnapshot {
        let socket = try RouteSocket(purpose: "read the network state")
        let links = try socket.links()
        let addresses = try socket.ipv4Addresses()
        let ipv6 = try socket.ipv6Addresses()
        let route = try socket.ipv4DefaultRoute()
        let interfaces = links.map { link in
            NetworkInterface(
                index: link.index, name: link.name, isUp: link.isUp, isLoopback: link.isLoopback,
                addresses: addresses.filter { $0.interfaceIndex == link.index }.map(\.address),
                ipv6Addresses: ipv6.filter { $0.interfaceIndex == link.index }.map(\.address)
            )
        }
        return NetworkSnapshot(interfaces: interfaces, defaultRoute: route)
    }
}
