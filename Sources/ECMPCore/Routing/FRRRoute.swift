#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One of FRR's entries for a prefix, as `show ip route A.B.C.D/M json`
/// (IPv4) or `show ipv6 route X:X::X:X/M json` (IPv6) prints it: one entry
/// per protocol that knows the prefix (ospf, ospf6, kernel, connected, ...),
/// of which at most one is selected and installed. Both families print the
/// same fields; an IPv6 entry's nexthops are link-local gateways with
/// their interface (OSPFv3).
public struct FRRRoute: Sendable, Equatable {
    public var prefix: PrefixedAddress
    /// `ospf`, `ospf6`, `kernel`, `connected`, `static`, ...
    public var protocolName: String
    /// zebra chose this entry for the prefix.
    public var isSelected: Bool
    /// zebra installed this entry into the kernel.
    public var isInstalled: Bool
    /// The nexthops zebra marks as in the kernel's FIB (`fib: true`).
    /// Meaningful only on the installed entry: FRR 8.4 keeps `fib: true` on
    /// the nexthops of an entry that lost the selection and was removed
    /// from the kernel (measured: an ospf entry under a kernel route with a
    /// lower metric).
    public var fibNexthops: RouteNexthops
    /// The nexthops zebra considers usable (`active: true`).
    public var activeNexthops: RouteNexthops

    public init(
        prefix: PrefixedAddress, protocolName: String, isSelected: Bool, isInstalled: Bool,
        fibNexthops: RouteNexthops, activeNexthops: RouteNexthops
    ) {
        self.prefix = prefix
        self.protocolName = protocolName
        self.isSelected = isSelected
        self.isInstalled = isInstalled
        self.fibNexthops = fibNexthops
        self.activeNexthops = activeNexthops
    }

    /// FRR's output that is not the JSON `show ip[v6] route PFX json` prints.
    public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { "FRR's route JSON could not be read: \(reason)" }
    }

    /// The command that prints `prefix`'s entries: `show ip route PFX json`
    /// for IPv4, `show ipv6 route PFX json` for IPv6.
    public static func vtyshCommand(for prefix: PrefixedAddress) -> String {
        "show \(prefix.address.ipv4 == nil ? "ipv6" : "ip") route \(prefix) json"
    }

    public static func entries(inVtyshOutput output: String, prefix: IPv4Network) throws(JSONError) -> [FRRRoute] {
        try entries(inVtyshOutput: output, prefix: PrefixedAddress(prefix))
    }

    /// The entries for exactly `prefix` in vtysh's output of
    /// `vtyshCommand(for: prefix)`; empty when FRR has no route (`{}`).
    ///
    /// vtysh's warnings (such as `% Can't open configuration file
    /// .../vtysh.conf` under a pathspace) land before the JSON when stdout
    /// and stderr share a file, so lines before the first `{` are skipped.
    public static func entries(inVtyshOutput output: String, prefix: PrefixedAddress) throws(JSONError) -> [FRRRoute] {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.first == "{" }) else {
            throw JSONError(reason: "no JSON object in: \(output.prefix(200))")
        }
        let json = lines[start...].joined(separator: "\n")
        let table: [String: [Entry]]
        do {
            table = try JSONDecoder().decode([String: [Entry]].self, from: Data(json.utf8))
        } catch {
            throw JSONError(reason: "\(error)")
        }
        var routes: [FRRRoute] = []
        for (key, entries) in table {
            guard let keyPrefix = PrefixedAddress(key), keyPrefix == prefix else { continue }
            for entry in entries { routes.append(try entry.route(prefix: prefix)) }
        }
        return routes
    }

    /// The entry zebra installed into the kernel, if any: the one whose
    /// nexthops the kernel should have.
    public static func installed(in entries: [FRRRoute]) -> FRRRoute? {
        entries.first { $0.isInstalled }
    }

    /// The fields of one entry ecmpd reads; FRR prints many more.
    private struct Entry: Decodable {
        var `protocol`: String
        var selected: Bool?
        var installed: Bool?
        var nexthops: [Nexthop]?

        struct Nexthop: Decodable {
            var ip: String?
            var afi: String?
            var interfaceName: String?
            var fib: Bool?
            var active: Bool?
        }

        func route(prefix: PrefixedAddress) throws(JSONError) -> FRRRoute {
            var fib: [RouteNexthops.Nexthop] = [], active: [RouteNexthops.Nexthop] = []
            let ipv6 = prefix.address.ipv4 == nil
            for nexthop in nexthops ?? [] {
                var gateway: IPAddress?
                if let ip = nexthop.ip {
                    // A gateway of the other family (RFC 5549) is not one ecmpd's routes use.
                    guard let parsed = IPAddress(ip), (parsed.ipv4 == nil) == ipv6 else {
                        throw JSONError(
                            reason:
                                "nexthop '\(ip)' of \(prefix) (\(self.protocol)) is not an \(ipv6 ? "IPv6" : "IPv4") address"
                        )
                    }
                    gateway = parsed
                }
                let value = RouteNexthops.Nexthop(gateway: gateway, interface: nexthop.interfaceName ?? "")
                if nexthop.fib == true { fib.append(value) }
                if nexthop.active == true { active.append(value) }
            }
            return FRRRoute(
                prefix: prefix, protocolName: self.protocol, isSelected: selected ?? false,
                isInstalled: installed ?? false, fibNexthops: RouteNexthops(fib), activeNexthops: RouteNexthops(active))
        }
    }
}
