import ECMPCore
import ECMPRouting
import Logging

/// Whether another director announces a VIP at the moment: the
/// last-announcer guard's input. An answer of nil (not known: vtysh failed,
/// ospfd not running) never holds a withdrawal.
public protocol AnnouncerSource: Sendable {
    func othersAnnounce(_ vips: [IPv4Address]) async -> [IPv4Address: Bool?]
}

/// The guard's source in production: ospfd's router-LSAs through vtysh,
/// read on a thread of its own. Any failure answers "not known" for every
/// VIP, so a broken vtysh or a stopped ospfd never pins a VIP on lo.
public struct LSDBAnnouncers: AnnouncerSource {
    let reader: OSPFDatabaseReader
    let logger: Logger
    private let queue = BlockingQueue(label: "ecmpd.lsdb")

    public init(settings: RoutingDaemonSettings, logger: Logger) {
        reader = OSPFDatabaseReader(vtysh: settings.vtysh, pathspace: settings.pathspace)
        self.logger = logger
    }

    public func othersAnnounce(_ vips: [IPv4Address]) async -> [IPv4Address: Bool?] {
        let reader = self.reader
        let outcome = await queue.run { () -> Result<OSPFStubAnnouncements, OSPFDatabaseReader.Failure> in
            Result { () throws(OSPFDatabaseReader.Failure) in try reader.read() }
        }
        switch outcome {
        case .success(let database):
            return Dictionary(uniqueKeysWithValues: vips.map { ($0, database.othersAnnounce($0)) })
        case .failure(let error):
            logger.warning(
                "last-announcer guard: ospfd's database not readable; not holding", metadata: ["error": "\(error)"])
            return Dictionary(uniqueKeysWithValues: vips.map { ($0, Bool?.none) })
        }
    }
}
