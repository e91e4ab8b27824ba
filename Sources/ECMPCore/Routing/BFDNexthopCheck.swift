/// On the router: the BFD session behind each nexthop of a VIP's route.
/// A nexthop without a session that is up is a director whose failure the
/// router finds only after OSPF's dead interval, so it is a problem; so is
/// a director that sends BFD to a router that runs none (the mismatch in
/// the other direction leaves the same gap).
public struct BFDNexthopCheck: Sendable, Equatable {
    /// What the router's side of BFD said.
    public enum View: Sendable, Equatable {
        /// bfdd answered with its sessions.
        case sessions([BFDSession])
        /// bfdd is not running here; `sendersHeard` are the addresses BFD
        /// control packets came from while ecmpd listened on UDP 3784.
        case notRunning(sendersHeard: [IPv4Address])
        /// Not checked (`--no-bfd`, `--no-frr`, or vtysh failed for another reason).
        case notChecked(reason: String)
    }

    public struct Row: Sendable, Equatable {
        public var gateway: IPv4Address
        public var session: BFDSession?
    }

    public var view: View
    public var rows: [Row]
    public var problems: [String]

    public init(nexthops: RouteNexthops?, view: View) {
        self.view = view
        let gateways = (nexthops?.nexthops ?? []).compactMap(\.gateway?.ipv4)
        switch view {
        case .sessions(let sessions):
            rows = gateways.map { gateway in Row(gateway: gateway, session: sessions.first { $0.peer == gateway }) }
            problems = rows.compactMap { row in
                guard let session = row.session else {
                    return
                        "nexthop \(row.gateway) has no BFD session: its failure is found only after OSPF's dead interval (is ospf.bfd on for this router and that director?)"
                }
                guard session.isUp else {
                    return
                        "nexthop \(row.gateway): BFD session \(session.state.rawValue) (diagnostic \(session.diagnostic)) while it is in the route: the director runs no BFD, so its failure is found only after OSPF's dead interval"
                }
                return nil
            }
        case .notRunning(let senders):
            rows = gateways.map { Row(gateway: $0, session: nil) }
            let sending = gateways.filter(senders.contains)
            problems =
                sending.isEmpty
                ? []
                : [
                    "nexthop\(sending.count == 1 ? "" : "s") \(sending.map(\.description).joined(separator: ", ")) send\(sending.count == 1 ? "s" : "") BFD, but this router runs no bfdd: turn on ospf.bfd here (and bfdd=yes in FRR's daemons file), or a failed director stays in the route for the dead interval"
                ]
        case .notChecked:
            rows = []
            problems = []
        }
    }
}
