import Foundation

/// `<state_dir>/restart-pending`: the package's postinst writes it just
/// before it restarts ecmpd for an upgrade (debian/ecmpd.postinst). The stop
/// that follows reads and removes it, and leaves the VIPs on lo whatever
/// `controller.on_stop` says: the new binary adopts them from lo
/// (`AddressOwnership`), so an upgrade moves no flow. A marker older than
/// `maximumAge` is from a restart that never happened (the unit was not
/// running) and is ignored, so a later plain stop still withdraws.
///
/// The postinst cannot read the config, so it writes the marker into the
/// package's state directory, /var/lib/ecmpd (`packageStateDirectory`); a
/// director whose `node.state_dir` is elsewhere still sees it:
/// `consumeAny` reads both.
public struct RestartMarker: Sendable {
    public static let maximumAge: Duration = .seconds(300)
    public static let packageStateDirectory = "/var/lib/ecmpd"
    public let path: String

    public init(stateDirectory: String) {
        path = "\(stateDirectory)/restart-pending"
    }

    /// True when a fresh marker was there. The marker is removed either way,
    /// so it holds for one stop only.
    public func consume(now: Date = Date()) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let written = attributes[.modificationDate] as? Date
        else { return false }
        try? FileManager.default.removeItem(atPath: path)
        let age = now.timeIntervalSince(written)
        return age >= -60 && age <= Double(Self.maximumAge.components.seconds)
    }

    /// The markers in `stateDirectory` and in the package's; each consumed
    /// (both removed), true when either was fresh.
    public static func consumeAny(
        stateDirectory: String, packageStateDirectory: String = packageStateDirectory, now: Date = Date()
    ) -> Bool {
        let directories = Set([stateDirectory, packageStateDirectory].map { ($0 as NSString).standardizingPath })
        return directories.sorted().map { RestartMarker(stateDirectory: $0).consume(now: now) }.contains(true)
    }
}
