import ECMPCore
import ECMPRouting
import Logging

/// Whether another director announces a VIP at the moment: the
/// last-announcer guard's input. An answer of nil (not known: vtysh failed,
/// ospfd not running) never holds a withdrawal.
public protocol AnnouncerSource: Sendable {
    func othersAnnounce(_ vips: [IPAddress]) async -> [IPAddress: Bool?]
}

/// The guard's source in production: ospfd's router-LSAs through vtysh,
/// read on a thread of its own. Any failure answers "not known" for every
/// VIP, so a broken vtysh or a stopped ospfd never pins a VIP on lo.
/// IPv6 VIPs are not yet looked up in ospf6d's database: their answer is
/// "not known", so the guard never holds them.
public struct LSDBAnnouncers: AnnouncerSource {
    let reader: OSPFDatabaseReader
    let logger: Logger
    private let queue = BlockingQueue(label: "ecmpd.lsdb")

    public init(settings: RoutingDaemonSettings, logger: Logger) {
        reader = OSPFDatabaseReader(vtysh: settings.vtysh, pathspace: settings.pathspace)
        self.logger = logger
    }

    public func othersAnnounce(_ vips: [IPAddress]) async -> [IPAddress: Bool?] {
        let unknown = Dictionary(uniqueKeysWithValues: vips.filter { $0.ipv4 == nil }.map { ($0, Bool?.none) })
        let vips = vips.compactMap(\.ipv4)
        guard !vips.isEmpty else { return unknown }
        let reader = self.reader
        let outcome = await queue.run { () -> Result<OSPFStubAnnouncements, OSPFDatabaseReader.Failure> in
            Result { () throws(OSPFDatabaseReader.Failure) in try reader.read() }
        }
        switch outcome {
        case .success(let database):
            return unknown.merging(vips.map { (.v4($0), database.othersAnnounce($0)) }) { first, _ in first }
        case .failure(let error):
            logger.warning(
                "last-announcer guard: ospfd's database not readable; not holding", metadata: ["error": "\(error)"])
            return unknown.merging(vips.map { (.v4($0), Bool?.none) }) { first, _ in first }
        }
    }
}
