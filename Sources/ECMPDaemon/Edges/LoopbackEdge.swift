import ECMPCore
import ECMPNetlink

/// The addresses on lo, as the controller reads and changes them. The
/// daemon passes `LoopbackAddresses` (rtnetlink); tests pass a fake.
/// Which addresses may change is decided before a call (`LoopbackPlan`).
public protocol LoopbackEdge {
    /// Every IPv4 address on lo, with its prefix length.
    func addresses() throws -> [InterfaceAddress]
    /// Adds `vip/32`; one already there is left in place.
    func add(_ vip: IPv4Address) throws
    /// Removes exactly `vip/32`; false when it was not there.
    @discardableResult
    func remove(_ vip: IPv4Address) throws -> Bool
}

extension LoopbackAddresses: LoopbackEdge {}
