#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Which OSPFv3 routers announce which /128s, from ospf6d's link-state
/// database (FRR 8.4): OSPFv3 router-LSAs carry no prefixes; a router's own
/// prefixes, among them the /128s on its lo, travel in its intra-area-prefix
/// LSAs that reference its router-LSA (RFC 5340 section 4.4.3.9), and the
/// LSA's advertising router is its router-id. The last-announcer guard asks
/// whether anyone but this director still announces an IPv6 VIP.
///
/// Read from two documents of one vtysh run: `show ipv6 ospf6 json` for
/// this ospf6d's router-id, then `show ipv6 ospf6 database intra-prefix
/// detail json` for the LSAs. Intra-area-prefix LSAs that reference a
/// network-LSA count for nothing: the designated router originates them
/// for a whole link, listing its neighbours' link prefixes under its own
/// router-id, so their advertising router is not the prefix's owner.
/// LSAs at MaxAge (3600 s) are being flushed (ospf6d flushes its own on a
/// clean stop) and count for nothing either.
public struct OSPF6PrefixAnnouncements: Sendable, Equatable {
    /// This ospf6d's router-id (`routerId` of `show ipv6 ospf6 json`).
    public var selfRouterID: IPv4Address
    /// Per advertising router, the /128s its router-referenced
    /// intra-area-prefix LSAs carry (all areas).
    public var hosts: [IPv4Address: Set<IPv6Address>]

    public init(selfRouterID: IPv4Address, hosts: [IPv4Address: Set<IPv6Address>]) {
        self.selfRouterID = selfRouterID
        self.hosts = hosts
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { "ospf6d's intra-area-prefix LSA JSON could not be read: \(reason)" }
    }

    public static let maxAge = 3600

    /// Parses vtysh's output of both commands: the two JSON objects in
    /// order, with any text around them skipped (vtysh's warning about a
    /// missing vtysh.conf under a pathspace lands before, between or after
    /// them, depending on buffering).
    public init(vtyshOutput output: String) throws(ParseError) {
        let objects = Self.topLevelObjects(in: output)
        guard objects.count == 2 else {
            throw ParseError(
                reason: "expected 2 JSON objects (ospf6d's summary, then its database), found \(objects.count) in: "
                    + "\(output.prefix(200))")
        }
        let summary: Summary = try Self.decode(objects[0], as: "show ipv6 ospf6 json")
        let database: Database = try Self.decode(objects[1], as: "show ipv6 ospf6 database intra-prefix detail json")
        guard let routerID = summary.routerId.flatMap(IPv4Address.init) else {
            throw ParseError(reason: "routerId: '\(summary.routerId ?? "missing")' is not an IPv4 address")
        }
        var hosts: [IPv4Address: Set<IPv6Address>] = [:]
        for (areaIndex, area) in (database.areaScopedLinkStateDb ?? []).enumerated() {
            for (index, lsa) in (area.lsa ?? []).enumerated()
            where lsa.age < Self.maxAge && lsa.type == "Intra-Prefix" && lsa.reference == "Router" {
                let path = "areaScopedLinkStateDb[\(areaIndex)].lsa[\(index)]"
                guard let router = IPv4Address(lsa.advertisingRouter) else {
                    throw ParseError(
                        reason: "\(path).advertisingRouter: '\(lsa.advertisingRouter)' is not an IPv4 address")
                }
                var announced = hosts[router] ?? []
                for (prefixIndex, entry) in (lsa.prefix ?? []).enumerated() {
                    guard let prefix = IPv6Network(entry.prefix), entry.prefix.contains("/") else {
                        throw ParseError(
                            reason: "\(path).prefix[\(prefixIndex)].prefix: '\(entry.prefix)' is not an IPv6 prefix")
                    }
                    if prefix.prefixLength == 128 { announced.insert(prefix.address) }
                }
                hosts[router] = announced
            }
        }
        self.init(selfRouterID: routerID, hosts: hosts)
    }

    /// The routers announcing `vip` as a /128.
    public func announcers(of vip: IPv6Address) -> Set<IPv4Address> {
        Set(hosts.filter { $0.value.contains(vip) }.keys)
    }

    /// Whether a router other than this one announces `vip`.
    public func othersAnnounce(_ vip: IPv6Address) -> Bool {
        !announcers(of: vip).subtracting([selfRouterID]).isEmpty
    }

    private struct Summary: Decodable {
        var routerId: String?
    }

    private struct Database: Decodable {
        var areaScopedLinkStateDb: [Area]?
    }

    private struct Area: Decodable {
        var lsa: [LSA]?
    }

    private struct LSA: Decodable {
        var age: Int
        var type: String
        var advertisingRouter: String
        var reference: String?
        var prefix: [Prefix]?
    }

    private struct Prefix: Decodable {
        var prefix: String
    }

    /// The top-level `{...}` spans of `text`, in order: braces inside JSON
    /// strings do not count, and text outside every object is skipped.
    static func topLevelObjects(in text: String) -> [Substring] {
        var objects: [Substring] = []
        var depth = 0
        var inString = false
        var escaped = false
        var start = text.startIndex
        for index in text.indices {
            let character = text[index]
            if inString {
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
                continue
            }
            switch character {
            case "\"" where depth > 0: inString = true
            case "{":
                if depth == 0 { start = index }
                depth += 1
            case "}" where depth > 0:
                depth -= 1
                if depth == 0 { objects.append(text[start...index]) }
            default: break
            }
        }
        return objects
    }

    private static func decode<T: Decodable>(_ json: Substring, as command: String) throws(ParseError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        } catch let error as DecodingError {
            throw ParseError(reason: "\(command): \(error.reason)")
        } catch {
            throw ParseError(reason: "\(command): \(error)")
        }
    }
}
