import ECMPCore
import ECMPRouting
import Logging

/// Whether another director announces a VIP at the moment: the
/// last-announcer guard's input. An answer of nil (not known: vtysh failed,
/// ospfd not running) never holds a withdrawal.
public protocol AnnouncerSource: Sendable {
    func othersAnnounce(_ vips: [IPAddress]) async -> [IPAddress: Bool?]
}

/// The guard's source in production, read through vtysh on a thread of its
/// own: ospfd's router-LSAs for IPv4 VIPs, ospf6d's intra-area-prefix LSAs
/// for IPv6 ones, each daemon asked only when a VIP of its family is. Any
/// failure answers "not known" for every VIP of that daemon's family (the
/// other family's answers stand), so a broken vtysh or a stopped daemon
/// never pins a VIP on lo.
public struct LSDBAnnouncers: AnnouncerSource {
    let ospf: OSPFDatabaseReader
    let ospf6: OSPF6DatabaseReader
    let logger: Logger
    private let queue = BlockingQueue(label: "ecmpd.lsdb")

    public init(settings: RoutingDaemonSettings, logger: Logger) {
        ospf = OSPFDatabaseReader(vtysh: settings.vtysh, pathspace: settings.pathspace)
        ospf6 = OSPF6DatabaseReader(vtysh: settings.vtysh, pathspace: settings.pathspace)
        self.logger = logger
    }

    public func othersAnnounce(_ vips: [IPAddress]) async -> [IPAddress: Bool?] {
        let ipv4 = vips.compactMap(\.ipv4)
        let ipv6 = vips.compactMap(\.ipv6)
        var answers: [IPAddress: Bool?] = [:]
        if !ipv4.isEmpty {
            let reader = ospf
            let database = await read("ospfd") { () throws(VtyshQuery.Failure) in try reader.read() }
            for vip in ipv4 { answers.updateValue(database.map { $0.othersAnnounce(vip) }, forKey: .v4(vip)) }
        }
        if !ipv6.isEmpty {
            let reader = ospf6
            let database = await read("ospf6d") { () throws(VtyshQuery.Failure) in try reader.read() }
            for vip in ipv6 { answers.updateValue(database.map { $0.othersAnnounce(vip) }, forKey: .v6(vip)) }
        }
        return answers
    }

    /// One daemon's database, or nil (logged, naming the daemon) when it
    /// cannot be read.
    private func read<Database: Sendable>(
        _ daemon: String, _ work: @escaping @Sendable () throws(VtyshQuery.Failure) -> Database
    ) async -> Database? {
        let outcome = await queue.run { () -> Result<Database, VtyshQuery.Failure> in Result(catching: work) }
        switch outcome {
        case .success(let database): return database
        case .failure(let error):
            logger.warning(
                "last-announcer guard: \(daemon)'s database not readable; not holding",
                metadata: ["daemon": "\(daemon)", "error": "\(error)"])
            return nil
        }
    }
}
