#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Which OSPF routers announce which /32 stubs, from ospfd's link-state
/// database as `show ip ospf database router json` prints it (FRR 8.4):
/// a director announces a VIP as a "Stub Network" link of its router-LSA
/// (the VIP is a /32 on lo, and lo is passive). The last-announcer guard
/// asks whether anyone but this director still announces a VIP.
///
/// Router-LSAs at MaxAge (3600 s) are being flushed and count for nothing.
public struct OSPFStubAnnouncements: Sendable, Equatable {
    /// This ospfd's router-id (`routerId` of the output).
    public var selfRouterID: IPv4Address
    /// Per advertising router, the /32 stubs in its router-LSAs (all areas).
    public var stubs: [IPv4Address: Set<IPv4Address>]

    public init(selfRouterID: IPv4Address, stubs: [IPv4Address: Set<IPv4Address>]) {
        self.selfRouterID = selfRouterID
        self.stubs = stubs
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { "ospfd's router-LSA JSON could not be read: \(reason)" }
    }

    public static let maxAge = 3600

    /// Parses vtysh's output; text around the JSON object (vtysh's
    /// warnings about a missing vtysh.conf under a pathspace land before or
    /// after it, depending on buffering) is skipped.
    public init(vtyshOutput output: String) throws(ParseError) {
        guard let start = output.firstIndex(of: "{"), let end = output.lastIndex(of: "}"), start < end else {
            throw ParseError(reason: "no JSON object in: \(output.prefix(200))")
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(output[start...end].utf8))
        } catch let error as DecodingError {
            throw ParseError(reason: error.reason)
        } catch {
            throw ParseError(reason: "\(error)")
        }
        guard let routerID = IPv4Address(document.routerId) else {
            throw ParseError(reason: "routerId: '\(document.routerId)' is not an IPv4 address")
        }
        var stubs: [IPv4Address: Set<IPv4Address>] = [:]
        for (area, lsas) in document.routerLinkStates?.areas ?? [:] {
            for (index, lsa) in lsas.enumerated() where lsa.lsaAge < Self.maxAge {
                guard let router = IPv4Address(lsa.advertisingRouter) else {
                    throw ParseError(
                        reason:
                            "routerLinkStates.areas.\(area)[\(index)].advertisingRouter: '\(lsa.advertisingRouter)' is not an IPv4 address"
                    )
                }
                var announced = stubs[router] ?? []
                for (name, link) in lsa.routerLinks ?? [:]
                where link.linkType == "Stub Network" && link.networkMask == "255.255.255.255" {
                    guard let address = link.networkAddress.flatMap(IPv4Address.init) else {
                        throw ParseError(
                            reason:
                                "routerLinkStates.areas.\(area)[\(index)].routerLinks.\(name).networkAddress: '\(link.networkAddress ?? "missing")' is not an IPv4 address"
                        )
                    }
                    announced.insert(address)
                }
                stubs[router] = announced
            }
        }
        self.init(selfRouterID: routerID, stubs: stubs)
    }

    /// The routers announcing `vip`.
    public func announcers(of vip: IPv4Address) -> Set<IPv4Address> {
        Set(stubs.filter { $0.value.contains(vip) }.keys)
    }

    /// Whether a router other than this one announces `vip`.
    public func othersAnnounce(_ vip: IPv4Address) -> Bool {
        !announcers(of: vip).subtracting([selfRouterID]).isEmpty
    }

    private struct Document: Decodable {
        var routerId: String
        var routerLinkStates: States?
    }

    private struct States: Decodable {
        var areas: [String: [LSA]]
    }

    private struct LSA: Decodable {
        var lsaAge: Int
        var advertisingRouter: String
        var routerLinks: [String: Link]?
    }

    private struct Link: Decodable {
        var linkType: String
        var networkAddress: String?
        var networkMask: String?
    }
}
