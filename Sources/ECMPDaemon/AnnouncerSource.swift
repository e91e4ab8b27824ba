import ECMPCore

/// Whether another director announces a VIP at the moment: the
/// last-announcer guard's input. An answer of nil (not known: vtysh failed,
/// ospfd not running) never holds a withdrawal.
public protocol AnnouncerSource: Sendable {
    func othersAnnounce(_ vips: [IPv4Address]) async -> [IPv4Address: Bool?]
}
